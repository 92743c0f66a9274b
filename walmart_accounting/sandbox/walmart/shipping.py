"""Ship order lines (POST /v3/orders/{purchaseOrderId}/shipping): the request checked as the official schema has it."""

# Sources: openapi/orders.json operation shippingUpdates (its schemas ShippingLineType, ShipLineStatusType,
# TrackingInfoType, CarrierNameType, QuantityType; the operation's own $refs point at the refund types by
# mistake, its example and the schema names say what is meant), examples/orders_ship_request.json and
# orders_ship_response.json, and the "Ship an order" page (developer.walmart.com/us-marketplace/docs/ship-an-order).
#
# CHOICE: the operation documents only its 200; every refusal here is 400 INVALID_REQUEST_CONTENT.GMP_ORDER_API
# (404 CONTENT_NOT_FOUND for an unknown PO), as the acknowledge endpoint answers, naming the field at fault.
# CHOICE: a request is applied whole or not at all; a refused line leaves the order as it was.
# No webhook: the sandbox emits none for acknowledge either, and ORDER_UPDATES has no shipping subEventType.

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from walmart_accounting.sandbox.walmart.base import ORDER_API, ApiBase, _bad_content, _not_found, dumps
from walmart_accounting.sandbox.walmart.helpers import _iso_ms
from walmart_accounting.sandbox.walmart.orders import _line_statuses, _order_lines, _ship_node_type, render_order

# CarrierNameType.carrier enum; any other carrier goes in otherCarrier, with a trackingURL.
CARRIERS = (
    "UPS", "USPS", "FedEx", "Airborne", "OnTrac", "DHL Ecommerce - US", "LS", "UDS", "UPSMI", "FDX", "PILOT", "ESTES",
    "SAIA", "FDS Express", "Seko Worldwide", "HIT Delivery", "FEDEXSP", "RL Carriers",
    "Metropolitan Warehouse & Delivery", "China Post", "YunExpress", "Yellow Freight Sys", "AIT Worldwide Logistics",
    "Chukou1", "Sendle", "Landmark Global", "Sunyou", "Yanwen", "4PX", "GLS", "OSM Worldwide", "FIRST MILE",
    "AM Trucking", "CEVA", "India Post", "SF Express", "CNE", "TForce Freight", "AxleHire", "LSO", "Royal Mail",
    "ABF Freight System", "WanB", "Roadrunner Freight", "Meyer Distribution", "AAA Cooper", "Canada Post",
    "Southeastern Freight Lines", "Japan Post", "Correos de Mexico", "XPO Logistics", "JD Logistics", "YDH", "JCEX",
    "Flyt", "Deutsche Post",
)
METHOD_CODES = ("Standard", "Express", "OneDay", "Freight", "WhiteGlove", "Value")  # TrackingInfoType.methodCode
UNITS = ("EACH", "EA")  # QuantityType.unitOfMeasurement
SELLER_ORDER_ID_MAX = 30  # ShippingLineType.sellerOrderId: "limit of 30 characters"
PARTIAL_UPDATE = "PARTIAL_UPDATE"  # OrderShipmentRecord.processMode, its only value
# Ship-an-order page: "The seller can update the shipment within 4 hours of sending the first shipping information."
PARTIAL_UPDATE_WINDOW_MS = 4 * 3_600_000


def _refuse(description: str, field_name: str = "data"):
    return _bad_content(ORDER_API, description, field_name)


@dataclass(frozen=True)
class Shipment:
    """One orderLineStatus of the request: a quantity of one line sent with one tracking number."""

    line_number: str
    seller_order_id: str
    intent_to_cancel_override: bool
    quantity: int
    unit: str
    tracking: dict  # trackingInfo as it will be stored (trackingURL may still be None)
    return_center: dict | None
    current_tracking_number: str | None  # PARTIAL_UPDATE: the shipment whose tracking is replaced


