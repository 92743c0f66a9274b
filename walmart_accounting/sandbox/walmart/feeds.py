"""Bulk feeds: inventory, MP_INVENTORY and price files, processed asynchronously, and their status."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from email import policy as email_policy
from email.parser import BytesParser
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import Response

from walmart_accounting.sandbox.walmart.base import (
    FEED_API,
    PARTNER_ID,
    ApiBase,
    ApiError,
    _bad_content,
    _bad_param,
    _missing_param,
    _not_found,
    json_response,
    loads,
)
from walmart_accounting.sandbox.walmart.helpers import _bool_param, _int_param, _query
from walmart_accounting.sandbox.walmart.items import _PRICING_REQUIRED, _price_from_pricing

FEED_DETAILS_DEFAULT_LIMIT, FEED_DETAILS_MAX_LIMIT = 50, 50


@dataclass
class FeedRecord:
    feed_id: str
    feed_type: str
    submitted_ms: int
    submitted_at: float  # clock seconds
    file_name: str
    items: list[dict] = field(default_factory=list)  # {"sku", "index", "ok", "errors", "apply"}
    error: dict | None = None  # whole-file ingestion error (feedStatus ERROR)
    polls: int = 0
    applied: bool = False
    status: str = "RECEIVED"


def _item_error(code: str, description: str) -> dict:
    return {"type": "DATA_ERROR", "code": code, "description": description}


def _feed_shape(doc: Any, header: str, items: str) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get(header), dict) and isinstance(doc.get(items), list)


def _multipart_file(content_type: str, body: bytes) -> tuple[str | None, bytes | None]:
    """The 'file' part of a multipart/form-data body: (file name, bytes); (None, None) if there is none."""
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type.lower():
        return None, None
    message = BytesParser(policy=email_policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body
    )
    if not message.is_multipart():
        return None, None
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            return part.get_filename(), part.get_payload(decode=True) or b""
    return None, None


class FeedsState:
    """Moving feeds through RECEIVED, INPROGRESS and PROCESSED; mixed into WalmartState (state.py)."""

    def advance_feeds(self) -> None:
        """Move feeds on by clock time (poll counts move them in feed_status); apply effects once PROCESSED."""
        with self.lock:
            feeds = [f for f in self.feeds.values() if f.status in ("RECEIVED", "INPROGRESS")]
        for feed in feeds:
            self._advance_feed(feed, poll=False)

    def _advance_feed(self, feed: FeedRecord, *, poll: bool) -> None:
        apply_now: list[Callable[[], None]] = []
        with self.lock:
            if feed.error is not None:
                feed.status = "ERROR"
                return
            if poll:
                feed.polls += 1
            age = self.now() - feed.submitted_at
            stage = 0
            if age >= self.feed_inprogress_after_s or feed.polls >= 2:
                stage = 1
            if age >= self.feed_processed_after_s or feed.polls >= self.feed_polls_to_process + 1:
                stage = 2
            stages = ("RECEIVED", "INPROGRESS", "PROCESSED")
            feed.status = stages[max(stage, stages.index(feed.status))]
            if feed.status == "PROCESSED" and not feed.applied:
                feed.applied = True
                apply_now = [item["apply"] for item in feed.items if item["ok"] and item.get("apply")]
        for fn in apply_now:
            fn()


class FeedsApi(ApiBase):
    """POST /v3/feeds, GET /v3/feeds and GET /v3/feeds/{feedId}."""

    def _feed_limit_key(self, request: Request) -> str | None:
        feed_type = request.query_params.get("feedType")
        return f"feeds.{feed_type}" if feed_type in ("inventory", "MP_INVENTORY", "price") else None

    async def submit_feed(self, request: Request) -> Response:
        state = self.state
        params = _query(request)
        feed_type = params.get("feedType")
        if not feed_type:
            raise _missing_param(FEED_API, "feedType")
        if feed_type not in ("inventory", "MP_INVENTORY", "price"):
            raise _bad_param(FEED_API, "feedType",
                             f"Unsupported feedType '{feed_type}' (sandbox: inventory, MP_INVENTORY, price)")
        ship_node = params.get("shipNode") or None
        if ship_node is not None and feed_type == "inventory":
            self._node_or_404(ship_node)
        raw = await request.body()
        file_name, content = _multipart_file(request.headers.get("Content-Type", ""), raw)
        if content is None:
            # The feeds API takes multipart/form-data with the feed in a part named "file".
            raise _bad_content(FEED_API, "multipart/form-data with a 'file' part is required", "file")
        feed_id = uuid.uuid4().hex.upper() + "@AQYBAQA"
        feed = FeedRecord(feed_id=feed_id, feed_type=feed_type, submitted_ms=state.now_ms(), submitted_at=state.now(),
                          file_name=file_name or "feed.json")
        try:
            doc = loads(content)
        except (ValueError, UnicodeDecodeError):
            doc = None
        if feed_type == "inventory":
            self._check_inventory_feed(feed, doc, ship_node)
        elif feed_type == "MP_INVENTORY":
            self._check_mp_inventory_feed(feed, doc)
        else:
            self._check_price_feed(feed, doc)
        with state.lock:
            state.feeds[feed_id] = feed
        return json_response({"feedId": feed_id})

    @staticmethod
    def _file_error(feed: FeedRecord, description: str) -> None:
        feed.error = {"type": "DATA_ERROR", "code": "ERR_INVALID_FILE", "description": description}

    def _unknown_sku(self, sku: str) -> dict:
        # CHOICE: the error code for an unknown SKU was not found; Walmart's codes look like ERR_EXT_DATA_*.
        return _item_error("ERR_EXT_DATA_0801001", f"SKU {sku} is not found in the seller's catalog")

    def _check_inventory_feed(self, feed: FeedRecord, doc: Any, ship_node: str | None) -> None:
        state = self.state
        node = ship_node or state.seller_nodes()[0]
        if not _feed_shape(doc, "InventoryHeader", "Inventory"):
            return self._file_error(feed, "Feed file must be JSON with InventoryHeader (version 1.4) and Inventory[]")
        if str(doc["InventoryHeader"].get("version")) != "1.4":
            return self._file_error(feed, "InventoryHeader.version must be 1.4 for feedType=inventory")
        for index, entry in enumerate(doc["Inventory"]):
            sku = str((entry or {}).get("sku") or "")
            errors = []
            qty = 0
            if not state.known_sku(sku):
                errors.append(self._unknown_sku(sku))
            else:
                try:
                    qty = self._parse_quantity(FEED_API, entry.get("quantity"), "quantity")
                except ApiError as exc:
                    errors.append(_item_error("ERR_EXT_DATA_0801002", exc.body["error"][0]["description"]))
            updates = [(sku, node, qty)]
            feed.items.append({"sku": sku, "index": index, "ok": not errors, "errors": errors,
                               "apply": (lambda u=updates: state.set_inventory(u))})

    def _check_mp_inventory_feed(self, feed: FeedRecord, doc: Any) -> None:
        state = self.state
        if not _feed_shape(doc, "inventoryHeader", "inventory"):
            return self._file_error(feed, "Feed file must be JSON with inventoryHeader (version 1.5) and inventory[]")
        if str(doc["inventoryHeader"].get("version")) != "1.5":
            return self._file_error(feed, "inventoryHeader.version must be 1.5 for feedType=MP_INVENTORY")
        for index, entry in enumerate(doc["inventory"]):
            sku = str((entry or {}).get("sku") or "")
            errors, updates = [], []
            if not state.known_sku(sku):
                errors.append(self._unknown_sku(sku))
            else:
                nodes = entry.get("shipNodes")
                if not isinstance(nodes, list) or not nodes:
                    errors.append(_item_error("ERR_EXT_DATA_0801003", "shipNodes[] is required"))
                for n in nodes or []:
                    node_id = str((n or {}).get("shipNode") or "")
                    if node_id not in state.seller_nodes():
                        errors.append(_item_error("ERR_EXT_DATA_0801004", f"Ship node {node_id} not found for this seller"))
                        continue
                    try:
                        updates.append((sku, node_id, self._parse_quantity(FEED_API, n.get("quantity"), "quantity")))
                    except ApiError as exc:
                        errors.append(_item_error("ERR_EXT_DATA_0801002", exc.body["error"][0]["description"]))
            feed.items.append({"sku": sku, "index": index, "ok": not errors, "errors": errors,
                               "apply": (lambda u=updates: state.set_inventory(u))})

    def _check_price_feed(self, feed: FeedRecord, doc: Any) -> None:
        state = self.state
        if not _feed_shape(doc, "PriceHeader", "Price"):
            return self._file_error(feed, "Feed file must be JSON with PriceHeader (version 1.7) and Price[]")
        if str(doc["PriceHeader"].get("version")) != "1.7":
            return self._file_error(feed, "PriceHeader.version must be 1.7 for feedType=price")
        for index, entry in enumerate(doc["Price"]):
            sku = str((entry or {}).get("sku") or "")
            errors = []
            amount = None
            if not state.known_sku(sku):
                errors.append(self._unknown_sku(sku))
            else:
                amount = _price_from_pricing(entry.get("pricing"))
                if amount is None:
                    errors.append(_item_error("ERR_EXT_DATA_0801005", _PRICING_REQUIRED))

            def apply(s=sku, a=amount):
                with state.lock:
                    state.prices[s] = a

            feed.items.append({"sku": sku, "index": index, "ok": not errors, "errors": errors, "apply": apply})

    def _feed_summary(self, feed: FeedRecord) -> dict:
        received = len(feed.items)
        if feed.status == "PROCESSED":
            ok = sum(1 for i in feed.items if i["ok"])
            return {"itemsReceived": received, "itemsSucceeded": ok, "itemsFailed": received - ok, "itemsProcessing": 0}
        if feed.status == "ERROR":
            return {"itemsReceived": received, "itemsSucceeded": 0, "itemsFailed": 0, "itemsProcessing": 0}
        return {"itemsReceived": received, "itemsSucceeded": 0, "itemsFailed": 0, "itemsProcessing": received}

    async def feed_status(self, request: Request) -> Response:
        state = self.state
        feed_id = request.path_params["feedId"]
        params = _query(request)
        with state.lock:
            feed = state.feeds.get(feed_id)
        if feed is None:
            raise _not_found(FEED_API, f"Feed {feed_id} not found", "feedId")
        include = _bool_param(params, "includeDetails")
        offset = _int_param(FEED_API, params, "offset", 0, low=0)
        limit = _int_param(FEED_API, params, "limit", FEED_DETAILS_DEFAULT_LIMIT, low=1, high=FEED_DETAILS_MAX_LIMIT,
                           high_message=f"limit cannot be more than {FEED_DETAILS_MAX_LIMIT}")
        state._advance_feed(feed, poll=True)
        with state.lock:
            body: dict[str, Any] = {
                "feedId": feed.feed_id, "feedStatus": feed.status, "feedSubmissionDate": feed.submitted_ms,
            }
            if feed.error is not None:
                body["ingestionErrors"] = {"ingestionError": [feed.error]}
            body.update(self._feed_summary(feed))
            body["offset"], body["limit"] = offset, limit
            if include:
                details = []
                for item in feed.items[offset:offset + limit]:
                    entry: dict[str, Any] = {"martId": 0, "sku": item["sku"], "index": item["index"]}
                    spec = state.sku_specs.get(item["sku"])
                    if spec is not None and item["ok"]:
                        gtin = {"productIdType": "GTIN", "productId": str(spec.gtin)}
                        entry["productIdentifiers"] = {"productIdentifier": [gtin]}
                    if feed.status != "PROCESSED":
                        entry["ingestionStatus"] = "INPROGRESS"
                    elif item["ok"]:
                        entry["ingestionStatus"] = "SUCCESS"
                    else:
                        entry["ingestionStatus"] = "DATA_ERROR"
                        entry["ingestionErrors"] = {"ingestionError": list(item["errors"])}
                    details.append(entry)
                body["itemDetails"] = {"itemIngestionStatus": details}
        return json_response(body)

    async def list_feeds(self, request: Request) -> Response:
        state = self.state
        params = _query(request)
        offset = _int_param(FEED_API, params, "offset", 0, low=0)
        limit = _int_param(FEED_API, params, "limit", 50, low=1, high=50, high_message="limit cannot be more than 50")
        state.advance_feeds()
        wanted = params.get("feedId") or None
        with state.lock:
            feeds = [f for f in sorted(state.feeds.values(), key=lambda f: f.submitted_ms, reverse=True)
                     if wanted is None or f.feed_id == wanted]
            results = []
            for f in feeds[offset:offset + limit]:
                rec = {"feedId": f.feed_id, "feedSource": "MARKETPLACE_PARTNER", "feedType": f.feed_type,
                       "partnerId": PARTNER_ID, **self._feed_summary(f), "feedStatus": f.status,
                       "feedDate": f.submitted_ms, "modifiedDtm": f.submitted_ms, "fileName": f.file_name,
                       "itemDataErrorCount": sum(1 for i in f.items if not i["ok"]) if f.status == "PROCESSED" else 0,
                       "itemSystemErrorCount": 0, "itemTimeoutErrorCount": 0}
                results.append(rec)
        return json_response({"totalResults": len(feeds), "offset": offset, "limit": limit, "results": {"feed": results}})
