"""The neutral accounting documents every ledger adapter posts: invoices, credit notes, payments, fee bills, transfers, stock adjustments."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from walmart_accounting.domain.money import Money, MoneyError, sum_money


class DocumentKind(StrEnum):
    SALES_INVOICE = "sales_invoice"
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"
    FEE_BILL = "fee_bill"
    TRANSFER = "transfer"
    STOCK_ADJUSTMENT = "stock_adjustment"


class LineCategory(StrEnum):
    """What a document line books; the mapping file gives each category its account."""

    PRODUCT = "product"
    SHIPPING = "shipping"
    DISCOUNT = "discount"
    SELLER_TAX = "seller_tax"
    FACILITATOR_TAX = "facilitator_tax"
    FEE = "fee"
    ADJUSTMENT = "adjustment"
    RESERVE = "reserve"
    REFUND = "refund"


class DocumentError(ValueError):
    """A document that breaks an invariant of the neutral model."""


@dataclass(frozen=True, slots=True)
class DocumentLine:
    """One line: an amount (net of tax) on an account category, with its tax and dimensions."""

    category: LineCategory
    description: str
    amount: Money
    quantity: Decimal = Decimal(1)
    sku: str | None = None
    account: str | None = None
    tax_code: str | None = None
    tax: Money | None = None
    cost_center: str | None = None
    item_code: str | None = None
    fee_type: str | None = None

    def __post_init__(self) -> None:
        if self.tax is not None and self.tax.currency != self.amount.currency:
            raise DocumentError(f"line {self.description!r}: tax and amount currencies differ")
        if not isinstance(self.quantity, Decimal):
            raise DocumentError(f"line {self.description!r}: quantity must be a Decimal")

    @property
    def gross(self) -> Money:
        return self.amount + self.tax if self.tax is not None else self.amount


@dataclass(frozen=True, slots=True)
class Document:
    """Fields every document shares: its deterministic key, date, currency and Walmart source ids."""

    key: str
    kind: DocumentKind
    date: date
    currency: str
    source_ids: tuple[str, ...] = ()
    rate: Decimal | None = None  # ledger base units per unit of `currency`, when they differ
    rate_source: str | None = None

    def fingerprint_payload(self) -> dict:
        return _jsonable(asdict(self))

    def payload_hash(self) -> str:
        """Stable hash of the document's content, to detect a change after it was posted."""
        text = json.dumps(self.fingerprint_payload(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        if set(value) == {"minor", "currency"}:
            return f"{value['minor']} {value['currency']}"
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (date, Decimal)):
        return str(value)
    return value


def _lines_total(key: str, currency: str, lines: tuple[DocumentLine, ...]) -> Money:
    for line in lines:
        if line.amount.currency != currency:
            raise DocumentError(f"{key}: line {line.description!r} is in {line.amount.currency}, document in {currency}")
    try:
        return sum_money((line.gross for line in lines), currency)
    except MoneyError as exc:
        raise DocumentError(f"{key}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class SalesInvoice(Document):
    contact_id: str = ""
    contact_name: str = ""
    lines: tuple[DocumentLine, ...] = ()
    due_date: date | None = None
    tracking: tuple[tuple[str, str], ...] = ()

    @property
    def total(self) -> Money:
        return _lines_total(self.key, self.currency, self.lines)


@dataclass(frozen=True, slots=True)
class CreditNote(Document):
    contact_id: str = ""
    contact_name: str = ""
    invoice_key: str | None = None  # the invoice it is allocated against
    lines: tuple[DocumentLine, ...] = ()
    tracking: tuple[tuple[str, str], ...] = ()

    @property
    def total(self) -> Money:
        return _lines_total(self.key, self.currency, self.lines)


@dataclass(frozen=True, slots=True)
class Payment(Document):
    """Payment of an invoice (or refund of a credit note) out of the clearing account."""

    applies_to_key: str = ""
    amount: Money | None = None
    account: str = "clearing"

    @property
    def total(self) -> Money:
        if self.amount is None:
            raise DocumentError(f"{self.key}: payment without an amount")
        return self.amount


@dataclass(frozen=True, slots=True)
class FeeBill(Document):
    """A supplier bill from Walmart for one settlement, one line per fee type."""

    supplier_name: str = "Walmart Marketplace"
    lines: tuple[DocumentLine, ...] = ()

    @property
    def total(self) -> Money:
        return _lines_total(self.key, self.currency, self.lines)


@dataclass(frozen=True, slots=True)
class Transfer(Document):
    """Movement of a settlement payout between two mapped accounts (clearing to bank)."""

    from_account: str = "clearing"
    to_account: str = "bank"
    amount: Money | None = None

    @property
    def total(self) -> Money:
        if self.amount is None:
            raise DocumentError(f"{self.key}: transfer without an amount")
        return self.amount


@dataclass(frozen=True, slots=True)
class StockAdjustment(Document):
    """Difference between Walmart's available quantity and the ledger's stock for one SKU."""

    sku: str = ""
    item_code: str = ""
    walmart_quantity: int = 0
    ledger_quantity: int = 0
    warehouse: str | None = None

    @property
    def difference(self) -> int:
        return self.walmart_quantity - self.ledger_quantity
