"""build_walmart_app: the routes of the Walmart emulator, served by WalmartApi, over a WalmartState."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from walmart_accounting.sandbox.seller import SyntheticSeller
from walmart_accounting.sandbox.seller.recorded import recorded_seller
from walmart_accounting.sandbox.walmart.auth import AuthApi
from walmart_accounting.sandbox.walmart.base import GATEWAY_API, ApiError
from walmart_accounting.sandbox.walmart.feeds import FeedsApi
from walmart_accounting.sandbox.walmart.inventory import InventoryApi
from walmart_accounting.sandbox.walmart.items import ItemsApi
from walmart_accounting.sandbox.walmart.orders import OrdersApi
from walmart_accounting.sandbox.walmart.reports import ReportsApi
from walmart_accounting.sandbox.walmart.returns import ReturnsApi
from walmart_accounting.sandbox.walmart.shipping import ShippingApi
from walmart_accounting.sandbox.walmart.state import WalmartState
from walmart_accounting.sandbox.walmart.webhooks import WebhooksApi


class WalmartApi(AuthApi, OrdersApi, ShippingApi, ReturnsApi, ReportsApi, InventoryApi, ItemsApi, FeedsApi, WebhooksApi):
    """Every endpoint of the emulator, over one WalmartState."""


def build_walmart_app(options, seller=None) -> Starlette:
    """The Walmart emulator as an ASGI app; app.state.walmart is its WalmartState."""
    if seller is None and options.seller_data is not None:
        seller = recorded_seller(options)
    if seller is None:
        seller = SyntheticSeller(seed=options.seed, start=options.seller_start, days=options.seller_days)
    state = WalmartState(options, seller)
    api = WalmartApi(state)
    ep = api.endpoint

    routes = [
        Route("/v3/token", ep(api.token, auth=False), methods=["POST"]),
        Route("/v3/token/detail", ep(api.token_detail), methods=["GET"]),
        Route("/v3/orders", ep(api.list_orders, limit="orders.read"), methods=["GET"]),
        Route("/v3/orders/released", ep(api.released_orders, limit="orders.read"), methods=["GET"]),
        Route("/v3/orders/{purchaseOrderId}", ep(api.get_order, limit="orders.read"), methods=["GET"]),
        Route("/v3/orders/{purchaseOrderId}/acknowledge", ep(api.acknowledge, limit="orders.write"), methods=["POST"]),
        Route("/v3/orders/{purchaseOrderId}/shipping", ep(api.ship_order_lines, limit="orders.write"), methods=["POST"]),
        Route("/v3/returns", ep(api.list_returns), methods=["GET"]),
        Route("/v3/report/reconreport/availableReconFiles", ep(api.available_recon_files), methods=["GET"]),
        Route("/v3/report/reconreport/reconFile", ep(api.recon_file), methods=["GET"]),
        Route("/v3/report/reconreport/reconFileJson", ep(api.recon_file_json), methods=["GET"]),
        Route("/v3/items", ep(api.list_items), methods=["GET"]),
        Route("/v3/inventory", ep(api.get_inventory), methods=["GET"]),
        Route("/v3/inventory", ep(api.put_inventory, limit="inventory.update"), methods=["PUT"]),
        Route("/v3/inventories", ep(api.list_inventories), methods=["GET"]),
        Route("/v3/fulfillment/inventory", ep(api.wfs_inventory), methods=["GET"]),
        Route("/v3/inventories/{sku:path}", ep(api.get_inventories_sku), methods=["GET"]),
        Route("/v3/inventories/{sku:path}", ep(api.put_inventories_sku, limit="inventory.update"), methods=["PUT"]),
        Route("/v3/price", ep(api.put_price, limit="price.update"), methods=["PUT"]),
        Route("/v3/feeds", ep(api.submit_feed, limit=api._feed_limit_key), methods=["POST"]),
        Route("/v3/feeds", ep(api.list_feeds), methods=["GET"]),
        Route("/v3/feeds/{feedId}", ep(api.feed_status), methods=["GET"]),
        Route("/v3/webhooks/eventTypes", ep(api.event_types), methods=["GET"]),
        Route("/v3/webhooks/subscriptions", ep(api.list_subscriptions), methods=["GET"]),
        Route("/v3/webhooks/subscriptions", ep(api.create_subscriptions), methods=["POST"]),
        Route("/v3/webhooks/subscriptions/{subscriptionId}", ep(api.update_subscription), methods=["PATCH"]),
        Route("/v3/webhooks/subscriptions/{subscriptionId}", ep(api.delete_subscription), methods=["DELETE"]),
        Route("/v3/webhooks/test", ep(api.test_notification), methods=["POST"]),
    ]

    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 405:
            return ApiError(405, f"METHOD_NOT_ALLOWED.{GATEWAY_API}", "method", f"Method {request.method} not allowed",
                            "Request method is not supported.").response()
        return ApiError(exc.status_code, f"CONTENT_NOT_FOUND.{GATEWAY_API}", "path", f"No resource at {request.url.path}",
                        "Requested content could not be found.").response()

    app = Starlette(routes=routes, exception_handlers={404: http_error, 405: http_error})
    app.state.walmart = state
    return app
