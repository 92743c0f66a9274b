"""`make demo`: the end-to-end path on in-process sandboxes, reported step by step, failing loudly on anything missing."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Callable

import requests

Echo = Callable[[str], None]


class _Step:
    def __init__(self, echo: Echo, title: str):
        self.echo = echo
        self.started = time.monotonic()
        echo(f"==> {title}")

    def ok(self, detail: str = "") -> None:
        self.echo(f"    ok ({time.monotonic() - self.started:.1f} s){': ' + detail if detail else ''}")


def run_demo(echo: Echo) -> int:
    """Run every step that exists; return 0 only if the whole path ran and reconciled."""
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
    from walmart_accounting.sandbox.server import SandboxServer
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
    store = Store.open(migrate=True)
    step.ok(redacted(str(store.engine.url)))

    step = _Step(echo, "sandboxes (Walmart, Xero, Exact Online) on a local HTTP server")
    server = SandboxServer().start()
    os.environ.update(server.env())
    seller = server.app.state.walmart.seller
    step.ok(f"{server.url}; synthetic seller {seller.start} + {seller.days} days")
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
                return 1
        if orders == 0 or not reports:
            echo("    FAILED: the sandbox seller should have orders and closed settlements")
            return 1
        step.ok()

        step = _Step(echo, "build the ledger documents through Dagster (orders, returns, settlements)")
        instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
        # The demo's partitions start on the synthetic seller's first day, whatever the environment says.
        defs = build_defs(start=seller.start)
        outcome = _materialize_window(defs, instance, seller, echo)
        if outcome is None:
            return 1
        step.ok(outcome)

        step = _Step(echo, "what was posted (the same runs posted every document through the exactly-once engine)")
        reconciled = _posting_summary(store, server, seller, echo)
        step.ok()
        echo("==> RECONCILED: every payout is in the bank and the clearing accounts are at zero" if reconciled
             else "==> NOT RECONCILED: see the lines marked FAILED above")
        return 0 if reconciled else 1
    finally:
        server.stop()


def _materialize_window(defs, instance, seller, echo: Echo) -> str | None:
    """Run the orders, returns and settlements jobs over the seller's window; None (after saying why) on failure."""
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
        result = defs.resolve_job_def(job_name).execute_in_process(
            instance=instance, tags=tags, partition_key=partition, raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
        checks = result.get_asset_check_evaluations()
        failed = [f"{c.asset_key.to_user_string()}.{c.check_name}" for c in checks if not c.passed]
        failed_checks += failed
        echo(f"    {job_name}{' ' + partition if partition else ''}: run {result.run_id[:8]} "
             f"{'succeeded' if result.success else 'FAILED'} in {time.monotonic() - started:.1f} s; "
             f"{len(checks) - len(failed)}/{len(checks)} checks passed")
        if not result.success:
            return None
        for output_name in _document_outputs(defs, job_name):
            value = result.output_for_node(output_name)
            frames = list(value.values()) if isinstance(value, dict) else [value]
            documents += [f for f in frames if f is not None and len(f)]
    if failed_checks:
        echo(f"    FAILED checks: {', '.join(failed_checks)}")
        return None
    if documents:
        totals = document_totals(pd.concat(documents, ignore_index=True))
        for (ledger, kind), group in totals.groupby(["ledger", "document_kind"]):
            echo(f"    {ledger}: {len(group)} {kind.replace('_', ' ')}(s), {format_cents(group['total_cents'].sum(), thousands=True)} USD")
    return f"{len(documents)} document frame(s)"


def _document_outputs(defs, job_name: str) -> list[str]:
    """The job's document assets (each ledger's group `<ledger>_documents`), whose frames the demo totals."""
    documents = {spec.key.to_user_string() for spec in defs.resolve_all_asset_specs()
                 if (spec.group_name or "").endswith("_documents")}
    return [name for name in defs.resolve_job_def(job_name).graph.node_dict if name in documents]


def _posting_summary(store, server, seller, echo: Echo) -> bool:
    """Documents posted per ledger and kind, dead letters, API calls, payout versus posted; True if it all ties out."""
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
    payouts = Decimal(sum(s.total_payable_cents for s in seller.settlements)).scaleb(-2)
    for settlement in seller.settlements:
        payout = Decimal(settlement.total_payable_cents).scaleb(-2)
        transfers = [p for p in postings if p.document_kind == DocumentKind.TRANSFER and settlement.report_date in p.document_key]
        posted = {p.ledger for p in transfers if p.status == "posted"}
        verdict = "posted to " + ", ".join(sorted(posted)) if posted == config_ledgers else "FAILED: transfer missing"
        ok = ok and posted == config_ledgers
        echo(f"    settlement {settlement.report_date}: payout {payout} USD; transfer {verdict}")
    xero, exact = server.app.state.xero, server.app.state.exact
    checks = []
    if "xero" in config_ledgers:
        checks += [("xero clearing 1250", xero.account_balance("1250"), Decimal("0")),
                   ("xero bank 1000", xero.account_balance("1000"), payouts)]
    if "exact" in config_ledgers:
        checks += [("exact clearing 1250", exact.gl_balance("1250"), Decimal("0")),
                   ("exact bank 1100", exact.gl_balance("1100"), payouts)]
    for name, actual, expected in checks:
        good = actual == expected
        ok = ok and good
        echo(f"    {name}: {actual} USD, expected {expected} USD{'' if good else '  FAILED'}")
    return ok
