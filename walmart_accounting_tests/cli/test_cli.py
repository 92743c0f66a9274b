"""Every subcommand has --help; config check names a bad key; the store commands work on a fresh home."""

import click
import pytest
import yaml
from click.testing import CliRunner

from walmart_accounting.cli.main import cli
from walmart_accounting.domain.config import load_default_config
from walmart_accounting.store.store import Store


def _commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        path = (*prefix, name)
        yield path
        if isinstance(command, click.Group):
            yield from _commands(command, path)


@pytest.mark.parametrize("path", [(), *_commands(cli)], ids=lambda p: " ".join(p) or "(root)")
def test_every_subcommand_has_help(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and len(result.output.splitlines()) > 3


def test_config_check_default_and_bad_file(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(cli, ["config", "check"])
    assert ok.exit_code == 0 and "mapping OK" in ok.output
    data = load_default_config().model_dump(mode="json")
    del data["ledgers"]["xero"]["accounts"]["clearing"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    result = runner.invoke(cli, ["config", "check", str(bad)])
    assert result.exit_code == 2
    assert "ledgers.xero.accounts.clearing: required key is missing" in result.output


def test_show_default_is_a_valid_mapping(tmp_path):
    result = CliRunner().invoke(cli, ["config", "show-default"])
    copy = tmp_path / "mine.yaml"
    copy.write_text(result.output)
    assert CliRunner().invoke(cli, ["config", "check", str(copy)]).exit_code == 0


def test_db_upgrade_then_dead_letters_and_audit(isolated_home):
    runner = CliRunner()
    upgraded = runner.invoke(cli, ["db", "upgrade"])
    assert upgraded.exit_code == 0 and "at revision 0002" in upgraded.output
    assert (isolated_home / "walmart_accounting.sqlite").is_file()
    store = Store.open()
    dl = store.dead_letter("walmart_orders", "PO-9", {"purchaseOrderId": "PO-9"}, "unmapped SKU 'X'")
    store.audit("WM-PO-9", "post", "rejected", "xero", detail="Account code '9999' is not valid")
    listed = runner.invoke(cli, ["dead-letters", "list"])
    assert "PO-9" in listed.output and "unmapped SKU 'X'" in listed.output
    shown = runner.invoke(cli, ["dead-letters", "show", str(dl)])
    assert '"purchaseOrderId": "PO-9"' in shown.output
    assert runner.invoke(cli, ["dead-letters", "show", "999"]).exit_code == 1
    trail = runner.invoke(cli, ["audit", "WM-PO-9"])
    assert trail.exit_code == 0 and "rejected" in trail.output
    assert runner.invoke(cli, ["audit", "WM-NOPE"]).exit_code == 1


def test_commands_on_a_database_behind_the_code_say_to_run_db_upgrade(isolated_home):
    runner = CliRunner()
    for command in (["dead-letters", "list"], ["audit", "WM-1"], ["ping"]):
        result = runner.invoke(cli, command)
        assert result.exit_code == 2, (command, result.output)
        assert "run `walmart-accounting db upgrade`" in result.output and "Traceback" not in result.output
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(cli, ["dead-letters", "list"]).output.strip() == "no dead letters"


def test_secret_key_generates_a_fernet_key():
    from cryptography.fernet import Fernet

    key = CliRunner().invoke(cli, ["secret-key"]).output.strip()
    Fernet(key.encode())


def test_dead_letters_retry_releases_a_posting_for_exactly_one_more_attempt(isolated_home):
    from walmart_accounting.store.store import ClaimOutcome

    runner = CliRunner()
    store = Store.open(migrate=True)
    claim = store.claim_posting("WM-77", "xero", "sales_invoice", "h")
    store.record_dead_lettered(claim, "Account code '9999' is not a valid code")
    letter = store.dead_letter("posting:xero", "WM-77", {"header": {}}, "Account code '9999' is not a valid code")
    assert store.claim_posting("WM-77", "xero", "sales_invoice", "h").outcome is ClaimOutcome.DEAD_LETTERED
    result = runner.invoke(cli, ["dead-letters", "retry", str(letter)])
    assert result.exit_code == 0 and "released" in result.output
    assert store.get_dead_letter(letter).redrive_count == 1
    assert store.claim_posting("WM-77", "xero", "sales_invoice", "h").outcome is ClaimOutcome.CLAIMED
    again = runner.invoke(cli, ["dead-letters", "retry", str(letter)])
    assert again.exit_code == 1 and "not dead-lettered" in again.output
