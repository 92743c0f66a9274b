"""The `walmart-accounting` command: set-up, checks, sandboxes, the demo and operations on the store."""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from pathlib import Path

import click

from walmart_accounting.domain.config import ConfigError, load_config


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Book Walmart Marketplace orders, returns, settlements and inventory into Xero and Exact Online."""


def _open_store():
    """The integration's store, or a clear message and exit status 2 when its schema is behind the code."""
    from walmart_accounting.store.migrate import StoreSchemaError
    from walmart_accounting.store.store import Store

    try:
        return Store.open()
    except StoreSchemaError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


# -- configuration ------------------------------------------------------------------------------


@cli.group()
def config() -> None:
    """Validate and inspect the mapping file."""


@config.command("check")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--ledger", "in_ledgers", is_flag=True,
              help="Also connect to each enabled ledger (stored credentials, as `ping`) and check that every account, "
                   "tax code, item and tracking option the mapping names exists there and is usable.")
def config_check(path: str | None, in_ledgers: bool) -> None:
    """Validate PATH (default: $WALMART_ACCOUNTING_CONFIG or the packaged default) and summarise it."""
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    click.echo(f"seller: {cfg.seller.name} ({cfg.seller.currency})")
    for name, ledger in cfg.enabled_ledgers().items():
        click.echo(f"ledger {name}: {ledger.posting_mode.value}, base currency {ledger.base_currency}")
    click.echo(f"contacts: {cfg.contacts.strategy.value}; rate source: {cfg.rates.source.value}")
    click.echo("mapping OK")
    if in_ledgers:
        from walmart_accounting.cli.connect import check_ledger_references

        sys.exit(0 if check_ledger_references(_open_store(), cfg, click.echo) else 1)


@config.command("show-default")
def config_show_default() -> None:
    """Print the packaged default mapping file, to copy and edit."""
    from importlib import resources

    click.echo(resources.files("walmart_accounting.domain").joinpath("default_mapping.yaml").read_text("utf-8"), nl=False)


# -- store ---------------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """The integration's own database ($WALMART_ACCOUNTING_DB_URL)."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the schema migrations up to the newest, and set the API pools' limits on the Dagster instance."""
    import os

    import dagster as dg

    from walmart_accounting.defs.pools import set_pool_limits
    from walmart_accounting.store.db import database_url, make_engine, redacted
    from walmart_accounting.store.migrate import current_revision, upgrade

    url = database_url()
    engine = make_engine(url)
    upgrade(engine)
    click.echo(f"{redacted(url)} at revision {current_revision(engine)}")
    if not os.environ.get("DAGSTER_HOME"):
        click.echo("DAGSTER_HOME is not set, so the Dagster instance's pool limits were not set: set it and run "
                   "db upgrade again (on PostgreSQL, runs that create a pool at once can fail)", err=True)
        return
    with dg.DagsterInstance.get() as instance:
        limits = set_pool_limits(instance)
    click.echo("Dagster pools: " + ", ".join(f"{pool}={limit}" for pool, limit in limits.items()))


@db.command("current")
def db_current() -> None:
    """Show the database URL (password hidden) and its schema revision."""
    from walmart_accounting.store.db import database_url, make_engine, redacted
    from walmart_accounting.store.migrate import current_revision

    url = database_url()
    click.echo(f"{redacted(url)} at revision {current_revision(make_engine(url)) or '(empty: run db upgrade)'}")


@cli.command("secret-key")
def secret_key() -> None:
    """Generate a key for WALMART_ACCOUNTING_SECRET_KEY (encrypts stored credentials)."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode("ascii"))


# -- API connections -------------------------------------------------------------------------


@cli.command("connect")
@click.argument("ledger", type=click.Choice(["xero", "exact"]))
@click.option("--port", default=8765, show_default=True, type=int, help="Local port of the OAuth redirect (http://localhost:PORT/callback).")
@click.option("--timeout", default=300, show_default=True, type=int, help="Seconds to wait for the consent.")
def connect(ledger: str, port: int, timeout: int) -> None:
    """Give this integration access to a Xero organisation or Exact division (OAuth consent); tokens are stored encrypted."""
    from walmart_accounting.cli.connect import connect_flow, exact_client_from_env, xero_client_from_env
    from walmart_accounting.connectors.errors import ApiError
    from walmart_accounting.defs.resources import MissingSetting

    store = _open_store()
    try:
        client = xero_client_from_env(store) if ledger == "xero" else exact_client_from_env(store)
        connect_flow(client, port, lambda url: click.echo(f"Open this URL to give access:\n  {url}"), timeout)
    except (ApiError, TimeoutError, MissingSetting) as exc:
        click.echo(f"connect {ledger} failed: {exc}", err=True)
        sys.exit(1)
    click.echo(f"{ledger}: connected; tokens stored encrypted in the integration store")


@cli.command("ping")
def ping() -> None:
    """Check every configured API: credentials, tenant or division, scopes and rate-limit headroom."""
    from walmart_accounting.cli.connect import ping_all

    sys.exit(0 if ping_all(_open_store(), click.echo) else 1)


# -- webhooks ------------------------------------------------------------------------------------


@cli.group()
def webhooks() -> None:
    """The webhook receiver (Walmart and Exact Online events into the store's inbox) and its subscriptions."""


@webhooks.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8780, show_default=True, type=int)
def webhooks_serve(host: str, port: int) -> None:
    """Serve POST /webhooks/walmart, /webhooks/exact and GET /healthz; settings from WALMART_WEBHOOK_* and EXACT_WEBHOOK_SECRET."""
    from walmart_accounting.cli.webhooks import serve_from_env

    sys.exit(serve_from_env(_open_store(), host, port, click.echo))


