"""`connect` stores tokens after a real consent round trip; `ping` names what is wrong for each API."""

import pytest
import requests

from walmart_accounting.cli.connect import connect_flow, exact_client_from_env, ping_all, xero_client_from_env
from walmart_accounting.connectors.errors import ApiError
from walmart_accounting.connectors.tokens import MemoryTokenStore
from walmart_accounting.sandbox.server import SandboxServer


@pytest.fixture
def sandbox_env(monkeypatch):
    with SandboxServer() as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        yield server


def _ping(store) -> tuple[bool, str]:
    lines: list[str] = []
    healthy = ping_all(store, lines.append)
    return healthy, "\n".join(lines)


def test_connect_then_ping_everything(sandbox_env):
    store = MemoryTokenStore()
    for client in (xero_client_from_env(store), exact_client_from_env(store)):
        connect_flow(client, 0, lambda url: requests.get(url, timeout=10), timeout_s=10)
    healthy, text = _ping(store)
    assert healthy, text
    assert "walmart: OK" in text and "orders:full_access" in text
    assert "xero: OK, organisation" in text and "exact: OK" in text and "minute_remaining" in text


def test_ping_explains_each_failure(sandbox_env, monkeypatch):
    store = MemoryTokenStore()
    connect_flow(exact_client_from_env(store), 0, lambda url: requests.get(url, timeout=10), timeout_s=10)
    monkeypatch.setenv("WALMART_CLIENT_SECRET", "not-the-secret")
    monkeypatch.setenv("EXACT_BASE_URL", sandbox_env.url + "/nowhere")  # the wrong country host
    healthy, text = _ping(store)
    assert not healthy
    assert "walmart: FAILED" in text and "WALMART_CLIENT_SECRET" in text and "not-the-secret" not in text
    assert "xero: FAILED" in text and "connect xero" in text  # never consented
    assert "exact: FAILED" in text and "EXACT_BASE_URL" in text


def test_consent_with_a_forged_state_is_refused(sandbox_env):
    client = xero_client_from_env(MemoryTokenStore())

    def tamper(url: str) -> None:
        requests.get(url.replace("state=", "state=forged"), timeout=10)

    with pytest.raises(ApiError, match="state does not match"):
        connect_flow(client, 0, tamper, timeout_s=10)


def test_connect_on_a_taken_port_says_so_instead_of_a_traceback(sandbox_env):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ApiError, match=f"port {port} for the OAuth redirect .* taken by another program"):
            connect_flow(xero_client_from_env(MemoryTokenStore()), port, lambda url: None, timeout_s=1)


def test_ping_names_a_dead_host_a_store_never_connected_and_a_wrong_secret_behind_a_valid_token(sandbox_env, monkeypatch):
    import socket

    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{spare.getsockname()[1]}/walmart"
    monkeypatch.setenv("WALMART_BASE_URL", dead)  # nothing listens there
    healthy, text = _ping(MemoryTokenStore())
    assert not healthy and f"nothing answered at {dead}" in text and "WALMART_BASE_URL" in text
    assert "xero: FAILED" in text and "connect xero" in text and "revoked" not in text  # never connected

    store = MemoryTokenStore()
    connect_flow(xero_client_from_env(store), 0, lambda url: requests.get(url, timeout=10), timeout_s=10)
    monkeypatch.setenv("XERO_CLIENT_SECRET", "not-the-secret")  # the access token is still valid
    healthy, text = _ping(store)
    assert "xero: FAILED" in text and "XERO_CLIENT_SECRET" in text and "not-the-secret" not in text


# -- config check --ledger: the mapping against what each connected sandbox ledger holds ------------------


@pytest.fixture(scope="module")
def connected(tmp_path_factory):
    """One sandbox for the module, both ledgers connected once into one store (the tokens stay valid)."""
    from cryptography.fernet import Fernet

    from walmart_accounting.store.store import Store

    home = tmp_path_factory.mktemp("ledger_check")
    with SandboxServer() as server:
        env = {**server.env(), "DAGSTER_HOME": str(home), "WALMART_ACCOUNTING_DB_URL": f"sqlite:///{home}/store.sqlite",
               "WALMART_ACCOUNTING_SECRET_KEY": Fernet.generate_key().decode()}
        with pytest.MonkeyPatch.context() as patch:  # only while connecting: each test sets the env again
            for name, value in env.items():
                patch.setenv(name, value)
            store = Store.open(migrate=True)
            for client in (xero_client_from_env(store), exact_client_from_env(store)):
                connect_flow(client, 0, lambda url: requests.get(url, timeout=10), timeout_s=10)
            store.dispose()
        yield server, env


@pytest.fixture
def ledger_env(connected, monkeypatch):
    server, env = connected
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return server


