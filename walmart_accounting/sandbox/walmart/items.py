"""The catalogue and its prices: GET /v3/items and PUT /v3/price."""

from __future__ import annotations

import base64
import binascii
import hashlib
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from walmart_accounting.sandbox.walmart.base import (
    ITEM_API,
    PRICE_API,
    ApiBase,
    _bad_content,
    _bad_param,
    _not_found,
    json_response,
)
from walmart_accounting.sandbox.walmart.helpers import _int_param, _query

_PRICING_REQUIRED = "pricing[].currentPrice with currency USD and an amount above 0 is required"


def _price_from_pricing(pricing: Any) -> Decimal | None:
    if not isinstance(pricing, list) or not pricing:
        return None
    current = (pricing[0] or {}).get("currentPrice") if isinstance(pricing[0], dict) else None
    if not isinstance(current, dict) or current.get("currency") != "USD":
        return None
    amount = current.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, (int, Decimal)) or amount <= 0:
        return None
    return Decimal(amount)


class ItemsApi(ApiBase):
    """GET /v3/items and PUT /v3/price."""

    async def list_items(self, request: Request) -> Response:
        """GET /v3/items: the seller's catalogue, paged with nextCursor (sent as '*' on the first call).

        Observed (FACTS section 5): without nextCursor=* no cursor comes back, and past the end the API
        answers 404 CONTENT_NOT_FOUND rather than an empty page.
        """
        state = self.state
        params = _query(request)
        limit = _int_param(ITEM_API, params, "limit", 20, low=1, high=50, high_message="limit cannot be more than 50")
        cursor = params.get("nextCursor")
        offset = 0
        if cursor and cursor != "*":
            try:
                offset = int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
            except (ValueError, binascii.Error, UnicodeDecodeError):
                raise _bad_param(ITEM_API, "nextCursor", "Invalid or expired nextCursor") from None
        skus = sorted(state.seller.skus, key=lambda spec: spec.sku)
        if params.get("sku"):
            skus = [spec for spec in skus if spec.sku == params["sku"]]
        page = skus[offset:offset + limit]
        if not page:
            raise _not_found(ITEM_API, "No items found")
        state.advance_feeds()
        with state.lock:
            prices = dict(state.prices)  # as price updates and processed price feeds left them
        items = [{
            "mart": "WALMART_US", "sku": spec.sku, "wpid": f"0{hashlib.sha1(spec.sku.encode()).hexdigest()[:11].upper()}",
            "gtin": spec.gtin, "upc": spec.gtin[2:], "productName": spec.name,
            "price": {"currency": "USD", "amount": prices.get(spec.sku, Decimal(spec.price_cents).scaleb(-2))},
            "publishedStatus": "PUBLISHED", "lifecycleStatus": "ACTIVE",
        } for spec in page]
        body: dict[str, Any] = {"ItemResponse": items, "totalItems": len(skus)}
        if cursor and offset + limit < len(skus):
            body["nextCursor"] = base64.urlsafe_b64encode(str(offset + limit).encode()).decode().rstrip("=")
        return json_response(body)

    # -- prices ---------------------------------------------------------------------------------------

    async def put_price(self, request: Request) -> Response:
        state = self.state
        body = await self._json_body(request, PRICE_API)
        if not isinstance(body, dict):
            raise _bad_content(PRICE_API, "Request body must be an object")
        sku = str(body.get("sku") or "")
        if not state.known_sku(sku):
            raise _not_found(PRICE_API, f"Item not found for sku {sku}", "sku")
        amount = _price_from_pricing(body.get("pricing"))
        if amount is None:
            raise _bad_content(PRICE_API, _PRICING_REQUIRED, "pricing")
        with state.lock:
            state.prices[sku] = amount
        return json_response({"ItemPriceResponse": {
            "mart": "WALMART_US",
            "message": "Thank you. Your price has been updated. Please allow up to five minutes for this change "
                       "to be reflected on the site.",
            "sku": sku,
        }})
