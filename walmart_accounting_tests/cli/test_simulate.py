"""Production, simulated a day at a time through the real sensors, schedules and runs: every order and refund booked once."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest

from walmart_accounting.cli.simulate import _exactly_once, run_simulation
from walmart_accounting.domain.config import load_default_config
from walmart_accounting.sandbox.options import recent_monday
from walmart_accounting.sandbox.seller.synthetic import SyntheticSeller

SWAPPED = {"xero": "settlement_summary", "exact": "per_order"}


def _simulate(tmp_path, step_hours: int = 24, **kwargs) -> str:
    lines: list[str] = []
    code = run_simulation(lines.append, step_hours=step_hours, workdir=tmp_path / "simulate", **kwargs)
    out = "\n".join(lines)
    assert code == 0, out[-6000:]
    assert "FAILED" not in out and lines[-1].startswith("==> EVERY INVARIANT HOLDS")
    return out


def _late_shipments(out: str) -> tuple[int, int]:
    late = re.search(r"shipped (\d+) order\(s\) more than 72 h after they were placed and refunded (\d+) return", out)
    assert late, out
    return int(late.group(1)), int(late.group(2))


def _a_saturday() -> date:
    """A Saturday three weeks back: a seller starting then has a settlement after a week (its cycle closes on Friday)."""
    return recent_monday(days_ago=21) - timedelta(days=2)


def test_a_week_with_webhooks_books_each_late_shipment_once_and_clears_the_payout(tmp_path):
    # The daemon ticks every few minutes; two days a tick keeps make test short and still sees every kind of event.
    out = _simulate(tmp_path, step_hours=48, days=7, start=_a_saturday(), webhooks=True)
    assert "modes xero per_order, exact settlement_summary, 1 settlement report(s)" in out
    assert _late_shipments(out)[0] > 0, "orders the old 72-hour refresh would never have invoiced"
    assert re.search(r"webhook events: [1-9]\d* delivered, and [1-9]\d* duplicates", out)
    assert re.search(r"walmart_orders_job by webhooks: [1-9]", out) and "walmart_settlements_job by sensor: 1" in out
    assert "xero clearing 1250: 0.00 USD, expected 0.00 USD" in out and "exact clearing 1250: 0.00 USD" in out


def test_a_week_polling_only_with_the_modes_swapped_books_each_late_shipment_once(tmp_path):
    out = _simulate(tmp_path, step_hours=48, days=7, start=_a_saturday(), webhooks=False, modes=SWAPPED)
    assert "webhooks off (polling only), modes xero settlement_summary, exact per_order" in out
    assert "by webhooks" not in out and "webhook events" not in out
    assert _late_shipments(out)[0] > 0
    assert re.search(r"walmart_orders_job by walmart_changes: [1-9]", out)
    assert "xero clearing 1250: 0.00 USD, expected 0.00 USD" in out and "exact clearing 1250: 0.00 USD" in out


def test_an_order_never_invoiced_or_invoiced_twice_fails_the_simulation():
    seller = SyntheticSeller(seed=7, start=date(2026, 9, 7), days=12)
    seller.as_of = datetime.combine(seller.end, time(0), UTC) + timedelta(days=30)
    shipped = [po.po_id for po in seller._pos if po.ship_at is not None and not any(line.cancel_at for line in po.lines)]
    missing, twice = shipped[0], shipped[1]
    xero = SimpleNamespace(count_by_reference=lambda kind, ref: {f"WM-{missing}": 0, f"WM-{twice}": 2}.get(ref, 1))
    server = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(xero=xero)))
    problems = _exactly_once(server, seller, load_default_config())
    assert any(f"never invoiced: {missing}" in p for p in problems), problems
    assert any(f"invoiced more than once: {twice}" in p for p in problems), problems


@pytest.mark.simulation
def test_four_weeks_with_webhooks_book_every_late_shipment_and_late_refund_once(tmp_path):
    out = _simulate(tmp_path, days=28, webhooks=True)
    late_shipments, late_refunds = _late_shipments(out)
    assert late_shipments > 0 and late_refunds > 0, "the window has what the old 72 h and 7 day refreshes never booked"
    assert "2 settlement report(s)" in out


@pytest.mark.simulation
def test_four_weeks_polling_only_with_the_modes_swapped(tmp_path):
    out = _simulate(tmp_path, days=28, webhooks=False, modes=SWAPPED)
    late_shipments, late_refunds = _late_shipments(out)
    assert late_shipments > 0 and late_refunds > 0