def _check(*args: str):
    from click.testing import CliRunner

    from walmart_accounting.cli.main import cli

    return CliRunner().invoke(cli, ["config", "check", *args, "--ledger"])


def test_config_check_ledger_finds_everything_the_default_mapping_names(ledger_env):
    # Exact pads VAT codes ("0  "): the mapping's "0" must match it.
    assert "0  " in {r["Code"] for r in ledger_env.app.state.exact.records("vat/VATCodes")}
    result = _check()
    assert result.exit_code == 0, result.output
    xero = ledger_env.app.state.xero
    assert f"xero: OK, all 26 references of the mapping are in Xero organisation {xero.tenant_name} ({xero.tenant_id})" \
        in result.output
    assert f"exact: OK, all 26 references of the mapping are in Exact division {ledger_env.app.state.exact.division}" \
        in result.output


def test_config_check_ledger_names_each_missing_or_unusable_reference_by_its_key(ledger_env, tmp_path):
    import yaml

    from walmart_accounting.connectors.xero import ACCOUNTING
    from walmart_accounting.domain.config import load_default_config
    from walmart_accounting.store.store import Store

    store = Store.open()
    xero_client = xero_client_from_env(store)
    [created] = xero_client.create("Accounts", [{"Code": "4999", "Name": "Old Walmart Sales", "Type": "SALES"}],
                                   document_keys=["4999"])
    account_id = created.element["AccountID"]
    [archived] = xero_client.create("Accounts", [{"Status": "ARCHIVED"}], document_keys=["4999-archive"],
                                    method="POST", path=f"{ACCOUNTING}/Accounts/{account_id}")
    assert created.ok and archived.ok
    store.dispose()

    data = load_default_config().model_dump(mode="json")
    data["tracking"]["option"] = "Amazon"
    xero, exact = data["ledgers"]["xero"], data["ledgers"]["exact"]
    xero["accounts"]["fees"]["commission"] = "6999"
    xero["accounts"]["clearing"] = "1260"  # the reserve: a CURRENT account, so no payments or transfers from it
    xero["skus"]["default"]["account"] = "4999"
    xero["tax_codes"]["seller_remitted"]["PR"] = "TAX999"
    xero["skus"]["items"]["WM-SKU-0002"]["item_code"] = "WM-NOPE"
    exact["accounts"]["fees"]["commission"] = "4699"
    exact["accounts"]["clearing"] = "1260"  # no bank journal books to it
    exact["tax_codes"]["facilitator"] = "9"
    exact["skus"]["default"]["cost_center"] = "XX"
    exact["sales_journal"] = "21"  # the clearing account's bank journal
    exact.update(stock_tracked_items=True, charge_item="WM-NOCHARGE")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(yaml.safe_dump(data))

    result = _check(str(mapping))
    assert result.exit_code == 1, result.output
    state = ledger_env.app.state
    in_xero = f"Xero organisation {state.xero.tenant_name} ({state.xero.tenant_id})"
    in_exact = f"Exact division {state.exact.division}"
    expected = [
        f"ledgers.xero.accounts.clearing: account 1260 in {in_xero} is of type CURRENT; Xero takes payments and bank "
        "transfers only from BANK accounts",
        f"ledgers.xero.accounts.fees.commission: account 6999 does not exist in {in_xero}",
        f"ledgers.xero.skus.default.account: account 4999 in {in_xero} is archived",
        f"ledgers.xero.tax_codes.seller_remitted.PR: tax code TAX999 does not exist in {in_xero}",
        f"ledgers.xero.skus.items.WM-SKU-0002.item_code: item WM-NOPE does not exist in {in_xero}",
        f"tracking: tracking option Sales Channel / Amazon does not exist in {in_xero}",
        "xero: 6 of 26 references missing or unusable",
        f"ledgers.exact.accounts.clearing: account 1260 in {in_exact} has no bank or cash journal; payments and "
        "payouts are bank entries in the clearing account's journal",
        f"ledgers.exact.accounts.fees.commission: account 4699 does not exist in {in_exact}",
        f"ledgers.exact.tax_codes.facilitator: tax code 9 does not exist in {in_exact}",
        f"ledgers.exact.charge_item: item WM-NOCHARGE does not exist in {in_exact}",
        f"ledgers.exact.skus.default.cost_center: cost center XX does not exist in {in_exact}",
        f"tracking.option: cost unit Amazon does not exist in {in_exact}",
        f"ledgers.exact.sales_journal: journal 21 in {in_exact} is not a sales journal (type 12)",
        "exact: 7 of 27 references missing or unusable",
    ]
    for line in expected:
        assert line in result.output, result.output
    assert len([line for line in result.output.splitlines() if line.startswith(("ledgers.", "tracking"))]) == 13
    assert "tax_codes.no_tax" not in result.output  # "0" matches Exact's padded "0  "
