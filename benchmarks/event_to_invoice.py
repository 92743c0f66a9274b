"""Latency from a Walmart order event to its invoice in the Xero sandbox: receiver, sensor and run, p50 and p95.

Each sample is one purchase order that Walmart announces with PO_CREATED (and ORDER_UPDATES) and that is
already shipped, so an invoice is due at once. Walmart sends no event for a shipment; a real order's invoice
follows its shipment through `walmart_changes` instead, which this does not measure. The clock is past the
order's hour, so its partition is complete. Stages, each in wall time:

  deliver  the sandbox signs and POSTs the event; the receiver verifies it and writes it to the inbox
  sensor   `walmart_webhook_events` evaluated as the daemon would (it reads the order from Walmart)
  run      the run it asks for, in process: order lines, the invoice, posting it to Xero

A deployment adds the sensor's interval (up to 30 s) and the run launcher's process start before `sensor`
and `run`; both are Dagster's and fixed, so they are printed as such, not measured here.

    .venv/bin/python benchmarks/event_to_invoice.py [--samples 20]
"""

from __future__ import annotations

import argparse
import copy
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

_TIME_FIELD = re.compile(r"(Date|DateTime)$")


def shifted(order: dict, po_id: str, delta_ms: int) -> dict:
    """A copy of a rendered order under a new purchase order id, every epoch-millisecond date moved by delta_ms."""
    old = str(order["purchaseOrderId"])

    def walk(value, key=""):
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, int) and not isinstance(value, bool) and _TIME_FIELD.search(key):
            return value + delta_ms
        if isinstance(value, str) and old in value:
            return value.replace(old, po_id)
        return value

    out = walk(copy.deepcopy(order))
    out["purchaseOrderId"] = po_id
    return out


def _templates(walmart, limit: int) -> list[dict]:
    """Fully shipped orders without cancellations or refunds: each becomes an invoice and nothing else."""
    out = []
    with walmart.lock:
        orders = [copy.deepcopy(o) for o in walmart._orders.values()]
    for order in orders:
        statuses = [s.get("status") for line in order["orderLines"]["orderLine"]
                    for s in line["orderLineStatuses"]["orderLineStatus"]]
        if statuses and all(s in ("Shipped", "Delivered") for s in statuses) and not any(
                line.get("refund") for line in order["orderLines"]["orderLine"]):
            out.append(order)
        if len(out) == limit:
            break
    return out


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def measure(samples: int, workdir: Path) -> dict[str, list[float]]:
    """Seconds per stage for each sample, from the sandbox sending the event to the invoice being in Xero."""
    from walmart_accounting.cli.simulate import Tally, Ticker, deployment

    stages: dict[str, list[float]] = {"deliver": [], "sensor": [], "run": [], "total": []}
    with deployment(days=14, webhooks=True, workdir=workdir) as live:
        xero = live.server.app.state.xero
        moment = live.first + timedelta(days=3, minutes=10)
        live.timeline.travel_to(moment)
        templates = _templates(live.walmart, samples)
        if len(templates) < samples:
            raise SystemExit(f"the synthetic seller has only {len(templates)} shipped orders to use")
        ticker = Ticker(live)
        ticker.moment = moment
        after = 0
        for n, template in enumerate(templates):
            moment += timedelta(hours=1)
            live.timeline.travel_to(moment)  # the previous hour is over: its partition exists
            po_id = f"9{n:012d}"
            placed = moment - timedelta(minutes=40)
            order = shifted(template, po_id, int(placed.timestamp() * 1000) - int(template["orderDate"]))
            tally = Tally()
            started = time.perf_counter()
            live.walmart.add_order(order, notify=True)
            sent = 2  # PO_CREATED, and ORDER_UPDATES with subEventType PO_CREATED
            while len(events := live.store.webhooks_after("walmart", after)) < sent:
                if time.perf_counter() - started > 30:
                    raise SystemExit(f"the receiver stored {len(events)} of {sent} events for {po_id} in 30 s")
                time.sleep(0.002)
            delivered = time.perf_counter()
            after = events[-1].id
            ticker.tick(moment - timedelta(minutes=1), moment, tally, names=["walmart_webhook_events"])
            done = time.perf_counter()
            if tally.failed_runs or xero.count_by_reference("invoice", f"WM-{po_id}") != 1:
                raise SystemExit(f"sample {n}: invoice WM-{po_id} is not in Xero once "
                                 f"(runs {dict(tally.runs)}, failed {tally.failed_runs})")
            sensor = tally.seconds["(sensors and schedules)"]
            stages["deliver"].append(delivered - started)
            stages["sensor"].append(sensor)
            stages["run"].append(done - delivered - sensor)
            stages["total"].append(done - started)
    return stages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="walmart_accounting_latency_") as tmp:
        stages = measure(args.samples, Path(tmp) / "deployment")
    total = statistics.median(stages["total"])
    print(f"event -> invoice in Xero, {args.samples} purchase orders ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")
    print(f"{'stage':<8} {'p50 ms':>9} {'p95 ms':>9} {'share of p50':>13}")
    for name, values in stages.items():
        p50, p95 = statistics.median(values), _percentile(values, 95)
        print(f"{name:<8} {p50 * 1000:9.1f} {p95 * 1000:9.1f} {p50 / total:12.0%}")
    print("a deployment adds up to 30 s of sensor interval and the run launcher's process start")
    return 0


if __name__ == "__main__":
    sys.exit(main())