def _text(obj: dict, key: str, where: str, *, numbers: bool = False) -> str:
    value = obj.get(key)
    if numbers and isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # Java (Jackson) binds a JSON number to a string field
    if not isinstance(value, str) or not value.strip():
        raise _refuse(f"{where}.{key} is required", key)
    return value.strip()


def _object(value: Any, where: str, key: str) -> dict:
    if not isinstance(value, dict):
        raise _refuse(f"{where} is required", key)
    return value


def _array(value: Any, where: str, key: str) -> list:
    if not isinstance(value, list) or not value:
        raise _refuse(f"{where} must be a non-empty array", key)
    return value


def _quantity(value: Any, where: str) -> tuple[int, str]:
    qty = _object(value, f"{where}.statusQuantity", "statusQuantity")
    unit = qty.get("unitOfMeasurement")
    if unit not in UNITS:
        raise _refuse(f"{where}.statusQuantity.unitOfMeasurement must be one of {', '.join(UNITS)}", "unitOfMeasurement")
    amount = qty.get("amount")
    if isinstance(amount, int) and not isinstance(amount, bool):
        amount = str(amount)
    if not isinstance(amount, str) or not amount.strip().isdigit() or int(amount) < 1:
        raise _refuse(f"{where}.statusQuantity.amount must be a whole number of at least 1", "amount")
    return int(amount), unit


def _tracking(value: Any, where: str) -> dict:
    where = f"{where}.trackingInfo"
    info = _object(value, where, "trackingInfo")
    ship_time = info.get("shipDateTime")
    if not isinstance(ship_time, int) or isinstance(ship_time, bool):
        raise _refuse(f"{where}.shipDateTime is required, in epoch milliseconds (UTC)", "shipDateTime")
    names = _object(info.get("carrierName"), f"{where}.carrierName", "carrierName")
    carrier, other = names.get("carrier"), names.get("otherCarrier")
    if carrier and other:
        raise _refuse(f"{where}.carrierName takes carrier or otherCarrier, not both", "carrierName")
    if not carrier and not other:
        raise _refuse(f"{where}.carrierName.carrier (or otherCarrier) is required", "carrier")
    if carrier and carrier not in CARRIERS:
        raise _refuse(f"Invalid carrier '{carrier}'; a carrier Walmart does not list goes in otherCarrier, with a "
                      "trackingURL", "carrier")
    if other is not None and (not isinstance(other, str) or not other.strip()):
        raise _refuse(f"{where}.carrierName.otherCarrier must be a name", "otherCarrier")
    method = info.get("methodCode")
    if method not in METHOD_CODES:
        raise _refuse(f"{where}.methodCode must be one of {', '.join(METHOD_CODES)}", "methodCode")
    number = _text(info, "trackingNumber", where)
    url = info.get("trackingURL")
    if url is not None and (not isinstance(url, str) or not url.strip()):
        raise _refuse(f"{where}.trackingURL must be a URL", "trackingURL")
    if other and not url:
        # CarrierNameType: "When otherCarrier is used, trackingUrl must also be provided".
        raise _refuse(f"{where}.trackingURL is required when carrierName.otherCarrier is used", "trackingURL")
    return {
        "shipDateTime": ship_time,
        "carrierName": {"carrier": carrier} if carrier else {"otherCarrier": other.strip()},
        "methodCode": method,
        "trackingNumber": number,
        "trackingURL": url.strip() if url else None,
    }


def _return_center(value: Any, where: str) -> dict | None:
    if value is None:
        return None
    address = _object(value, f"{where}.returnCenterAddress", "returnCenterAddress")
    for key in ("address1", "city", "state", "postalCode", "country"):  # ReturnCenterAddressType.required
        _text(address, key, f"{where}.returnCenterAddress")
    return copy.deepcopy(address)


