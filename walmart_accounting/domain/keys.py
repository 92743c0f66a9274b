"""Deterministic document keys built from Walmart identifiers only, so one Walmart fact is one document."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime

# Longest key any ledger field we write it to accepts comfortably (Xero Idempotency-Key max is 128,
# Exact YourRef is kept short by convention); every key here stays well inside it.
MAX_KEY_LENGTH = 64
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class DocumentKeyError(ValueError):
    """A Walmart identifier that cannot form a document key."""


def _part(value: object, what: str) -> str:
    text = str(value).strip() if value is not None else ""
    if not text:
        raise DocumentKeyError(f"{what} is empty; a document key needs the Walmart identifier")
    if not _SAFE.match(text):
        raise DocumentKeyError(f"{what} {text!r} has characters a document key cannot carry")
    return text


def _stamp(day: date) -> str:
    if not isinstance(day, date):
        raise DocumentKeyError(f"expected a date, got {day!r}")
    return day.strftime("%Y%m%d")


def _checked(key: str) -> str:
    if len(key) > MAX_KEY_LENGTH:
        raise DocumentKeyError(f"document key {key!r} is longer than {MAX_KEY_LENGTH} characters")
    return key


def sku_token(sku: str) -> str:
    """A key-safe token for a seller SKU: the SKU itself when safe, else a short stable hash."""
    text = str(sku).strip()
    if not text:
        raise DocumentKeyError("SKU is empty")
    if _SAFE.match(text) and len(text) <= 24:
        return text
    return "H" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16].upper()


def invoice_key(purchase_order_id: str) -> str:
    """Sales invoice of a purchase order."""
    return _checked(f"WM-{_part(purchase_order_id, 'purchase order id')}")


def sales_order_key(purchase_order_id: str) -> str:
    """The ledger's sales order of a seller-fulfilled purchase order (the order loop)."""
    return _checked(f"WM-SO-{_part(purchase_order_id, 'purchase order id')}")


def shipment_key(purchase_order_id: str, shipment: str) -> str:
    """One shipment of a purchase order (a goods delivery's number, or a parcel's tracking number), confirmed to Walmart."""
    return _checked(f"WM-SHP-{_part(purchase_order_id, 'purchase order id')}-{sku_token(shipment)}")


def return_credit_note_key(return_order_id: str) -> str:
    """Credit note of a Walmart return order."""
    return _checked(f"WM-RET-{_part(return_order_id, 'return order id')}")


def refund_credit_note_key(purchase_order_id: str, refund_id: str) -> str:
    """Credit note of a refund issued on an order without a return order."""
    po = _part(purchase_order_id, "purchase order id")
    return _checked(f"WM-RFD-{po}-{_part(refund_id, 'refund id')}")


def settlement_key(period_end: date, payable_id: str) -> str:
    """Root key of one settlement (reconciliation report); the settlement documents extend it."""
    return _checked(f"WM-SET-{_stamp(period_end)}-{_part(payable_id, 'payable id')}")


def payment_key(period_end: date, payable_id: str, purchase_order_id: str) -> str:
    """Payment of one order's invoice by one settlement."""
    root = settlement_key(period_end, payable_id)
    return _checked(f"{root}-P-{_part(purchase_order_id, 'purchase order id')}")


def fee_bill_key(period_end: date, payable_id: str, accounting_month: date | None = None) -> str:
    """The supplier bill for a settlement's commissions and fees posted in one month.

    The bill of the period end's month keeps the plain key; fees posted in an earlier month of a
    month-crossing settlement are a bill of their own, suffixed with that month (cut-off).
    """
    base = f"{settlement_key(period_end, payable_id)}-FEES"
    if accounting_month is None or (accounting_month.year, accounting_month.month) == (period_end.year, period_end.month):
        return _checked(base)
    return _checked(f"{base}-{accounting_month.strftime('%Y%m')}")


def transfer_key(period_end: date, payable_id: str) -> str:
    """The transfer of a settlement's payout from the clearing account to the bank."""
    return _checked(f"{settlement_key(period_end, payable_id)}-XFER")


def summary_invoice_key(period_end: date, payable_id: str, accounting_month: date) -> str:
    """The settlement_summary invoice of one settlement within one accounting month."""
    month = accounting_month.strftime("%Y%m")
    return _checked(f"{settlement_key(period_end, payable_id)}-S{month}")


def stock_count_key(snapshot_at: datetime, warehouse: str) -> str:
    """The stock count of one warehouse from one inventory snapshot (the second it was taken, UTC)."""
    if not isinstance(snapshot_at, datetime):
        raise DocumentKeyError(f"expected a datetime, got {snapshot_at!r}")
    return _checked(f"WM-STK-{snapshot_at:%Y%m%dT%H%M%S}-{sku_token(warehouse)}")
