"""The seller's internal records: customers, purchase orders and their lines, refunds, returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from walmart_accounting.sandbox.seller.catalog import _Product
from walmart_accounting.sandbox.seller.geography import _State
from walmart_accounting.sandbox.seller.inventory import _NODE_WFS


@dataclass
class _Customer:
    email: str
    first: str
    last: str
    phone: str
    address: dict[str, str]
    weight: int


@dataclass
class _Line:
    number: int
    product: _Product
    qty: int
    unit_price: int
    unit_discount: int  # magnitude of the per-unit SubscriptionDiscount
    unit_ship: int
    unit_tax: int
    unit_discount_tax: int
    unit_ship_tax: int
    cancel_at: datetime | None = None
    cancel_reason: str | None = None
    allocated: bool = False
    return_id: str | None = None
    refund: "_RefundAmounts | None" = None

    def cancelled_by(self, when: datetime) -> bool:
        return self.cancel_at is not None and self.cancel_at <= when


@dataclass
class _PO:
    po_id: str
    customer_order_id: str
    customer: _Customer
    address: dict[str, str]
    state: _State
    created: datetime
    node: str
    method_code: str
    lines: list[_Line]
    ack_at: datetime
    est_ship: datetime
    est_delivery: datetime
    ship_at: datetime | None = None
    deliver_at: datetime | None = None
    carrier: str = ""
    tracking: str = ""
    label_fee: int = 0

    @property
    def wfs(self) -> bool:
        return self.node == _NODE_WFS


@dataclass
class _RefundAmounts:
    qty: int
    product_gross: int
    discount: int
    product_tax: int  # net of the discount's tax
    shipping: int
    shipping_tax: int
    reason_code: str
    refund_reason: str
    refund_id: str
    refunded_at: datetime | None

    @property
    def product_net(self) -> int:
        return self.product_gross - self.discount

    @property
    def total(self) -> int:
        return self.product_net + self.product_tax + self.shipping + self.shipping_tax


@dataclass
class _Return:
    return_id: str
    po: _PO
    lines: list[_Line]
    created: datetime
    received_at: datetime | None
    refunded_at: datetime
    keep_it: bool
    channel: str