def parse_shipment(body: Any) -> tuple[str | None, list[Shipment]]:
    """processMode and the shipments of a request body; refuses what the official schema does not allow."""
    root = _object(body.get("orderShipment") if isinstance(body, dict) else None, "orderShipment", "orderShipment")
    mode = root.get("processMode")
    if mode is not None and mode != PARTIAL_UPDATE:
        raise _refuse(f"Invalid processMode '{mode}'; the supported value is {PARTIAL_UPDATE}", "processMode")
    order_lines = _object(root.get("orderLines"), "orderShipment.orderLines", "orderLines")
    lines = _array(order_lines.get("orderLine"), "orderShipment.orderLines.orderLine", "orderLine")
    shipments: list[Shipment] = []
    for i, line in enumerate(lines):
        where = f"orderLine[{i}]"
        line = _object(line, where, "orderLine")
        number = _text(line, "lineNumber", where, numbers=True)
        seller_order_id = _text(line, "sellerOrderId", where, numbers=True)
        if len(seller_order_id) > SELLER_ORDER_ID_MAX:
            raise _refuse(f"{where}.sellerOrderId is longer than {SELLER_ORDER_ID_MAX} characters", "sellerOrderId")
        override = line.get("intentToCancelOverride", False)
        if not isinstance(override, bool):
            raise _refuse(f"{where}.intentToCancelOverride must be true or false", "intentToCancelOverride")
        statuses_obj = _object(line.get("orderLineStatuses"), f"{where}.orderLineStatuses", "orderLineStatuses")
        statuses = _array(statuses_obj.get("orderLineStatus"), f"{where}.orderLineStatuses.orderLineStatus",
                          "orderLineStatus")
        for j, status in enumerate(statuses):
            at = f"{where}.orderLineStatuses.orderLineStatus[{j}]"
            status = _object(status, at, "orderLineStatus")
            if status.get("status") != "Shipped":
                raise _refuse(f"{at}.status must be 'Shipped', not {status.get('status')!r}", "status")
            quantity, unit = _quantity(status.get("statusQuantity"), at)
            current = status.get("currentTrackingInfo")
            current_number = current.get("trackingNumber") if isinstance(current, dict) else None
            shipments.append(Shipment(
                line_number=number, seller_order_id=seller_order_id, intent_to_cancel_override=override,
                quantity=quantity, unit=unit, tracking=_tracking(status.get("trackingInfo"), at),
                return_center=_return_center(status.get("returnCenterAddress"), at),
                current_tracking_number=str(current_number) if current_number else None,
            ))
    return mode, shipments


def _amount(status: dict) -> int:
    try:
        return int((status.get("statusQuantity") or {}).get("amount") or 0)
    except (TypeError, ValueError):
        return 0


def _intent_to_cancel(line: dict) -> bool:
    # OrderLineType.intentToCancel is typed string.
    return str(line.get("intentToCancel") or "").strip().lower() in ("true", "y", "yes")


def _summary(statuses: list[dict]) -> str:
    return ", ".join(f"{st.get('status')} {_amount(st)}" for st in statuses)


