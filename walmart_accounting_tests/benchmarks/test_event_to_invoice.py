"""The latency benchmark runs end to end (each sample's invoice is checked in Xero); its figures are printed, not judged."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "event_to_invoice.py"
_spec = importlib.util.spec_from_file_location("event_to_invoice", _PATH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_a_shifted_order_moves_every_date_and_takes_its_new_id():
    order = {"purchaseOrderId": "123", "orderDate": 1000, "shippingInfo": {"estimatedShipDate": 2000},
             "orderLines": {"orderLine": [{"statusDate": 3000, "orderLineQuantity": {"amount": "1"},
                                           "orderLineStatuses": {"orderLineStatus": [{"trackingInfo": {
                                               "shipDateTime": 4000, "trackingURL": "x?order_id=123"}}]}}]}}
    moved = bench.shifted(order, "999", 10)
    line = moved["orderLines"]["orderLine"][0]
    tracking = line["orderLineStatuses"]["orderLineStatus"][0]["trackingInfo"]
    assert (moved["purchaseOrderId"], moved["orderDate"], moved["shippingInfo"]["estimatedShipDate"]) == ("999", 1010, 2010)
    assert (line["statusDate"], tracking["shipDateTime"], tracking["trackingURL"]) == (3010, 4010, "x?order_id=999")
    assert line["orderLineQuantity"]["amount"] == "1" and order["orderDate"] == 1000


def test_the_benchmark_posts_each_sampled_order_once_and_prints_p50_and_p95(capsys):
    assert bench.main(["--samples", "3"]) == 0
    out = capsys.readouterr().out
    for stage in ("deliver", "sensor", "run", "total"):
        assert re.search(rf"^{stage}\s+\d+\.\d\s+\d+\.\d\s+\d+%$", out, re.M), out