@webhooks.command("subscribe")
@click.argument("url")
def webhooks_subscribe(url: str) -> None:
    """Subscribe the receiver at URL (its public root, e.g. https://hooks.example.com) to Walmart's order and return
    events and Exact's document topics, for each API configured; subscriptions already in place are kept."""
    from walmart_accounting.cli.webhooks import subscribe_all

    sys.exit(0 if subscribe_all(_open_store(), url, click.echo) else 1)


# -- operations ----------------------------------------------------------------------------------


@cli.group("dead-letters")
def dead_letters() -> None:
    """Records that could not be processed, kept with their reason."""


@dead_letters.command("list")
@click.option("--status", default="open", show_default=True, type=click.Choice(["open", "redriven", "resolved", "all"]))
@click.option("--source", default=None, help="Only this source (e.g. walmart_orders, posting:xero).")
def dead_letters_list(status: str, source: str | None) -> None:
    """List dead letters: id, source, record key, partition, status, re-drives, reason."""
    rows = _open_store().dead_letters(status=None if status == "all" else status, source=source)
    if not rows:
        click.echo("no dead letters")
        return
    for row in rows:
        click.echo(f"{row.id}\t{row.source}\t{row.record_key}\t{row.partition_key or '-'}\t{row.status}\t"
                   f"redriven {row.redrive_count}x\t{row.reason}")


@dead_letters.command("show")
@click.argument("dead_letter_id", type=int)
def dead_letters_show(dead_letter_id: int) -> None:
    """Show one dead letter with its full record."""
    row = _open_store().get_dead_letter(dead_letter_id)
    if row is None:
        click.echo(f"no dead letter with id {dead_letter_id}", err=True)
        sys.exit(1)
    click.echo(json.dumps({
        "id": row.id, "source": row.source, "record_key": row.record_key, "partition": row.partition_key,
        "status": row.status, "reason": row.reason, "occurrences": row.occurrences,
        "redrive_count": row.redrive_count, "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(), "record": json.loads(row.record),
    }, indent=2))


def redrive_command(source: str, record: str, partition_key: str | None) -> str:
    """The Dagster command that rebuilds (and posts) a dead letter's partition: its source asset and what follows."""
    if source.startswith("posting:"):
        asset = (json.loads(record) if record else {}).get("asset")
        select = f"+{asset}" if asset else None  # the documents, rebuilt with the current mapping, and their posting
    else:
        # Multi-asset outputs are selected together with their sibling (the orders a return refers to).
        select = {"walmart_returns": "walmart_returns*,walmart_returned_orders*",
                  "walmart_order_refunds": "walmart_order_refunds*,walmart_refunded_orders*"}.get(source, f"{source}*")
    if select is None or not partition_key:
        return ""
    which = f"--partition-range '{partition_key}'" if "..." in partition_key else f"--partition '{partition_key}'"
    return f"dagster asset materialize -m walmart_accounting.definitions --select '{select}' {which}"


