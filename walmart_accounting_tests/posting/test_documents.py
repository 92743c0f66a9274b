"""The document frame groups into LedgerDocuments with a DocumentKind, totals in integer cents and a stable content hash."""

import pandas as pd
import pytest

from walmart_accounting.domain.documents import DocumentKind
from walmart_accounting.posting.documents import LedgerDocument, documents_from_frame
from walmart_accounting.schemas.documents import DocumentLine


def _line(key: str, kind: str, line_no: int, category: str, amount: int, tax: int = 0, **overrides) -> dict:
    row = dict(
        ledger="xero", document_key=key, document_kind=kind, document_date=pd.Timestamp("2026-09-09"),
        currency="USD", contact_key="cust-1", contact_name="A Buyer", contact_email=None, related_key=None,
        settlement_key=None, source_ids=key.removeprefix("WM-"), line_no=line_no, category=category,
        description=f"{category} {line_no}", sku=None, item_code=None, quantity=1, account="4000",
        counter_account=None, tax_code="NONE", amount_cents=amount, tax_cents=tax, cost_center=None,
        tracking_category=None, tracking_option=None, exchange_rate=None, rate_source=None, base_amount_cents=None,
    )
    row.update(overrides)
    return row


def _frame() -> pd.DataFrame:
    rows = [  # out of order on purpose: documents come out by key, lines by line_no
        _line("WM-SET-20260918-09192026-P-1234567", "payment", 1, "payment", 6186, account="1250",
              related_key="WM-1234567"),
        _line("WM-1234567", "sales_invoice", 2, "shipping", 499),
        _line("WM-1234567", "sales_invoice", 1, "product", 5997, 690, sku="WM-SKU-0001", quantity=3),
        _line("WM-1234567", "sales_invoice", 3, "discount", -500),
    ]
    frame = pd.DataFrame(rows)
    frame["base_amount_cents"] = frame["base_amount_cents"].astype("Int64")
    return DocumentLine.validate(frame)


def test_documents_group_by_key_with_their_kind_and_lines_in_order():
    invoice, payment = documents_from_frame(_frame())
    assert (invoice.key, payment.key) == ("WM-1234567", "WM-SET-20260918-09192026-P-1234567")
    assert invoice.kind is DocumentKind.SALES_INVOICE and payment.kind is DocumentKind.PAYMENT
    assert [line["line_no"] for line in invoice.lines] == [1, 2, 3]
    assert invoice.header["document_kind"] == "sales_invoice" and type(invoice.header["document_kind"]) is str
    assert invoice.header["document_date"] == "2026-09-09"
    assert all(type(line["amount_cents"]) is int for line in invoice.lines)


def test_total_is_lines_plus_tax_in_integer_cents():
    invoice, payment = documents_from_frame(_frame())
    assert invoice.total_cents == 5997 + 690 + 499 - 500
    assert payment.total_cents == 6186


def test_payload_hash_is_stable_and_content_sensitive():
    first, _ = documents_from_frame(_frame())
    again, _ = documents_from_frame(_frame())
    assert first.payload_hash == again.payload_hash
    # the store keeps these hashes: the same content must always hash the same, across releases
    assert first.payload_hash == "f624b6787b13b2c3a1b20b000a31e41e983c90a08d6eea1c8c6ee06131225b76"
    changed = _frame()
    changed.loc[changed["document_key"] == "WM-1234567", "contact_name"] = "Another Buyer"
    assert documents_from_frame(changed)[0].payload_hash != first.payload_hash


def test_a_kind_given_as_its_string_becomes_the_document_kind_and_an_unknown_one_is_refused():
    document = LedgerDocument(key="WM-1", kind="credit_note", ledger="xero", header={})
    assert document.kind is DocumentKind.CREDIT_NOTE and document.kind == "credit_note"
    with pytest.raises(ValueError, match="unknown document kind 'refund_payment'"):
        LedgerDocument(key="WM-2", kind="refund_payment", ledger="xero", header={})


def test_an_empty_frame_has_no_documents():
    assert documents_from_frame(_frame().iloc[0:0]) == []
