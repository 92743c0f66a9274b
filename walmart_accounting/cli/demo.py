"""`make demo`: the end-to-end path on in-process sandboxes, reported step by step, failing loudly on anything missing."""

from __future__ import annotations

import os
import shutil
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Callable

import requests

Echo = Callable[[str], None]
ZERO = Decimal("0.00")


class _Step:
    def __init__(self, echo: Echo, title: str):
        self.echo = echo
        self.started = time.monotonic()
        echo(f"==> {title}")

    def ok(self, detail: str = "") -> None:
        self.echo(f"    ok ({time.monotonic() - self.started:.1f} s){': ' + detail if detail else ''}")


def run_demo(echo: Echo, seller_data: Path | None = None, instance=None, executor: str = "default") -> int:
    """Run every step that exists (on `seller_data`, a folder of recorded Walmart data, when given); 0 only if it reconciled.

    The runs go to `instance` when given (one on disk keeps them for the UI), else to an in-memory one. With
    `executor="celery"` the jobs' steps run on two Celery worker processes, Dagster's storage on PostgreSQL.
    """
    import dagster as dg

    from walmart_accounting.cli.connect import (
        connect_flow,
        exact_client_from_env,
        ping_all,
        walmart_client_from_env,
        xero_client_from_env,
    )
    from walmart_accounting.definitions import build_defs
    from walmart_accounting.domain.config import load_config
    from walmart_accounting.sandbox.seller import RecordedDataError
    from walmart_accounting.sandbox.server import SandboxOptions, SandboxServer
    from walmart_accounting.store.db import redacted
    from walmart_accounting.store.store import Store

    step = _Step(echo, "mapping configuration")
    cfg = load_config()
    step.ok(f"{cfg.seller.name}; ledgers {', '.join(f'{n} ({ledger.posting_mode.value})' for n, ledger in cfg.enabled_ledgers().items())}")

    step = _Step(echo, "integration store (a fresh one for this demo: the sandboxes start empty)")
    demo_db = Path(os.environ.get("DAGSTER_HOME") or ".dagster_home") / "demo" / "walmart_accounting.sqlite"
    demo_db.parent.mkdir(parents=True, exist_ok=True)
    demo_db.unlink(missing_ok=True)
    os.environ["WALMART_ACCOUNTING_DB_URL"] = f"sqlite:///{demo_db.resolve()}"
    reports_dir = demo_db.parent / "reports"  # this demo's reports only
    shutil.rmtree(reports_dir, ignore_errors=True)
    os.environ["WALMART_ACCOUNTING_REPORTS_DIR"] = str(reports_dir.resolve())
    store = Store.open(migrate=True)
    step.ok(redacted(str(store.engine.url)))

    step = _Step(echo, "sandboxes (Walmart, Xero, Exact Online) on a local HTTP server")
    try:
        server = SandboxServer(SandboxOptions(seller_data=seller_data))
    except RecordedDataError as exc:
        echo(f"    FAILED: seller data refused: {exc}")
        return 2
    server.start()
    os.environ.update(server.env())
    seller = server.app.state.walmart.seller
    step.ok(f"{server.url}; " + (seller.describe() if seller_data is not None
                                 else f"synthetic seller {seller.start} + {seller.days} days"))
    try:
        step = _Step(echo, "connect Xero and Exact Online (OAuth consent, tokens stored encrypted)")
        for client in (xero_client_from_env(store), exact_client_from_env(store)):
            connect_flow(client, 0, lambda url: requests.get(url, timeout=30).raise_for_status(), timeout_s=30)
        step.ok()

        step = _Step(echo, "ping every API")
        if not ping_all(store, lambda line: echo(f"    {line}")):
            echo("    FAILED: an API did not answer as expected")
            return 1
        step.ok()

        step = _Step(echo, "read Walmart: orders, returns, settlement reports")
        walmart = walmart_client_from_env()
        since = datetime.combine(seller.start, datetime.min.time(), UTC)
        orders = sum(1 for _ in walmart.iter_orders(created_start=since, created_end=since + timedelta(days=seller.days + 1)))
        returns = sum(1 for _ in walmart.iter_returns(created_start=since))
        reports = walmart.available_recon_dates()
        echo(f"    {orders} orders, {returns} returns, {len(reports)} settlement report(s); {walmart.calls} Walmart API calls")
        for report_date in reports:
            rows = walmart.recon_report_rows(report_date)
            summary = [r for r in rows if r.get("Transaction Type") == "PaymentSummary"]
            detail_sum = sum((Decimal(r["Amount"]) for r in rows if r.get("Transaction Type") != "PaymentSummary"), Decimal(0))
            payable = Decimal(summary[0]["Total Payable"]) if summary else None
            status = "ties out" if payable == detail_sum else "DOES NOT TIE OUT"
            echo(f"    settlement {report_date}: {len(rows)} rows, payout {payable} USD, rows sum {detail_sum} USD: {status}")
            if payable != detail_sum:
                echo(f"    FAILED: report {report_date} does not tie out: its rows sum to {detail_sum} USD but its "
                     f"PaymentSummary pays {payable} USD")
                return 1
        if orders == 0 or not reports:
            echo("    FAILED: the seller should have orders and closed settlements")
            return 1
        step.ok()

        step = _Step(echo, "build the ledger documents through Dagster (orders, returns, settlements)")
        # Dagster's storage in memory: its runs are the demo's alone (never mixed with `make dev`'s), and SQLite
        # event storage, writing each of a range run's thousands of events on its own connection, is 3x slower.
        distributed = executor == "celery"
        if distributed:
            instance = _distributed_instance(demo_db.parent, echo)
            # The workers build the code location from the environment: the same start date, the same executor.
            os.environ.update({"WALMART_ACCOUNTING_START_DATE": seller.start.isoformat(),
                               "WALMART_ACCOUNTING_EXECUTOR": "celery"})
        instance = instance or dg.DagsterInstance.ephemeral()
        # The demo's partitions start on the seller's first day (synthetic or recorded), whatever the environment says.
        defs = build_defs(start=seller.start)
        if distributed:
            from walmart_accounting.cli.workers import celery_workers

            with celery_workers(2) as workers:
                echo(f"    Celery workers {', '.join(w.name for w in workers)} (separate processes)")
                outcome = _materialize_window(defs, instance, seller, echo, distributed=True)
            echo("    Celery workers stopped")
        else:
            outcome = _materialize_window(defs, instance, seller, echo)
        if outcome is None:
            return 1
        summary, documents = outcome
        step.ok(summary)

        step = _Step(echo, "what was posted (the same runs posted every document through the exactly-once engine)")
        reconciled = _posting_summary(store, server, seller, echo, cfg, documents)
        step.ok()

        step = _Step(echo, "reports an analyst reads (in the Dagster UI: the assets of group `reports`)")
        for report in sorted(reports_dir.glob("*/settlements/*.md")):
            ties = "Does NOT tie out" not in report.read_text(encoding="utf-8")
            echo(f"    {report.parent.parent.name} settlement {report.stem}: "
                 f"{'every category agrees with Walmart' if ties else 'FAILED: categories differ from Walmart'}; "
                 f"{report.with_suffix('.csv').name}, {report.with_suffix('.png').name}")
            reconciled = reconciled and ties
        echo(f"    in {reports_dir.resolve()}")
        reconciled = _health(defs, instance, echo) and reconciled
        step.ok()
        echo("==> RECONCILED: every payout is in the bank, the clearing and reserve accounts are at zero and the "
             "facilitator-tax accounts hold only the tax of documents no settlement has paid yet" if reconciled
             else "==> NOT RECONCILED: see the lines marked FAILED above")
        return 0 if reconciled else 1
    finally:
        server.stop()


