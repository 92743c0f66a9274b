"""The vocabulary of accounting documents, defined once: what kinds of document there are and what their lines book.

The documents themselves travel as a frame, one row per line (`schemas.documents.DocumentLine`, built by
`transform.documents`), and reach the ledger adapters as `posting.documents.LedgerDocument` objects grouped
from that frame. Both spell a document's kind and a line's category with the values below; the frame and the
store hold the plain string values (a StrEnum member compares and hashes equal to its value).
"""

from __future__ import annotations

from enum import StrEnum


class DocumentKind(StrEnum):
    """What a document is; each ledger adapter posts each kind its own way.

    There is no separate kind for a refund payment or a settlement summary: a refund paid to a customer
    is a `payment` with a negative amount and a `refund` line, related to its credit note; a settlement
    summary is a `sales_invoice` to the marketplace contact (with its `payment` and `transfer`).
    """

    SALES_INVOICE = "sales_invoice"
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"
    FEE_BILL = "fee_bill"
    TRANSFER = "transfer"
    STOCK_ADJUSTMENT = "stock_adjustment"
    SALES_ORDER = "sales_order"  # a seller-fulfilled order for the ledger's warehouse to ship (the order loop)
    SHIPMENT = "shipment"  # a delivery the ledger recorded, confirmed to Walmart with its tracking


class LineCategory(StrEnum):
    """What a document line books; the mapping file gives most categories their account."""

    PRODUCT = "product"
    SHIPPING = "shipping"
    DISCOUNT = "discount"
    SELLER_TAX = "seller_tax"
    FACILITATOR_TAX = "facilitator_tax"
    FACILITATOR_TAX_WITHHELD = "facilitator_tax_withheld"
    FEE = "fee"
    ADJUSTMENT = "adjustment"
    RESERVE = "reserve"
    PROMOTION = "promotion"  # seller-funded promotions (promo codes) reported only in the settlement
    FUNDED_SAVINGS = "funded_savings"  # what Walmart pays towards a price it discounted
    REIMBURSEMENT = "reimbursement"  # Walmart pays for inventory it lost or damaged
    SUSPENSE = "suspense"  # an amount type the mapping does not know, parked for review
    REFUND = "refund"
    PAYMENT = "payment"
    TRANSFER = "transfer"
    STOCK = "stock"


def walmart_line_order(line_number: str) -> tuple:
    """The sort key of a purchase order's line numbers (numeric where they are numbers): the order loop's sales
    order has its k-th line for the k-th line in this order, and reads deliveries back by it."""
    text = str(line_number)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)
