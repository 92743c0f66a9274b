"""Document kinds and line categories are defined once, as plain strings the frame, the schema and the store share."""

import pytest

from walmart_accounting.domain.documents import DocumentKind, LineCategory
from walmart_accounting.schemas.documents import DocumentLine


@pytest.mark.parametrize("vocabulary", [DocumentKind, LineCategory])
def test_members_are_their_string_values(vocabulary):
    for member in vocabulary:
        assert member == member.value and isinstance(member, str)
        assert hash(member) == hash(member.value)  # a dict keyed by either finds the other
        assert f"{member}" == str(member) == member.value
        assert vocabulary(member.value) is member
        assert member.value == member.name.lower()


def test_the_kinds_are_the_documents_the_integration_books_and_the_order_loop_sends():
    assert [k.value for k in DocumentKind] == ["sales_invoice", "credit_note", "payment", "fee_bill", "transfer",
                                               "stock_adjustment", "sales_order", "shipment"]
    with pytest.raises(ValueError):
        DocumentKind("refund_payment")  # a refund payment is a negative `payment` with a `refund` line


def test_the_document_frame_accepts_exactly_these_kinds_and_categories():
    columns = DocumentLine.to_schema().columns
    allowed = {name: next(c.statistics["allowed_values"] for c in columns[name].checks if c.name == "isin")
               for name in ("document_kind", "category")}
    assert sorted(allowed["document_kind"]) == sorted(k.value for k in DocumentKind)
    assert sorted(allowed["category"]) == sorted(c.value for c in LineCategory)
    assert all(type(v) is str for values in allowed.values() for v in values)