def _distributed_instance(folder: Path, echo: Echo):
    """A Dagster instance on PostgreSQL (a fresh database each time), which every Celery worker opens by reference."""
    import dagster as dg
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(os.environ.get("DAGSTER_PG_URL") or "postgresql+psycopg2://postgres@127.0.0.1:5432/walmart_accounting_demo")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    from walmart_accounting.store.crypto import key_file
    from walmart_accounting.store.db import state_dir

    home = folder / "dagster"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parents[2] / "deploy" / "dagster-postgres.yaml", home / "dagster.yaml")
    if key_file(state_dir()).exists():  # the workers decrypt the ledger tokens this demo stored, with the same key
        shutil.copy2(key_file(state_dir()), key_file(home))
    os.environ.update({"DAGSTER_HOME": str(home.resolve()), "DAGSTER_PG_URL": url.render_as_string(hide_password=False)})
    instance = dg.DagsterInstance.get()
    for pool in ("walmart_api", "xero_api", "exact_api"):
        instance.event_log_storage.initialize_concurrency_limit_to_default(pool)
    echo(f"    Dagster's storage: PostgreSQL database {url.database}")
    return instance


@contextmanager
def _run(defs, instance, job_name: str, tags: dict, partition: str | None, distributed: bool):
    """One job run: in this process, or (distributed) launched from the code location with its steps on the workers."""
    import dagster as dg

    run_config = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    if not distributed:
        yield defs.resolve_job_def(job_name).execute_in_process(instance=instance, tags=tags, partition_key=partition,
                                                                raise_on_error=False, run_config=run_config)
        return
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    job = ReconstructableRepository.for_module("walmart_accounting.definitions", "defs").get_reconstructable_job(job_name)
    with dg.execute_job(job, instance=instance, run_config=run_config, raise_on_error=False,
                        tags={**tags, **({"dagster/partition": partition} if partition else {})}) as result:
        yield result