class ShippingState:
    """Moving order line quantities to Shipped; mixed into WalmartState (state.py), over OrdersState's orders."""

    def ship(self, purchase_order_id: str, body: Any) -> dict:
        """Apply a ship request to the order; returns the order (the emulator's, read it under the lock)."""
        mode, shipments = parse_shipment(body)
        po = str(purchase_order_id)
        now_ms = self.now_ms()
        with self.lock:
            order = self._orders.get(po)
            if order is None or not self.order_visible(order, now_ms):
                raise _not_found(ORDER_API, f"Failed when called shipping API for {po}. PO not found")
            if _ship_node_type(order) == "WFSFulfilled":
                # Ship-an-order page: "orders fulfilled with Walmart Fulfillment Services (WFS) cannot be shipped".
                raise _refuse(f"Purchase order {po} is fulfilled by Walmart Fulfillment Services and cannot be shipped")
            work = copy.deepcopy(order)
            lines = {str(line.get("lineNumber")): line for line in _order_lines(work)}
            shipped_lines: set[str] = set()
            recorded: dict[tuple[str, str, str], int] = {}  # (po, lineNumber, trackingNumber) -> first shipped
            changed = False
            for s in shipments:
                line = lines.get(s.line_number)
                if line is None:
                    raise _refuse(f"Invalid lineNumber '{s.line_number}': purchase order {po} has no such line",
                                  "lineNumber")
                ship_time = s.tracking["shipDateTime"]
                # CHOICE (strict): a shipment cannot be dated after now, nor before the order was placed; this also
                # catches epoch seconds sent for milliseconds.
                if ship_time > now_ms:
                    raise _refuse(f"shipDateTime {_iso_ms(ship_time)} is in the future", "shipDateTime")
                if ship_time < int(work.get("orderDate") or 0):
                    raise _refuse(f"shipDateTime {_iso_ms(ship_time)} is before the order date", "shipDateTime")
                tracking = dict(s.tracking)
                if tracking["trackingURL"] is None:
                    # CHOICE: Walmart's own tracking page, as in the official example of a shipped order.
                    tracking["trackingURL"] = (f"https://www.walmart.com/tracking?tracking_id={tracking['trackingNumber']}"
                                               f"&order_id={po}")
                if mode == PARTIAL_UPDATE:
                    changed |= self._update_tracking(po, line, s, tracking, now_ms, recorded)
                elif self._ship_line(line, s, tracking):
                    changed = True
                    shipped_lines.add(s.line_number)
                    recorded[(po, s.line_number, tracking["trackingNumber"])] = now_ms
                    work.setdefault("sellerOrderId", s.seller_order_id)  # as in the official response example
            if not changed:
                return order  # a repeat: nothing to change
            for number in shipped_lines:  # statusDate moves with a status, not with a tracking correction
                lines[number]["statusDate"] = now_ms
            self._orders[po] = work
            self._own.add(po)
            self._last_modified[po] = now_ms  # the changes feed (lastModifiedStartDate) sees the shipment
            self._shipped_at.update(recorded)
            return work

    @staticmethod
    def _ship_line(line: dict, s: Shipment, tracking: dict) -> bool:
        """Move the quantity from Acknowledged to a new Shipped status; False when it is already there."""
        statuses = [dict(st) for st in _line_statuses(line)]
        number = tracking["trackingNumber"]
        if _intent_to_cancel(line) and not s.intent_to_cancel_override:
            raise _refuse(f"Line {s.line_number} has an intent to cancel from the customer; send "
                          "intentToCancelOverride true to ship it", "intentToCancelOverride")
        for st in statuses:
            if st.get("status") in ("Shipped", "Delivered") and (st.get("trackingInfo") or {}).get("trackingNumber") == number:
                # CHOICE: the spec says nothing of repeats. A line and a tracking number name one shipment, so the
                # same shipment sent again (a retry after a lost answer) is answered with the order as it is
                # rather than shipping the quantity twice; the same tracking number with another quantity is
                # refused, and so is a new tracking number on a line with nothing left to ship (tracking is
                # corrected with processMode PARTIAL_UPDATE).
                if _amount(st) == s.quantity:
                    return False
                raise _refuse(f"Line {s.line_number} already shipped {_amount(st)} with tracking number {number}, "
                              f"not {s.quantity}", "trackingNumber")
        created = sum(_amount(st) for st in statuses if st.get("status") == "Created")
        acknowledged = sum(_amount(st) for st in statuses if st.get("status") == "Acknowledged")
        if created + acknowledged == 0:
            raise _refuse(f"Line {s.line_number} has no quantity left to ship ({_summary(statuses)}); to correct "
                          f"the tracking of a shipment use processMode {PARTIAL_UPDATE}", "lineNumber")
        if s.quantity > created + acknowledged:
            raise _refuse(f"statusQuantity {s.quantity} is more than the {created + acknowledged} unshipped on line "
                          f"{s.line_number} ({_summary(statuses)})", "amount")
        if s.quantity > acknowledged:
            # CHOICE (strict): the ship-an-order page says "Orders must be acknowledged before shipping".
            raise _refuse(f"Line {s.line_number} has {created} not acknowledged; orders must be acknowledged before "
                          "shipping", "lineNumber")
        left = s.quantity
        kept: list[dict] = []
        for st in statuses:
            if left and st.get("status") == "Acknowledged":
                take = min(left, _amount(st))
                left -= take
                if _amount(st) > take:
                    st["statusQuantity"] = {**st["statusQuantity"], "amount": str(_amount(st) - take)}
                    kept.append(st)
                continue
            kept.append(st)
        shipped = {"status": "Shipped", "statusQuantity": {"unitOfMeasurement": s.unit, "amount": str(s.quantity)},
                   "trackingInfo": tracking}
        if s.return_center is not None:
            shipped["returnCenterAddress"] = s.return_center
        line["orderLineStatuses"] = {"orderLineStatus": [*kept, shipped]}
        # CHOICE: sellerOrderId is a field of the order line (OrderLineType; the official response example has
        # it on the order too). The first one sent stays.
        line.setdefault("sellerOrderId", s.seller_order_id)
        return True

    def _update_tracking(self, po: str, line: dict, s: Shipment, tracking: dict, now_ms: int,
                         recorded: dict[tuple[str, str, str], int]) -> bool:
        """processMode PARTIAL_UPDATE: replace the tracking of a shipment; False when it already reads so."""
        statuses = _line_statuses(line)
        shipped = [st for st in statuses if st.get("status") == "Shipped"]
        if not shipped:
            raise _refuse(f"processMode {PARTIAL_UPDATE} updates a shipped line; line {s.line_number} has no Shipped "
                          f"quantity ({_summary(statuses)})", "processMode")
        if any(st.get("trackingInfo") == tracking and _amount(st) == s.quantity for st in shipped):
            return False  # the same update again
        if s.current_tracking_number is not None:
            target = next((st for st in shipped
                           if (st.get("trackingInfo") or {}).get("trackingNumber") == s.current_tracking_number), None)
            if target is None:
                raise _refuse(f"Line {s.line_number} has no shipment with tracking number {s.current_tracking_number}",
                              "currentTrackingInfo")
        elif len(shipped) == 1:
            target = shipped[0]
        else:
            raise _refuse(f"Line {s.line_number} has several shipments; name the one to update in "
                          "currentTrackingInfo.trackingNumber", "currentTrackingInfo")
        if _amount(target) != s.quantity:
            raise _refuse(f"statusQuantity {s.quantity} is not the {_amount(target)} of the shipment being updated",
                          "amount")
        old_number = (target.get("trackingInfo") or {}).get("trackingNumber")
        first = self._shipped_at.get((po, s.line_number, old_number), int(line.get("statusDate") or 0))
        if now_ms - first > PARTIAL_UPDATE_WINDOW_MS:
            raise _refuse(f"The shipment of line {s.line_number} can only be updated within 4 hours of its first "
                          "shipping information", "processMode")
        target["trackingInfo"] = tracking
        if s.return_center is not None:
            target["returnCenterAddress"] = s.return_center
        recorded[(po, s.line_number, tracking["trackingNumber"])] = first
        return True


class ShippingApi(ApiBase):
    """POST /v3/orders/{purchaseOrderId}/shipping."""

    async def ship_order_lines(self, request: Request) -> Response:
        po = request.path_params["purchaseOrderId"]
        body = await self._json_body(request, ORDER_API)
        order = self.state.ship(po, body)
        with self.state.lock:
            text = dumps({"order": render_order(order, product_info=False, replacement_info=False)})
        return Response(text.encode("utf-8"), media_type="application/json")
