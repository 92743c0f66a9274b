"""pandera models of the Walmart frames that cross asset boundaries: order lines, refunds, return lines, settlement rows, inventory."""

from typing import Optional

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

ORDER_LINE_STATUSES = ["Created", "Acknowledged", "Shipped", "Delivered", "Cancelled"]
SHIPPED_STATUSES = ["Shipped", "Delivered"]
SETTLEMENT_TRANSACTION_TYPES = [
    "PaymentSummary", "Sale", "Refund", "Adjustment", "Service Fee", "Campaigns", "Reserve",
    "Release Reserve", "Dispute Settlement",
]
UTC_TIME = pd.DatetimeTZDtype(tz="UTC")


class _Frame(pa.DataFrameModel):
    class Config:
        strict = "filter"  # extra columns are dropped, never trusted
        coerce = True


class OrderLine(_Frame):
    """One purchase order line in its current state; money in integer cents (line totals, not per unit)."""

    purchase_order_id: Series[str] = pa.Field(str_matches=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    customer_order_id: Series[str]
    customer_key: Series[str] = pa.Field(description="stable external id of the customer (hash of the relay email)")
    customer_name: Series[str] = pa.Field(nullable=True)
    customer_email: Series[str] = pa.Field(nullable=True)
    order_date: Series[UTC_TIME]
    line_number: Series[str]
    sku: Series[str] = pa.Field(str_length={"min_value": 1})
    product_name: Series[str] = pa.Field(nullable=True)
    quantity: Series[int] = pa.Field(ge=1)
    status: Series[str] = pa.Field(isin=ORDER_LINE_STATUSES)
    shipped_quantity: Series[int] = pa.Field(ge=0)
    cancelled_quantity: Series[int] = pa.Field(ge=0)
    ship_date: Series[UTC_TIME] = pa.Field(nullable=True)
    ship_to_state: Series[str] = pa.Field(nullable=True)
    ship_to_postal_code: Series[str] = pa.Field(nullable=True)
    ship_node_type: Series[str] = pa.Field(nullable=True)
    ship_node: Series[str] = pa.Field(nullable=True)  # the ship node's id (Walmart sends it for some orders only)
    currency: Series[str] = pa.Field(str_matches=r"^[A-Z]{3}$")
    product_cents: Series[int]
    product_tax_cents: Series[int]
    shipping_cents: Series[int] = pa.Field(ge=0)
    shipping_tax_cents: Series[int] = pa.Field(ge=0)
    discount_cents: Series[int] = pa.Field(le=0)
    discount_tax_cents: Series[int] = pa.Field(le=0)

    @pa.dataframe_check(description="shipped plus cancelled never exceeds the ordered quantity")
    def quantities_add_up(cls, df: pd.DataFrame) -> Series[bool]:
        return df["shipped_quantity"] + df["cancelled_quantity"] <= df["quantity"]


class OrderRefund(_Frame):
    """One refund of one order line (the order's refund section); amounts negative, in cents."""

    purchase_order_id: Series[str]
    line_number: Series[str]
    sku: Series[str]
    refund_id: Series[str]
    return_order_id: Series[str] = pa.Field(nullable=True)
    refund_reason: Series[str] = pa.Field(nullable=True)
    currency: Series[str] = pa.Field(str_matches=r"^[A-Z]{3}$")
    product_cents: Series[int] = pa.Field(le=0)
    product_tax_cents: Series[int] = pa.Field(le=0)
    shipping_cents: Series[int] = pa.Field(le=0)
    shipping_tax_cents: Series[int] = pa.Field(le=0)


class SettledRefund(OrderRefund):
    """An order's refund that a settlement report pays, dated when Walmart posted it (its Refund row)."""

    report_date: Series[str] = pa.Field(str_matches=r"^\d{8}$")
    refund_date: Series[pd.Timestamp] = pa.Field(description="the day Walmart posted the refund (its Refund row)")


class ReturnLine(_Frame):
    """One line of a Walmart return order; refund amounts positive, in cents (totals for the line's quantity)."""

    return_order_id: Series[str] = pa.Field(str_matches=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    customer_order_id: Series[str]
    customer_key: Series[str]
    customer_name: Series[str] = pa.Field(nullable=True)
    return_date: Series[UTC_TIME]
    purchase_order_id: Series[str]
    purchase_order_line_number: Series[str]
    return_line_number: Series[str]
    sku: Series[str] = pa.Field(str_length={"min_value": 1})
    quantity: Series[int] = pa.Field(ge=1)
    refund_status: Series[str] = pa.Field(nullable=True)
    refunded: Series[bool]
    refund_date: Optional[Series[UTC_TIME]] = pa.Field(nullable=True, description="when Walmart completed the line's refund")
    currency: Series[str] = pa.Field(str_matches=r"^[A-Z]{3}$")
    product_cents: Series[int] = pa.Field(ge=0)
    product_tax_cents: Series[int] = pa.Field(ge=0)
    shipping_cents: Series[int] = pa.Field(ge=0)
    shipping_tax_cents: Series[int] = pa.Field(ge=0)
    fee_cents: Series[int] = pa.Field(description="restocking and other fees kept back from the refund, as a positive amount")


class SettlementRow(_Frame):
    """One row of a v1 reconciliation report; the PaymentSummary row carries the payout in amount_cents."""

    report_date: Series[str] = pa.Field(str_matches=r"^\d{8}$")
    period_start: Series[pd.Timestamp]
    period_end: Series[pd.Timestamp]
    row_number: Series[int] = pa.Field(ge=0)
    transaction_key: Series[str] = pa.Field(nullable=True)
    posted_date: Series[pd.Timestamp]
    transaction_type: Series[str] = pa.Field(isin=SETTLEMENT_TRANSACTION_TYPES)
    transaction_description: Series[str] = pa.Field(nullable=True)
    amount_type: Series[str] = pa.Field(nullable=True)
    customer_order_id: Series[str] = pa.Field(nullable=True)
    purchase_order_id: Series[str] = pa.Field(nullable=True)
    purchase_order_line: Series[str] = pa.Field(nullable=True)
    return_order_id: Series[str] = pa.Field(nullable=True, description="from the returns API, for refund rows")
    sku: Series[str] = pa.Field(nullable=True)
    ship_to_state: Series[str] = pa.Field(nullable=True)
    ship_qty: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    fulfillment_type: Series[str] = pa.Field(nullable=True)
    currency: Series[str] = pa.Field(str_matches=r"^[A-Z]{3}$")
    amount_cents: Series[int]


class InventorySnapshot(_Frame):
    """Stock per SKU and ship node when the snapshot was taken: on hand, available to sell, reserved by open orders."""

    snapshot_at: Series[pd.Timestamp]  # UTC, when Walmart was read
    sku: Series[str] = pa.Field(str_length={"min_value": 1})
    ship_node: Series[str] = pa.Field(str_length={"min_value": 1})  # WFS stock has no node id: "WFS"
    ship_node_type: Series[str] = pa.Field(isin=["SellerFulfilled", "WFSFulfilled"])
    input_quantity: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)  # what the seller last sent; WFS: none
    available_quantity: Series[int] = pa.Field(ge=0)
    reserved_quantity: Series[int] = pa.Field(ge=0)
    on_hand_quantity: Series[int] = pa.Field(ge=0)  # available + reserved (WFS: Walmart's onHandQty)