def _stored(asset: str, partition: str | None) -> list:
    """The frames the IO manager stored for an asset (one partition's, or every partition's)."""
    import dagster as dg

    from walmart_accounting.defs.io import FrameIOManager

    stored = FrameIOManager().create_io_manager(None)
    if partition is None:
        return stored.stored_frames(dg.AssetKey(asset))
    # Partition keys sort as themselves: [key, key + a character) holds exactly that key.
    return stored.stored_frames(dg.AssetKey(asset), partition, partition + "\x00")


def _materialize_window(defs, instance, seller, echo: Echo, distributed: bool = False):
    """Run the orders, returns and settlements jobs over the seller's window: (summary, documents), None on failure."""
    import pandas as pd

    from walmart_accounting.defs.walmart.partitions import range_tags
    from walmart_accounting.domain.money import format_cents
    from walmart_accounting.transform.reconcile import document_totals

    first = datetime.combine(seller.start, datetime.min.time(), UTC)
    last_day = first + timedelta(days=seller.days - 1)
    runs = [
        ("walmart_orders_job", range_tags(first.strftime("%Y-%m-%d-%H:00"),
                                          (last_day + timedelta(hours=23)).strftime("%Y-%m-%d-%H:00")), None),
        ("walmart_returns_job", range_tags(first.strftime("%Y-%m-%d"), last_day.strftime("%Y-%m-%d")), None),
    ]
    reports = sorted(s.report_date for s in seller.settlements)
    instance.add_dynamic_partitions("walmart_settlement_reports", reports)
    runs += [("walmart_settlements_job", {}, report) for report in reports]
    documents: list[pd.DataFrame] = []
    failed_checks: list[str] = []
    for job_name, tags, partition in runs:
        started = time.monotonic()
        with _run(defs, instance, job_name, tags, partition, distributed) as result:
            checks = result.get_asset_check_evaluations()
            failed = [f"{c.asset_key.to_user_string()}.{c.check_name}" for c in checks if not c.passed]
            failed_checks += failed
            echo(f"    {job_name}{' ' + partition if partition else ''}: run {result.run_id[:8]} "
                 f"{'succeeded' if result.success else 'FAILED'} in {time.monotonic() - started:.1f} s; "
                 f"{len(checks) - len(failed)}/{len(checks)} checks passed")
            if distributed:
                from walmart_accounting.cli.workers import step_workers

                for step, worker in sorted(step_workers(instance, result.run_id).items()):
                    echo(f"      {step}: on {worker}")
            if not result.success:
                return None
            for node, output_name in _document_outputs(defs, job_name):
                if distributed:  # the workers wrote them: read back what the run stored (the demo's storage is fresh)
                    frames = _stored(node, partition)
                else:
                    value = result.output_for_node(node, output_name)
                    frames = list(value.values()) if isinstance(value, dict) else [value]
                documents += [f for f in frames if f is not None and len(f)]
    if failed_checks:
        echo(f"    FAILED checks: {', '.join(failed_checks)}")
        return None
    frame = pd.concat(documents, ignore_index=True) if documents else pd.DataFrame()
    if documents:
        totals = document_totals(frame)
        for (ledger, kind), group in totals.groupby(["ledger", "document_kind"]):
            echo(f"    {ledger}: {len(group)} {kind.replace('_', ' ')}(s), {format_cents(group['total_cents'].sum(), thousands=True)} USD")
    return f"{len(documents)} document frame(s)", frame


