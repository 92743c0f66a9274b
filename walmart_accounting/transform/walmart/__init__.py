"""Walmart API data (orders, returns, reconciliation rows, inventory) -> validated raw frames, with rejects.

Pure functions: plain Python data in (as the Walmart client returns it: money as `Decimal` or int, never
float; report rows as dicts of strings), pandera-validated frames out (`schemas.walmart`). Building the rows
walks the JSON (that is parsing); sums, signs, products and date conversions are done on whole columns.

A record that cannot even be flattened (a missing id, a quantity that is not a number, an unknown status,
an amount with more decimals than its currency has) becomes one reject with a reason naming the field;
the rest of the batch goes on. What flattens then goes through the pandera model row by row
(`validation.split_valid`). Money is integer minor units from `minor_from_api`: never rounded, never float; a whole cent written
with binary-float noise (`0.30000000000000004`) is that cent, a genuine sub-cent amount is refused.

Decisions (FACTS.md leaves these open):
- Order charges are line totals (what the synthetic seller and every official example with quantity 1 give).
- A `SubscriptionDiscount` charge (any charge named "...Discount", or a negative PRODUCT charge) goes to
  discount_cents/discount_tax_cents, always <= 0 whatever sign the source uses.
- Line status: Shipped/Delivered (and the documented but rare `Refund`, which only follows a shipment)
  count as shipped quantity, Cancelled as cancelled quantity; `status` is the most advanced non-cancelled
  status (Delivered > Shipped > Acknowledged > Created); only Cancelled entries -> Cancelled.
- Order refunds are negative. Walmart's refund example is negative, an ATTRIBUTES example positive: the
  sign is decided per refund from the sum of its charges and taxes (a positive refund is flipped), so a
  charge inside a refund that goes the other way (a discount given back) keeps its relative sign.
- A refund section without refundId gets the deterministic id `<purchaseOrderId>-<lineNumber>-<n>`.
- Return lines: per-unit charge x quantity; discount charges (`isDiscount`, "...Discount" names or negative
  amounts) are subtracted from their category, so product_cents is the net product refund (as the order's
  refund section carries it); FEE charges and their tax go to fee_cents as a positive amount.
- A return line is `refunded` when its refund is complete for the whole line quantity: currentRefundStatus
  REFUND_COMPLETED, or currentTrackingStatuses / refundedQty covering the full quantity.
- One bad line makes its whole purchase order (or return) a reject: a document must never be built from
  part of its source. The same holds for a line the pandera model rejects (its siblings follow it).
- A purchase order (return) that appears twice in one batch (overlapping pages) is kept once, its last copy.
- customer_key = "WMC-" + sha256(lower-cased customerEmailId)[:16]; with no email at all, the hash of
  "order:<customerOrderId>" (a one-off customer, the same for the order and its returns).

One module per kind of source: `orders` (purchase orders and their refund sections), `returns` (return
orders, and the (purchase order, line) -> return order id map), `settlements` (reconciliation report rows)
and `inventory` (multi-node inventory); `common` holds what they share (the per-value parsers, customer
keys, rejects and the frame helpers).
"""

from walmart_accounting.transform.walmart.common import DEFAULT_CURRENCY, customer_key
from walmart_accounting.transform.walmart.inventory import INVENTORY_COLUMNS, inventory_frame
from walmart_accounting.transform.walmart.orders import ORDER_LINE_COLUMNS, ORDER_REFUND_COLUMNS, order_frames
from walmart_accounting.transform.walmart.returns import (
    REFUND_COMPLETED,
    RETURN_LINE_COLUMNS,
    return_frame,
    return_order_map,
)
from walmart_accounting.transform.walmart.settlements import (
    PAYMENT_SUMMARY,
    SETTLEMENT_COLUMNS,
    refunds_without_return,
    settled_order_refunds,
    settlement_frame,
)

__all__ = [
    "DEFAULT_CURRENCY",
    "INVENTORY_COLUMNS",
    "ORDER_LINE_COLUMNS",
    "ORDER_REFUND_COLUMNS",
    "PAYMENT_SUMMARY",
    "REFUND_COMPLETED",
    "RETURN_LINE_COLUMNS",
    "SETTLEMENT_COLUMNS",
    "customer_key",
    "inventory_frame",
    "order_frames",
    "refunds_without_return",
    "return_frame",
    "return_order_map",
    "settled_order_refunds",
    "settlement_frame",
]
