"""Document keys are deterministic, built from Walmart ids only, and safe for every ledger field they fill."""

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walmart_accounting.domain import keys

po_ids = st.text(alphabet="0123456789", min_size=6, max_size=20)


@given(po_ids)
def test_same_walmart_fact_same_key(po):
    assert keys.invoice_key(po) == keys.invoice_key(str(po)) == f"WM-{po}"


def test_key_shapes():
    end = date(2026, 9, 20)
    assert keys.return_credit_note_key("R123") == "WM-RET-R123"
    assert keys.settlement_key(end, "09212026") == "WM-SET-20260920-09212026"
    assert keys.fee_bill_key(end, "09212026") == "WM-SET-20260920-09212026-FEES"
    assert keys.transfer_key(end, "09212026") == "WM-SET-20260920-09212026-XFER"
    assert keys.payment_key(end, "09212026", "1234567") == "WM-SET-20260920-09212026-P-1234567"
    assert keys.summary_invoice_key(end, "09212026", date(2026, 9, 1)) == "WM-SET-20260920-09212026-S202609"
    assert keys.refund_credit_note_key("1234567", "55") == "WM-RFD-1234567-55"


SNAPSHOT = datetime(2026, 9, 1, 14, 5)


@given(st.text(min_size=1, max_size=80).filter(lambda s: s.strip()))
def test_any_warehouse_code_gives_a_safe_stable_stock_count_key(code):
    key = keys.stock_count_key(SNAPSHOT, code)
    assert key == keys.stock_count_key(SNAPSHOT, code)
    assert len(key) <= keys.MAX_KEY_LENGTH
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in key)


def test_distinct_codes_do_not_collide_through_hashing():
    a = keys.stock_count_key(SNAPSHOT, "shirt 'red' / L")
    b = keys.stock_count_key(SNAPSHOT, "shirt 'red' / M")
    assert a != b
    assert keys.stock_count_key(SNAPSHOT, "1") == "WM-STK-20260901T140500-1"


@pytest.mark.parametrize("bad", ["", "  ", None, "12 34", "PO'1", "a/b"])
def test_ids_that_cannot_form_a_key_are_refused(bad):
    with pytest.raises(keys.DocumentKeyError):
        keys.invoice_key(bad)