def _health(defs, instance, echo: Echo) -> bool:
    """Materialize `integration_health` and `open_dead_letters` as their hourly schedule would; True if posting keeps up."""
    result = defs.resolve_job_def("integration_health_job").execute_in_process(
        instance=instance, raise_on_error=False, run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
    keeps_up = result.success and all(c.passed for c in result.get_asset_check_evaluations())
    health = result.output_for_node("integration_health") if result.success else None
    for row in ([] if health is None else health.to_dict("records")):
        echo(f"    health {row['ledger']}: {row['posted']} posted, {row['waiting']} waiting, {row['failed']} failed, "
             f"{row['dead_lettered']} dead-lettered; {row['calls_left_today']} of {row['day_limit']} calls left today")
    echo(f"    posting_keeps_up: {'passed' if keeps_up else 'FAILED'}")
    return keeps_up


def _document_outputs(defs, job_name: str) -> list[tuple[str, str]]:
    """(node, output) of the job's document assets (each ledger's group `<ledger>_documents`), whose frames the demo totals."""
    documents = {spec.key.to_user_string() for spec in defs.resolve_all_asset_specs()
                 if (spec.group_name or "").endswith("_documents")}
    nodes = defs.resolve_job_def(job_name).graph.node_dict
    # A multi-asset names its output after the asset; a plain asset's output is "result".
    return [(name, name if any(o.name == name for o in nodes[name].definition.output_defs) else "result")
            for name in nodes if name in documents]


def _posting_summary(store, server, seller, echo: Echo, cfg, documents) -> bool:
    """Documents posted per ledger and kind, dead letters, API calls, payout versus books; True if it all ties out."""
    from collections import Counter

    from walmart_accounting.domain.documents import DocumentKind

    ok = True
    postings = store.postings()
    counts = Counter((p.ledger, p.document_kind, p.status) for p in postings)
    for (ledger, kind, status), n in sorted(counts.items()):
        echo(f"    {ledger}: {n} {kind.replace('_', ' ')}(s) {status.replace('_', ' ')}")
        if status != "posted":
            ok = False
    letters = store.dead_letters()
    echo(f"    dead letters: {len(letters)}")
    for letter in letters[:10]:
        echo(f"      {letter.source} {letter.record_key}: {letter.reason}")
    ok = ok and not letters
    requests_log = server.options.requests
    echo(f"    API calls: walmart {requests_log.total('walmart')}, xero {requests_log.total('xero')}, "
         f"exact {requests_log.total('exact')}")
    config_ledgers = {p.ledger for p in postings}
    currency = cfg.seller.currency
    payouts = Decimal(sum(s.total_payable_cents for s in seller.settlements)).scaleb(-2)
    for settlement in seller.settlements:
        payout = Decimal(settlement.total_payable_cents).scaleb(-2)
        transfers = [p for p in postings if p.document_kind == DocumentKind.TRANSFER and settlement.report_date in p.document_key]
        posted = {p.ledger for p in transfers if p.status == "posted"}
        verdict = "posted to " + ", ".join(sorted(posted)) if posted == config_ledgers else "FAILED: transfer missing"
        ok = ok and posted == config_ledgers
        echo(f"    settlement {settlement.report_date}: payout {payout} {currency}; transfer {verdict}")
    held = Decimal(_reserve_held_cents(seller.settlements)).scaleb(-2)
    pending = _unsettled_facilitator_tax(documents)
    xero, exact = server.app.state.xero, server.app.state.exact
    # (money in a bank account, balance of any account): debit positive, so a liability in credit is negative
    readers = {"xero": (xero.account_balance, xero.ledger_balance), "exact": (exact.gl_balance, exact.gl_balance)}
    for ledger, (bank_balance, balance) in readers.items():
        if ledger not in config_ledgers:
            continue
        accounts = cfg.ledger(ledger).accounts
        for name, actual, expected in [(f"{ledger} clearing {accounts.clearing}", bank_balance(accounts.clearing), ZERO),
                                       (f"{ledger} bank {accounts.bank}", bank_balance(accounts.bank), payouts)]:
            good = actual == expected
            ok = ok and good
            echo(f"    {name}: {actual} {currency}, expected {expected} {currency}{'' if good else '  FAILED'}")
        # The reserve account holds exactly what Walmart still withholds after the last report (nothing once released).
        reserve = balance(accounts.reserve)
        good = reserve == held
        ok = ok and good
        why = "what Walmart still withholds: no report within the data releases it" if held else "nothing is withheld"
        echo(f"    {ledger} reserve {accounts.reserve}: {reserve} {currency}, expected {held} {currency} ({why})"
             f"{'' if good else '  FAILED'}")
        facilitator = -balance(accounts.facilitator_tax)
        cents, open_documents = pending.get(ledger, (0, 0))
        expected = Decimal(cents).scaleb(-2)
        good = facilitator == expected
        ok = ok and good
        whose = (f"the facilitator tax of {open_documents} document(s) no settlement has paid yet" if open_documents
                 else "every document is settled")
        echo(f"    {ledger} facilitator tax {accounts.facilitator_tax}: holds {facilitator} {currency}, expected {expected} "
             f"{currency} ({whose}){'' if good else '  FAILED'}")
    return ok


def _reserve_held_cents(settlements) -> int:
    """What Walmart still holds back after the last report: minus the sum of its Reserve and Release Reserve rows."""
    from walmart_accounting.domain.money import minor_from_api
    from walmart_accounting.transform.documents import RESERVE_TYPES

    kinds = {kind.lower() for kind in RESERVE_TYPES}
    return -sum(minor_from_api(row["Amount"].strip(), (row.get("Currency") or "USD").strip().upper() or "USD")
                for settlement in settlements for row in settlement.rows
                if str(row.get("Transaction Type") or "").strip().lower() in kinds)


def _unsettled_facilitator_tax(documents) -> dict[str, tuple[int, int]]:
    """Per ledger: the facilitator tax the books owe on invoices and credit notes no settlement has paid yet, and how many.

    A settlement pays a document with a payment related to it (refunds too); its own documents (summaries)
    carry its settlement key. What remains was booked to the facilitator account and is cleared by a later
    settlement's tax withheld: invoices add to it, credit notes take it back.
    """
    from walmart_accounting.domain.documents import DocumentKind, LineCategory

    if documents is None or documents.empty:
        return {}
    lines = documents.drop_duplicates(["ledger", "document_key", "line_no"])
    payments = lines[lines["document_kind"] == DocumentKind.PAYMENT.value]
    paid = set(zip(payments["ledger"], payments["related_key"], strict=True))
    tax = lines[(lines["category"] == LineCategory.FACILITATOR_TAX.value) & lines["settlement_key"].isna()
                & lines["document_kind"].isin([DocumentKind.SALES_INVOICE.value, DocumentKind.CREDIT_NOTE.value])]
    tax = tax[[(ledger, key) not in paid for ledger, key in zip(tax["ledger"], tax["document_key"], strict=True)]]
    out: dict[str, tuple[int, int]] = {}
    for ledger, group in tax.groupby("ledger"):
        signed = group["amount_cents"].where(group["document_kind"] == DocumentKind.SALES_INVOICE.value, -group["amount_cents"])
        out[str(ledger)] = (int(signed.sum()), int(group["document_key"].nunique()))
    return out
