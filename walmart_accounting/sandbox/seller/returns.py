"""Returns and refunds: which delivered lines come back, why, how much is refunded, the returns API shape."""

from __future__ import annotations

import random
from datetime import timedelta

from walmart_accounting.sandbox.seller.helpers import _iso, _return_tax, _rmoney
from walmart_accounting.sandbox.seller.orders import DISCOUNT_CHARGE_NAME
from walmart_accounting.sandbox.seller.records import _RefundAmounts, _Return

# Walmart return reason codes (returns.json) and how they read as order refund reasons.
_RETURN_REASONS: tuple[tuple[str, str, int, bool], ...] = (
    # code, refundReason on the order, weight, seller at fault (shipping refunded, item not resold)
    ("NO_LONGER_WANTED", "CustomerChangedMind", 24, False),
    ("DEFECTIVE", "DefectiveItem", 16, True),
    ("NOT_AS_DESCRIBED", "ItemNotAsAdvertised", 10, True),
    ("DAMAGED", "DamagedItem", 10, True),
    ("BOUGHT_SOMEWHERE_ELSE", "CustomerChangedMind", 8, False),
    ("ARRIVED_LATE", "CustomerReceivedItemLate", 6, False),
    ("INCORRECT_ITEM", "IncorrectItemReceived", 6, True),
    ("LOWER_PRICE", "CustomerChangedMind", 5, False),
    ("MISSING_PARTS", "Missing Parts / Instructions", 5, True),
    ("INADEQUATE_QUALITY", "ItemNotAsAdvertised", 5, False),
    ("DUPLICATE_ITEM", "CustomerChangedMind", 5, False),
)