@dead_letters.command("retry")
@click.argument("dead_letter_ids", type=int, nargs=-1, required=True)
def dead_letters_retry(dead_letter_ids: tuple[int, ...]) -> None:
    """Re-drive dead letters once their cause is fixed (mapping file, ledger setup, source data).

    A posting dead letter is released so that the next run of its partition rebuilds and posts it
    (exactly once); any dead letter is re-driven by re-running its own partition, and closes (resolved)
    when its record goes through. The command to run is printed.
    """
    store = _open_store()
    failed = False
    for dead_letter_id in dead_letter_ids:
        row = store.get_dead_letter(dead_letter_id)
        if row is None:
            click.echo(f"{dead_letter_id}: no such dead letter", err=True)
            failed = True
            continue
        if row.source.startswith("posting:"):
            ledger = row.source.split(":", 1)[1]
            if row.record_key.endswith("#changed"):
                click.echo(f"{dead_letter_id}: {row.record_key[:-8]} changed after it was posted to {ledger}; "
                           "amend or void it in the ledger first (it is never re-posted automatically)", err=True)
                failed = True
                continue
            if not store.release_for_retry(row.record_key, ledger):
                click.echo(f"{dead_letter_id}: {row.record_key} is not dead-lettered in {ledger} any more", err=True)
                failed = True
                continue
            what = f"{row.record_key} released for {ledger}; rebuilt with the current mapping and posted"
        else:
            what = f"{row.record_key} from {row.source} is processed again"
        store.mark_redriven(dead_letter_id)
        command = redrive_command(row.source, row.record, row.partition_key)
        where = f"partition {row.partition_key}" if row.partition_key else "its partition"
        click.echo(f"{dead_letter_id}: {what} when {where} is next materialized"
                   + (f":\n    {command}" if command else ""))
    sys.exit(1 if failed else 0)


@cli.command("audit")
@click.argument("document_key")
def audit(document_key: str) -> None:
    """Show the posting state and every audit event of a document key."""
    store = _open_store()
    events = store.audit_trail(document_key)
    postings = [p for p in store.postings() if p.document_key == document_key]
    if not events and not postings:
        click.echo(f"nothing recorded for {document_key}")
        sys.exit(1)
    for p in postings:
        click.echo(f"{p.ledger}: {p.status}, external id {p.external_id or '-'}, attempts {p.attempts}, last error {p.last_error or '-'}")
    for e in events:
        click.echo(f"{e.at.isoformat()}\t{e.ledger or '-'}\t{e.action}\t{e.status}\t{e.external_id or '-'}\t{e.correlation_id or '-'}")


# -- sandboxes and demo ------------------------------------------------------------------------


@cli.group()
def sandbox() -> None:
    """Local emulators of the Walmart, Xero and Exact Online APIs."""


