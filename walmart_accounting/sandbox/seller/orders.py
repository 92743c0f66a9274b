"""Orders: weekday and seasonal demand, prices and promotions, taxes by state, cancellations, shipping, the API shape."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from walmart_accounting.sandbox.seller.catalog import _Product
from walmart_accounting.sandbox.seller.geography import _EAST, _State
from walmart_accounting.sandbox.seller.helpers import UTC, _money, _ms, _pct_of, _poisson
from walmart_accounting.sandbox.seller.inventory import _NODE_COLUMBUS, _NODE_RENO, _NODE_WFS, _NODES
from walmart_accounting.sandbox.seller.records import _PO, _Line

# The order charge name of a subscription discount; settlements report it as the Customer Promo Type.
DISCOUNT_CHARGE_NAME = "SubscriptionDiscount"

# Orders placed per hour of day (UTC): US evenings are the small hours in UTC.
_HOUR_WEIGHTS = (9, 8, 7, 6, 4, 3, 2, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 7, 7, 8, 8, 9, 9, 9)
_WEEKDAY_FACTOR = (1.12, 1.06, 1.0, 0.96, 0.90, 0.88, 1.08)  # Monday first
_BASE_ORDERS_PER_DAY = 18.0


class OrdersMixin:
    """Demand, prices and purchase orders, rendered as the orders API returns them; mixed into SyntheticSeller."""

    # -- demand ---------------------------------------------------------------------------------

    def _expected_orders(self, day: date) -> float:
        doy = day.timetuple().tm_yday
        holiday = 0.7 * math.exp(-(((doy - 345) / 55.0) ** 2))  # builds toward mid-December
        growth = 1.0 + 0.01 * ((day - self.start).days / 7.0)
        return _BASE_ORDERS_PER_DAY * _WEEKDAY_FACTOR[day.weekday()] * (0.9 + holiday) * growth

    def _order_times(self, day: date) -> list[datetime]:
        rng = self._rng
        moments = []
        for _ in range(_poisson(rng, self._expected_orders(day))):
            hour = rng.choices(range(24), weights=_HOUR_WEIGHTS)[0]
            moments.append(datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), UTC))
        return sorted(moments)

    def _unit_demand(self, product: _Product) -> float:
        share = product.popularity / sum(p.popularity for p in self._products)
        return _BASE_ORDERS_PER_DAY * 1.6 * 1.3 * share

    def _node_share(self, product: _Product, node: str) -> float:
        if node == _NODE_WFS:
            return 0.5 if product.wfs else 0.0
        sf = 0.5 if product.wfs else 1.0
        if node == _NODE_COLUMBUS:
            return sf * 0.4 if product.east else 0.0
        return sf * (0.6 if product.east else 1.0)

    # -- prices ---------------------------------------------------------------------------------

    def _setup_price_promotions(self) -> None:
        rng = self._rng
        self._promos: dict[str, tuple[date, date, int]] = {}
        for product in self._products:
            if rng.random() < 0.35:
                length = rng.randrange(4, 9)
                first = self.start + timedelta(days=rng.randrange(0, 26))
                reduced = product.spec.price_cents * rng.choice((80, 85, 90)) // 100
                reduced = reduced - reduced % 10 + 9  # shelf prices end in 9
                if reduced < product.spec.price_cents:
                    self._promos[product.spec.sku] = (first, first + timedelta(days=length), reduced)

    def _price_on(self, product: _Product, day: date) -> int:
        promo = self._promos.get(product.spec.sku)
        if promo and promo[0] <= day < promo[1]:
            return promo[2]
        return product.spec.price_cents

    def _tax_pct(self, state: _State) -> Decimal:
        if state.code in self.facilitator_states or state.code in self.seller_remitted_states:
            return state.rate_pct
        return Decimal(0)

    @staticmethod
    def _ship_rate(product: _Product, method: str) -> int:
        tier = 0 if product.weight_oz <= 16 else 1 if product.weight_oz <= 48 else 2
        return ((399, 599, 899), (899, 1199, 1599))[method == "Express"][tier]

    # -- orders ---------------------------------------------------------------------------------

    def _place_customer_order(self, moment: datetime) -> None:
        rng = self._rng
        customer = self._pick_customer()
        address, state = customer.address, None
        if rng.random() < 0.1:  # a gift to someone else
            address, state = self._new_address()
        state = state or next(s for s in self._states if s.code == address["state"])
        n_lines = rng.choices((1, 2, 3, 4, 5), weights=(58, 25, 10, 5, 2))[0]
        products = rng.sample(self._products, k=n_lines) if n_lines > 1 else [
            rng.choices(self._products, weights=[p.popularity for p in self._products])[0]
        ]
        if n_lines > 1:  # popular items lead multi-line baskets too
            products[0] = rng.choices(self._products, weights=[p.popularity for p in self._products])[0]
            products = list(dict.fromkeys(products))
        prefer_wfs = rng.random() < 0.55
        if prefer_wfs and not all(p.wfs for p in products) and rng.random() < 0.7:
            prefer_wfs = False  # most mixed baskets ship together from the seller's warehouse
        groups: dict[str, list[_Product]] = {}
        for product in products:
            channel = "wfs" if prefer_wfs and product.wfs else "sf"
            groups.setdefault(channel, []).append(product)
        customer_order_id = self._new_id(13)
        for channel in sorted(groups):
            group = groups[channel]
            if channel == "wfs":
                node = _NODE_WFS
            elif state.code in _EAST and all(p.east for p in group):
                node = _NODE_COLUMBUS
            else:
                node = _NODE_RENO
            self._make_po(moment, customer, dict(address), state, customer_order_id, node, group)

    def _make_po(self, moment, customer, address, state, customer_order_id, node, products) -> None:
        rng = self._rng
        wfs = node == _NODE_WFS
        if wfs:
            method = rng.choices(("Standard", "Express"), weights=(85, 15))[0]
        else:
            method = rng.choices(("Standard", "Value", "Express"), weights=(70, 18, 12))[0]
        tax_pct = self._tax_pct(state)
        drafts = []
        for product in products:
            qty = rng.choices((1, 2, 3, 4, 6), weights=(80, 12, 5, 2, 1))[0]
            price = self._price_on(product, moment.date())
            discount = _pct_of(price, Decimal(rng.choice((5, 10)))) if rng.random() < 0.06 else 0
            drafts.append((product, qty, price, discount))
        subtotal = sum(q * (p - d) for _, q, p, d in drafts)
        lines = []
        for number, (product, qty, price, discount) in enumerate(drafts, start=1):
            ship = 0
            if not wfs and (method == "Express" or (method == "Standard" and subtotal < 3500)):
                ship = self._ship_rate(product, method)
            lines.append(
                _Line(
                    number=number,
                    product=product,
                    qty=qty,
                    unit_price=price,
                    unit_discount=discount,
                    unit_ship=ship,
                    unit_tax=_pct_of(price, tax_pct),
                    unit_discount_tax=_pct_of(discount, tax_pct),
                    unit_ship_tax=_pct_of(ship, tax_pct) if state.shipping_taxable else 0,
                )
            )
        # Cancellations: out of stock at the node, or the customer / a pricing error.
        for line in lines:
            key = (line.product.spec.sku, node)
            if self._free[key] < line.qty:
                line.cancel_at = moment + timedelta(minutes=rng.randrange(60, 360))
                line.cancel_reason = "SELLER_CANCEL_OUT_OF_STOCK"
                continue
            roll = rng.random()
            cancel_at = moment + timedelta(minutes=rng.randrange(10, 240))
            if roll < 0.025 and cancel_at <= self.as_of:
                line.cancel_at, line.cancel_reason = cancel_at, "CUSTOMER_REQUESTED_SELLER_TO_CANCEL"
            elif roll < 0.032 and cancel_at <= self.as_of:
                line.cancel_at, line.cancel_reason = cancel_at, "SELLER_CANCEL_PRICING_ERROR"
            else:
                line.allocated = True
                self._free[key] -= line.qty
        ack_at = moment + timedelta(minutes=rng.randrange(1, 10) if wfs else rng.randrange(15, 180))
        est_ship_day = moment.date() + timedelta(days=1)
        if est_ship_day.weekday() == 6:
            est_ship_day += timedelta(days=1)
        est_ship = datetime.combine(est_ship_day, time(23, 0), UTC)
        transit = {"Express": 2, "Standard": 2 if wfs else 5, "Value": 7}[method]
        est_delivery = datetime.combine(est_ship_day + timedelta(days=transit), time(23, 0), UTC)
        po = _PO(
            po_id=self._new_id(13),
            customer_order_id=customer_order_id,
            customer=customer,
            address=address,
            state=state,
            created=moment,
            node=node,
            method_code=method,
            lines=lines,
            ack_at=ack_at,
            est_ship=est_ship,
            est_delivery=est_delivery,
        )
        if any(line.allocated for line in lines):
            if wfs:
                ship_at = moment + timedelta(minutes=rng.randrange(6 * 60, 30 * 60))
                carrier = rng.choices(("FedEx", "UPS", "USPS"), weights=(50, 30, 20))[0]
            else:
                ship_day = est_ship_day if rng.random() < 0.85 else est_ship_day + timedelta(days=1)
                ship_at = datetime.combine(ship_day, time(rng.randrange(17, 24), rng.randrange(60)), UTC)
                carrier = rng.choices(("USPS", "UPS", "FedEx"), weights=(55, 25, 20))[0]
            days_in_transit = max(1, transit + rng.choice((-1, 0, 0, 1)))
            po.ship_at = ship_at
            po.deliver_at = ship_at + timedelta(days=days_in_transit, hours=rng.randrange(0, 8))
            po.carrier = carrier
            po.tracking = self._tracking_number(carrier)
            if not wfs and rng.random() < 0.6:  # label bought through Walmart's Ship with Walmart
                oz = sum(line.qty * line.product.weight_oz for line in lines if line.allocated)
                tier = 0 if oz <= 16 else 1 if oz <= 48 else 2 if oz <= 160 else 3
                po.label_fee = rng.randrange(*((430, 520), (720, 910), (1080, 1420), (1790, 2460))[tier])
        self._pos.append(po)

    def _tracking_number(self, carrier: str) -> str:
        rng = self._rng
        if carrier == "USPS":
            return "9400" + "".join(str(rng.randrange(10)) for _ in range(18))
        if carrier == "UPS":
            return "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16))
        return "".join(str(rng.randrange(10)) for _ in range(12))

    # -- rendering: orders ----------------------------------------------------------------------

    def _line_status(self, po: _PO, line: _Line) -> tuple[str, datetime]:
        if line.cancelled_by(self.as_of):
            return "Cancelled", line.cancel_at
        if line.allocated and po.deliver_at is not None and po.deliver_at <= self.as_of:
            return "Delivered", po.deliver_at
        if line.allocated and po.ship_at is not None and po.ship_at <= self.as_of:
            return "Shipped", po.ship_at
        if po.ack_at <= self.as_of:
            return "Acknowledged", po.ack_at
        return "Created", po.created

    def _render_charges(self, line: _Line, status: str) -> list[dict]:
        if status == "Cancelled":
            # Walmart zeroes the charges of a cancelled line (see the official order examples).
            return [{"chargeType": "PRODUCT", "chargeName": "ItemPrice", "chargeAmount": _money(0),
                     "tax": {"taxName": "Tax1", "taxAmount": _money(0)}}]
        charges = [{
            "chargeType": "PRODUCT",
            "chargeName": "ItemPrice",
            "chargeAmount": _money(line.qty * line.unit_price),
            "tax": {"taxName": "Tax1", "taxAmount": _money(line.qty * line.unit_tax)},
        }]
        if line.unit_discount:
            charges.append({
                "chargeType": "PRODUCT",
                "chargeName": DISCOUNT_CHARGE_NAME,
                "chargeAmount": _money(-line.qty * line.unit_discount),
                "tax": {"taxName": "Tax1", "taxAmount": _money(-line.qty * line.unit_discount_tax)},
            })
        if line.unit_ship:
            charge = {"chargeType": "SHIPPING", "chargeName": "Shipping",
                      "chargeAmount": _money(line.qty * line.unit_ship)}
            if line.unit_ship_tax:
                charge["tax"] = {"taxName": "Tax2", "taxAmount": _money(line.qty * line.unit_ship_tax)}
            charges.append(charge)
        return charges

    def _render_order(self, po: _PO) -> dict:
        customer = po.customer
        postal = {"name": f"{customer.first} {customer.last}", "address1": po.address["address1"]}
        if "address2" in po.address:
            postal["address2"] = po.address["address2"]
        postal.update(city=po.address["city"], state=po.address["state"], postalCode=po.address["postalCode"],
                      country="USA", addressType="RESIDENTIAL")
        ship_method = {"Standard": "STANDARD", "Express": "EXPEDITED", "Value": "VALUE"}[po.method_code]
        lines = []
        for line in po.lines:
            status, status_at = self._line_status(po, line)
            qty = {"unitOfMeasurement": "EACH", "amount": str(line.qty)}
            entry: dict = {"status": status, "statusQuantity": dict(qty)}
            if status == "Cancelled":
                entry["cancellationReason"] = line.cancel_reason
            if status in ("Shipped", "Delivered"):
                entry["trackingInfo"] = {
                    "shipDateTime": _ms(po.ship_at),
                    "carrierName": {"carrier": po.carrier},
                    "methodCode": po.method_code,
                    "trackingNumber": po.tracking,
                    "trackingURL": f"https://www.walmart.com/tracking?tracking_id={po.tracking}&order_id={po.po_id}",
                }
            fulfillment = {"fulfillmentOption": "S2H", "shipMethod": ship_method,
                           "pickUpDateTime": _ms(po.est_delivery)}
            if po.wfs:
                fulfillment["shippingProgramType"] = "TWO_DAY" if po.method_code == "Standard" else "ONE_DAY"
            rendered = {
                "lineNumber": str(line.number),
                "item": {"productName": line.product.spec.name, "sku": line.product.spec.sku},
                "charges": {"charge": self._render_charges(line, status)},
                "orderLineQuantity": qty,
                "statusDate": _ms(status_at),
                "orderLineStatuses": {"orderLineStatus": [entry]},
                "fulfillment": fulfillment,
            }
            refund = line.refund
            if refund is not None and refund.refunded_at is not None and refund.refunded_at <= self.as_of:
                rendered["statusDate"] = _ms(max(status_at, refund.refunded_at))
                if line.return_id is not None:
                    rendered["returnOrderId"] = line.return_id
                refund_charges = [{
                    "refundReason": refund.refund_reason,
                    "charge": {
                        "chargeType": "PRODUCT",
                        "chargeName": "ItemPrice",
                        "chargeAmount": _money(-refund.product_net),
                        "tax": {"taxName": "Tax1", "taxAmount": _money(-refund.product_tax)},
                    },
                }]
                if refund.shipping:
                    charge = {"chargeType": "SHIPPING", "chargeName": "Shipping",
                              "chargeAmount": _money(-refund.shipping)}
                    if refund.shipping_tax:
                        charge["tax"] = {"taxName": "Tax2", "taxAmount": _money(-refund.shipping_tax)}
                    refund_charges.append({"refundReason": refund.refund_reason, "charge": charge})
                rendered["refund"] = {
                    "refundId": refund.refund_id,
                    "refundComments": (f"Refund for return {line.return_id}" if line.return_id is not None
                                       else "Partial refund issued by the seller"),
                    "refundCharges": {"refundCharge": refund_charges},
                }
            elif line.return_id is not None:
                rendered["returnOrderId"] = line.return_id
            lines.append(rendered)
        return {
            "purchaseOrderId": po.po_id,
            "customerOrderId": po.customer_order_id,
            "customerEmailId": customer.email,
            "orderType": "REGULAR",
            "orderDate": _ms(po.created),
            "shippingInfo": {
                "phone": customer.phone,
                "estimatedDeliveryDate": _ms(po.est_delivery),
                "estimatedShipDate": _ms(po.est_ship),
                "methodCode": po.method_code,
                "postalAddress": postal,
            },
            "orderLines": {"orderLine": lines},
            "shipNode": {"type": _NODES[po.node]["type"], "name": _NODES[po.node]["name"], "id": po.node},
        }
