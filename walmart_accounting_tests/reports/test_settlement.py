"""The settlement report of every synthetic settlement ties out in both posting modes, renders, and names a tampered category."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from functools import lru_cache

import pandas as pd
import pytest

from walmart_accounting.domain.money import format_cents
from walmart_accounting.reports import REPORT_COLUMNS, SettlementReport, settlement_report
from walmart_accounting.transform import documents as docs
from walmart_accounting_tests.transform.documents.builders import CONFIG
from walmart_accounting_tests.transform.documents.test_synthetic_seller import _seller_frames

SEEDS = (1, 2, 3)


@lru_cache(maxsize=None)
def _per_order_ledger(seed):
    """The xero (per_order) invoices and credit notes of the seller's orders, which settlements pay."""
    lines, refunds, returns, _ = _seller_frames(seed)
    return pd.concat([docs.sales_invoices(lines, CONFIG, "xero").documents,
                      docs.credit_notes(returns, refunds, lines, CONFIG, "xero").documents], ignore_index=True)


def _documents(seed, rows, mode):
    if mode == "settlement_summary":
        return docs.settlement_summary(rows, CONFIG, "exact").documents
    _, refunds, _, _ = _seller_frames(seed)
    paid = docs.settlement_documents(rows, CONFIG, "xero", order_refunds=refunds).documents
    return pd.concat([_per_order_ledger(seed), paid], ignore_index=True)


def _cases():
    return [(seed, i, mode) for seed in SEEDS for i in range(len(_seller_frames(seed)[3]))
            for mode in ("per_order", "settlement_summary")]


def _report(seed, i, mode, rows=None, **kw) -> SettlementReport:
    original = _seller_frames(seed)[3][i]
    return settlement_report(original if rows is None else rows, _documents(seed, original, mode), CONFIG, **kw)


def _payout(rows) -> int:
    return int(rows.loc[rows["transaction_type"] == "PaymentSummary", "amount_cents"].sum())


@pytest.mark.parametrize(("seed", "i", "mode"), _cases())
def test_every_synthetic_settlement_has_no_differences(seed, i, mode):
    rows = _seller_frames(seed)[3][i]
    report = _report(seed, i, mode)
    frame = report.frame
    assert list(frame.columns) == REPORT_COLUMNS
    assert all(str(frame[c].dtype) == "int64" for c in REPORT_COLUMNS[1:])
    assert report.mode == mode
    assert report.differences.empty, report.differences
    assert (frame["difference_cents"] == 0).all()
    assert int(frame["walmart_cents"].sum()) == report.payout_cents == _payout(rows) == report.ledger_payout_cents
    assert report.ties_out
    assert {"product_sales", "shipping", "sales_tax", "facilitator_tax_withheld", "fee:commission"} <= set(frame["category"])
    assert ("discounts" in set(frame["category"])) == (mode == "per_order")  # the summary's product line is net of them


def test_csv_parses_back_and_sums_to_the_payout():
    report = _report(1, 0, "per_order")
    parsed = pd.read_csv(io.BytesIO(report.to_csv_bytes()))
    assert list(parsed.columns) == ["category", "label", "walmart_cents", "ledger_cents", "difference_cents"]
    assert parsed["walmart_cents"].dtype == "int64"
    assert int(parsed["walmart_cents"].sum()) == report.payout_cents
    assert parsed["category"].tolist() == report.frame["category"].tolist()
    assert (parsed["walmart_cents"] - parsed["ledger_cents"] == parsed["difference_cents"]).all()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, chunk = struct.unpack(">I4s", data[8:16])
    assert chunk == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize(("width", "height"), [(1200, 600), (801, 333)])
def test_bridge_png_is_a_png_of_the_requested_size(tmp_path, width, height):
    report = _report(1, 1, "settlement_summary")
    buffer = io.BytesIO()
    report.bridge_png(buffer, width_px=width, height_px=height)
    assert _png_size(buffer.getvalue()) == (width, height)
    path = tmp_path / "bridge.png"
    report.bridge_png(path, width_px=width, height_px=height)
    assert _png_size(path.read_bytes()) == (width, height)
    from PIL import Image

    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (width, height)