@sandbox.command("serve")
# Not 8765: that is the OAuth redirect port `connect` listens on while a sandbox runs.
@click.option("--port", default=8700, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--seed", default=7, show_default=True, type=int, help="Seed of the synthetic seller.")
@click.option("--seller-data", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Serve this folder of your own recorded Walmart data instead of the synthetic seller (see the README).")
def sandbox_serve(port: int, host: str, seed: int, seller_data: Path | None) -> None:
    """Serve all three emulators on one port and print the environment a client needs."""
    from walmart_accounting.sandbox.seller import RecordedDataError
    from walmart_accounting.sandbox.server import SandboxOptions, SandboxServer

    try:
        server = SandboxServer(SandboxOptions(seed=seed, seller_data=seller_data), host=host, port=port)
    except RecordedDataError as exc:
        click.echo(f"seller data refused: {exc}", err=True)
        sys.exit(2)
    server.start()
    seller = server.app.state.walmart.seller
    # The seller trades in a window before today: the code location's partitions start on its first day.
    for name, value in {**server.env(), "WALMART_ACCOUNTING_START_DATE": seller.start.isoformat()}.items():
        click.echo(f"export {name}={value}")
    if seller_data is not None:
        click.echo(f"# {seller.describe()}", err=True)
    else:
        click.echo(f"# the synthetic seller trades from {seller.start} to "
                   f"{seller.start + timedelta(days=seller.days - 1)}", err=True)
    click.echo(f"# sandboxes on {server.url} (Ctrl-C to stop)", err=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


@cli.command("dev", context_settings={"ignore_unknown_options": True})
@click.argument("dagster_args", nargs=-1, type=click.UNPROCESSED)
def dev(dagster_args: tuple[str, ...]) -> None:
    """Start `dagster dev` on this code location; with no Walmart credentials set, on in-process sandboxes."""
    import os
    import shutil
    import subprocess
    import tempfile

    env = dict(os.environ)
    server = None
    if not os.environ.get("WALMART_CLIENT_ID"):
        import requests

        from walmart_accounting.cli.connect import connect_flow, exact_client_from_env, xero_client_from_env
        from walmart_accounting.sandbox.server import SandboxServer
        from walmart_accounting.store.db import state_dir
        from walmart_accounting.store.store import Store

        server = SandboxServer().start()
        env.update(server.env())
        os.environ.update(server.env())
        # The sandboxes start empty, so Dagster's storage and the integration store start empty too: runs and
        # postings in the UI are always ones these sandboxes saw (never the demo's or an earlier session's).
        home = Path(os.environ.get("DAGSTER_HOME") or state_dir()).resolve() / "sandbox"
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        settings = Path(os.environ.get("DAGSTER_HOME") or "") / "dagster.yaml"
        shutil.copy(settings if settings.is_file() else Path(__file__).parents[2] / "dagster.yaml", home / "dagster.yaml")
        env["DAGSTER_HOME"] = str(home)
        dev_db = home / "walmart_accounting.sqlite"
        env["WALMART_ACCOUNTING_DB_URL"] = os.environ["WALMART_ACCOUNTING_DB_URL"] = f"sqlite:///{dev_db}"
        store = Store.open(migrate=True)
        for client in (xero_client_from_env(store), exact_client_from_env(store)):
            connect_flow(client, 0, lambda url: requests.get(url, timeout=30).raise_for_status(), timeout_s=30)
        # The sandbox seller trades in a window before today; the partitions start on its first day.
        env["WALMART_ACCOUNTING_START_DATE"] = server.app.state.walmart.seller.start.isoformat()
        seller = server.app.state.walmart.seller
        last = seller.start + timedelta(days=seller.days - 1)
        click.echo(f"sandboxes on {server.url}; Walmart, Xero and Exact point there, ledgers connected", err=True)
        click.echo(f"the sandbox seller trades from {seller.start} to {last}. Schedules and sensors start stopped: "
                   "backfill walmart_orders and walmart_returns from the first partition, then turn on the "
                   "new_settlement_reports sensor (a settlement posts once the orders it pays are invoiced)", err=True)
        click.echo("for walmart-accounting commands in another shell (dead-letters, audit), run first:\n"
                   f"    export DAGSTER_HOME={home} WALMART_ACCOUNTING_DB_URL={env['WALMART_ACCOUNTING_DB_URL']}", err=True)
    else:
        from walmart_accounting.store.migrate import upgrade

        upgrade()  # `make dev` brings the integration's database to the code's schema
    try:
        # A workspace file names the code location `walmart_accounting` (with `-m` it would be the module's path).
        workspace = Path(tempfile.mkdtemp(prefix="walmart_accounting_dev_")) / "workspace.yaml"
        workspace.write_text("load_from:\n  - python_module:\n      module_name: walmart_accounting.definitions\n"
                             "      location_name: walmart_accounting\n", encoding="utf-8")
        code = subprocess.call([sys.executable, "-m", "dagster", "dev", "-w", str(workspace), *dagster_args], env=env)
    finally:
        if server is not None:
            server.stop()
    sys.exit(code)


@cli.command("simulate")
@click.option("--days", default=28, show_default=True, type=int, help="Days the synthetic seller trades (two settlements need 26).")
@click.option("--step-hours", default=1, show_default=True, type=int, help="How far the clock moves between two ticks.")
@click.option("--polling-only", is_flag=True, help="No webhooks: only walmart_changes finds what happened.")
@click.option("--swap-modes", is_flag=True, help="Xero in settlement_summary and Exact in per_order (the default the other way round).")
def simulate(days: int, step_hours: int, polling_only: bool, swap_modes: bool) -> None:
    """Weeks of production on the sandboxes, tick by tick, through the real sensors and schedules; exits 0 only if the books tie out."""
    from walmart_accounting.cli.simulate import run_simulation

    modes = {"xero": "settlement_summary", "exact": "per_order"} if swap_modes else None
    sys.exit(run_simulation(click.echo, days=days, step_hours=step_hours, webhooks=not polling_only, modes=modes))


@cli.command("demo")
@click.option("--seller-data", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Run on this folder of your own recorded Walmart data instead of the synthetic seller (see the README).")
@click.option("--executor", type=click.Choice(["default", "celery"]), default="default", show_default=True,
              help="celery: run the jobs' steps on two Celery worker processes (RabbitMQ on localhost, or "
                   "WALMART_ACCOUNTING_CELERY_BROKER), with Dagster's storage on PostgreSQL (DAGSTER_PG_URL).")
def demo(seller_data: Path | None, executor: str) -> None:
    """Run the end-to-end path on the sandboxes and report; exits non-zero unless everything reconciles."""
    from walmart_accounting.cli.demo import run_demo

    sys.exit(run_demo(click.echo, seller_data=seller_data, executor=executor))


if __name__ == "__main__":
    cli()
