"""Two weeks of production, simulated a day at a time: every order and refund booked once, clearing at zero."""

from __future__ import annotations

import re

import pytest

from walmart_accounting.cli.simulate import run_simulation


@pytest.mark.simulation
def test_two_weeks_in_production_with_webhooks_book_every_late_shipment_and_refund_once(tmp_path):
    lines: list[str] = []
    code = run_simulation(lines.append, days=14, step_hours=24, webhooks=True, workdir=tmp_path / "simulate")
    out = "\n".join(lines)
    assert code == 0, out[-6000:]
    late = re.search(r"shipped (\d+) order\(s\) more than 72 h after they were placed and refunded (\d+) return", out)
    assert late and int(late.group(1)) > 0, "the window has orders the old 72-hour refresh would never have invoiced"
    events = re.search(r"webhook events: (\d+) delivered, and (\d+) duplicates", out)
    assert events and int(events.group(2)) > 0
    assert re.search(r"walmart_orders_job by walmart_changes: \d+", out) and "walmart_orders_job by webhooks" in out
    assert "xero clearing 1250: 0.00 USD, expected 0.00 USD" in out and "exact clearing 1250: 0.00 USD" in out
    assert "FAILED" not in out and lines[-1].startswith("==> EVERY INVARIANT HOLDS")