def test_default_bridge_size():
    buffer = io.BytesIO()
    _report(2, 0, "per_order").bridge_png(buffer)
    assert _png_size(buffer.getvalue()) == (1200, 600)


def _tampered(rows, amount_type, delta, payout_too=True):
    rows = rows.copy()
    at = rows.index[rows["amount_type"] == amount_type][0]
    rows.loc[at, "amount_cents"] += delta
    if payout_too:  # a report that still ties out, but not with the documents built from its earlier version
        rows.loc[rows["transaction_type"] == "PaymentSummary", "amount_cents"] += delta
    return rows


@pytest.mark.parametrize("mode", ["per_order", "settlement_summary"])
@pytest.mark.parametrize(("amount_type", "category"), [
    ("Commission on Product", "fee:commission"), ("Shipping Price", "shipping"), ("Product tax", "sales_tax"),
    ("Product tax withheld", "facilitator_tax_withheld"), ("Fee/Reimbursement", "fee:shipping_label"),
])
def test_a_tampered_row_shows_a_difference_in_exactly_its_category(mode, amount_type, category):
    rows = _tampered(_seller_frames(1)[3][0], amount_type, 123)
    report = _report(1, 0, mode, rows=rows)
    differences = report.differences
    assert differences["category"].tolist() == [category]
    assert differences["difference_cents"].tolist() == [123]
    assert int(report.frame["walmart_cents"].sum()) == report.payout_cents
    assert report.payout_cents - report.ledger_payout_cents == 123
    assert not report.ties_out
    assert "Does NOT tie out: 1 category difference(s)." in report.to_markdown()


def test_rows_that_do_not_add_up_to_the_payout_show_as_an_imbalance():
    rows = _tampered(_seller_frames(1)[3][0], "Product Price", 500, payout_too=False)
    report = _report(1, 0, "settlement_summary", rows=rows)
    assert dict(zip(report.differences["category"], report.differences["difference_cents"], strict=True)) == {
        "product_sales": 500, "report_imbalance": -500}
    assert int(report.frame["walmart_cents"].sum()) == report.payout_cents


def test_markdown_table_money_and_dead_letters():
    letters = [("WM-123", "unmapped SKU | X-1"), ("WM-SET-20260918-09192026-FEES", "unmapped fee type")]
    report = _report(1, 0, "per_order", dead_letters=letters)
    text = report.to_markdown()
    assert "| Category | Walmart | Ledger | Difference |" in text
    commission = int(report.frame.set_index("category").loc["fee:commission", "walmart_cents"])
    assert f"| Walmart commission | {format_cents(commission)} | {format_cents(commission)} | 0.00 |" in text
    assert f"**{format_cents(report.payout_cents)}**" in text
    assert "Ties out." in text
    assert "- `WM-123`: unmapped SKU \\| X-1" in text and "WM-SET-20260918-09192026-FEES" in text


def test_documents_of_two_ledgers_need_the_ledger_named():
    rows = _seller_frames(1)[3][0]
    both = pd.concat([_documents(1, rows, "per_order"), _documents(1, rows, "settlement_summary")], ignore_index=True)
    with pytest.raises(ValueError, match="name the ledger"):
        settlement_report(rows, both, CONFIG)
    assert settlement_report(rows, both, CONFIG, ledger="exact").ties_out
    assert settlement_report(rows, both, CONFIG, ledger="xero").ties_out


def test_no_documents_shows_everything_as_a_difference():
    rows = _seller_frames(1)[3][0]
    report = settlement_report(rows, pd.DataFrame(), CONFIG)
    assert (report.frame["ledger_cents"] == 0).all() and report.ledger_payout_cents == 0
    assert int(report.frame["difference_cents"].sum()) == report.payout_cents


def test_importing_the_reports_does_not_import_matplotlib():
    code = "import sys, walmart_accounting.reports; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