class ReturnsMixin:
    """Returns and their refunds; mixed into SyntheticSeller (synthetic.py)."""

    # -- returns --------------------------------------------------------------------------------

    def _simulate_returns(self) -> None:
        rng = self._rng
        weights = [r[2] for r in _RETURN_REASONS]
        for po in self._pos:
            if po.deliver_at is None or po.deliver_at > self.as_of:
                continue
            chosen = [ln for ln in po.lines if ln.allocated and not ln.cancelled_by(self.as_of) and rng.random() < 0.12]
            if not chosen:
                continue
            created = po.deliver_at + timedelta(days=rng.choice((1, 2, 3, 4, 5, 6, 8, 10, 14, 21)),
                                                minutes=rng.randrange(0, 24 * 60))
            if created > self.as_of:
                continue
            keep_it = all(ln.unit_price < 1500 for ln in chosen) and rng.random() < 0.4
            if keep_it:
                received_at = None
                refunded_at = created + timedelta(minutes=rng.randrange(20, 240))
            else:
                received_at = created + timedelta(days=rng.randrange(3, 9), minutes=rng.randrange(0, 600))
                refunded_at = received_at + timedelta(minutes=rng.randrange(30, 30 * 60))
            return_id = self._new_id(18)
            refunded = refunded_at <= self.as_of
            for line in chosen:
                code, reason, _, seller_fault = rng.choices(_RETURN_REASONS, weights=weights)[0]
                qty = rng.randrange(1, line.qty) if line.qty > 1 and rng.random() < 0.65 else line.qty
                refund_shipping = seller_fault and qty == line.qty
                line.return_id = return_id
                line.refund = _RefundAmounts(
                    qty=qty,
                    product_gross=qty * line.unit_price,
                    discount=qty * line.unit_discount,
                    product_tax=qty * (line.unit_tax - line.unit_discount_tax),
                    shipping=qty * line.unit_ship if refund_shipping else 0,
                    shipping_tax=qty * line.unit_ship_tax if refund_shipping else 0,
                    reason_code=code,
                    refund_reason=reason,
                    refund_id=self._new_id(10),
                    refunded_at=refunded_at if refunded else None,
                )
                if received_at is not None and received_at <= self.as_of and not seller_fault:
                    key = (line.product.spec.sku, po.node)
                    self._restocked[key] = self._restocked.get(key, 0) + qty
            channel = rng.choices(("ONLINE", "IN_STORE"), weights=(85, 15))[0]
            self._returns.append(_Return(return_id, po, chosen, created, received_at, refunded_at, keep_it, channel))

    def _simulate_order_refunds(self) -> None:
        """Refunds issued on the order with no return (POST /v3/orders/{po}/refund): price adjustments, goodwill.

        Drawn from their own random stream, so the orders, returns and settlements of a seed stay as they were.
        """
        rng = random.Random(f"{self.seed}-order-refunds")
        for po in self._pos:
            if po.deliver_at is None or rng.random() >= 0.03:
                continue
            lines = [ln for ln in po.lines if ln.allocated and ln.refund is None and not ln.cancelled_by(self.as_of)]
            if not lines:
                continue
            line = rng.choice(lines)
            share = rng.choice((10, 15, 20, 25, 50))  # percent of the line's price given back
            gross = line.qty * line.unit_price * share // 100
            refunded_at = po.deliver_at + timedelta(days=rng.randrange(1, 12), minutes=rng.randrange(0, 24 * 60))
            line.refund = _RefundAmounts(
                qty=line.qty, product_gross=gross, discount=0,
                product_tax=line.qty * line.unit_tax * share // 100, shipping=0, shipping_tax=0,
                reason_code="PRICE_ADJUSTMENT", refund_reason=rng.choice(("ItemNotAsAdvertised", "Finance -> Goodwill",
                                                                          "Shipping & Delivery -> Damaged")),
                refund_id=self._new_id(10, rng), refunded_at=refunded_at if refunded_at <= self.as_of else None,
            )

    # -- rendering: returns ---------------------------------------------------------------------

    def _render_return(self, ret: _Return) -> dict:
        rng = self._rng
        po, as_of = ret.po, self.as_of
        refunded = ret.refunded_at <= as_of
        received = ret.received_at is not None and ret.received_at <= as_of
        if refunded:
            status, status_at, refund_status = "COMPLETED", ret.refunded_at, "REFUND_COMPLETED"
        elif received:
            status, status_at, refund_status = "DELIVERED", ret.received_at, "REFUND_PENDING"
        else:
            status, status_at, refund_status = "INITIATED", ret.created, "REFUND_PENDING"
        if ret.keep_it:
            delivery_status = "NOT_APPLICABLE"
        elif received:
            delivery_status = "DELIVERED"
        elif ret.created + timedelta(days=1) <= as_of:
            delivery_status = "IN_TRANSIT"
        else:
            delivery_status = "NOT_SHIPPED"
        events = [("RETURN_INITIATED", "Return initiated for MARKET_PLACE", ret.created)]
        if not ret.keep_it and ret.created + timedelta(days=1) <= as_of:
            events.append(("RETURN_IN_TRANSIT", "A MARKET_PLACE Return in Transit", ret.created + timedelta(days=1)))
        if received:
            events.append(("RETURN_RECEIVED", "Return received at return center", ret.received_at))
        if refunded:
            events.append(("REFUND_COMPLETED", "Refund issued to customer", ret.refunded_at))
        tracking = [
            {"sequenceNo": i, "eventTag": tag, "eventDescription": text, "eventTime": _iso(when),
             "references": [{"name": "ReturnDate", "value": _iso(ret.created)}]}
            for i, (tag, text, when) in enumerate(events)
        ]
        total = 0
        out_lines = []
        for number, line in enumerate(ret.lines, start=1):
            refund = line.refund
            k = refund.qty
            total += refund.total
            charges = [{
                "chargeCategory": "PRODUCT", "chargeName": "ItemPrice", "chargePerUnit": _rmoney(line.unit_price),
                "isDiscount": False, "isBillable": True, "tax": _return_tax("Tax1", line.unit_tax),
                "excessCharge": _rmoney(0),
                "references": [{"name": "isAdjustment", "value": "false"}],
            }]
            if line.unit_discount:
                charges.append({
                    "chargeCategory": "PRODUCT", "chargeName": DISCOUNT_CHARGE_NAME,
                    "chargePerUnit": _rmoney(line.unit_discount), "isDiscount": True, "isBillable": True,
                    "tax": _return_tax("Tax1", line.unit_discount_tax), "excessCharge": _rmoney(0),
                    "references": [{"name": "isAdjustment", "value": "false"}],
                })
            if refund.shipping:
                charges.append({
                    "chargeCategory": "SHIPPING", "chargeName": "Shipping", "chargePerUnit": _rmoney(line.unit_ship),
                    "isDiscount": False, "isBillable": True,
                    "tax": _return_tax("Tax2", line.unit_ship_tax),
                    "excessCharge": _rmoney(0), "references": [{"name": "isAdjustment", "value": "false"}],
                })
            taxes = refund.product_tax + refund.shipping_tax
            subtotal = refund.product_net + refund.shipping
            quantity = {"unitOfMeasure": "EACH", "measurementValue": k}
            out_lines.append({
                "returnOrderLineNumber": number,
                "salesOrderLineNumber": line.number,
                "returnReason": refund.reason_code,
                "purchaseOrderId": po.po_id,
                "purchaseOrderLineNumber": line.number,
                "isReturnForException": False,
                "item": {"sku": line.product.spec.sku, "productName": line.product.spec.name},
                "charges": charges,
                "unitPrice": _rmoney(line.unit_price),
                "chargeTotals": [
                    {"name": "lineUnitPrice", "value": _rmoney(line.unit_price)},
                    {"name": "lineProductTaxes", "value": _rmoney(refund.product_tax)},
                    {"name": "lineTotalTaxes", "value": _rmoney(taxes)},
                    {"name": "lineSubTotal", "value": _rmoney(subtotal)},
                    {"name": "lineTotal", "value": _rmoney(subtotal + taxes)},
                ],
                "currentDeliveryStatus": delivery_status,
                "currentRefundStatus": refund_status,
                "currentTrackingStatuses": [{"status": status, "statusTime": _iso(status_at),
                                             "currentRefundStatus": refund_status, "quantity": dict(quantity)}],
                "refundChannels": [{"refundChannelName": ret.channel, "quantity": {"measurementValue": k}}],
                "cancellableQty": 0,
                "quantity": quantity,
                "returnExpectedFlag": not ret.keep_it,
                "isFastReplacement": False,
                "isKeepIt": ret.keep_it,
                "lastItem": k == line.qty,
                "refundedQty": k if refunded else 0,
                "rechargeableQty": 0,
                "refundChannel": "WALMART_SETTLED_REFUND" if po.wfs else "SELLER_AUTO_REFUND",
                "returnTrackingDetail": tracking,
                "status": status,
                "statusTime": _iso(status_at),
            })
        group: dict = {
            "groupNo": 1,
            "returnLines": [{"returnOrderLineNumber": n} for n in range(1, len(out_lines) + 1)],
            "returnExpectedFlag": not ret.keep_it,
        }
        if not ret.keep_it and ret.channel == "ONLINE":  # in-store returns need no mailing label
            label_no = "".join(str(rng.randrange(10)) for _ in range(12))
            group["labels"] = [{
                "labelImageURL": f"https://i5.walmartimages.com/asr/{rng.getrandbits(64):016x}_1.png",
                "carrierInfoList": [{"carrierId": "11", "carrierName": "FEDEX", "serviceType": "FedEx Ground",
                                     "trackingNo": label_no}],
            }]
        return {
            "returnOrderId": ret.return_id,
            "customerEmailId": po.customer.email,
            "customerName": {"firstName": po.customer.first, "lastName": po.customer.last},
            "customerOrderId": po.customer_order_id,
            "refundMode": "POST_DELIVERY",
            "returnOrderDate": _iso(ret.created),
            "returnByDate": _iso(ret.created + timedelta(days=30)),
            "returnType": "REFUND",
            "totalRefundAmount": _rmoney(total),
            "returnLineGroups": [group],
            "returnOrderLines": out_lines,
            "returnChannel": {"channelName": ret.channel},
        }
