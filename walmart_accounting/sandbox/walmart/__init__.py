"""Walmart Marketplace (US) API emulator: token, orders and shipping, returns, recon reports, inventory, feeds, webhooks."""

# Served under WALMART_BASE_URL, which stands for https://marketplace.walmartapis.com, so the paths are the
# real ones (/v3/token, /v3/orders, ...). Sources: specs/walmart/FACTS.md, the official OpenAPI
# files in openapi/ and the examples in examples/.
#
# Principle where the material is silent: be at least as strict as production could be. A client that copes
# with the stricter reading also works against the laxer one, never the other way round. Every such choice
# is marked "CHOICE:" in these modules; the relaxations of the official definitions (whose own examples break
# them) are marked "RELAXED:".
#
# Error bodies. Walmart's gateway answers JSON errors as {"error": [{code, field, description, info,
# severity, category, causes, errorIdentifiers}]} (observed live, e.g. 401 UNAUTHORIZED.GMP_GATEWAY_API and
# 400 INVALID_REQUEST_HEADER.GMP_GATEWAY_API; the XML form is <errors><error>..., which older JSON clients
# saw as {"errors": {"error": [...]}}). CHOICE: every error of this emulator uses the {"error": [...]} form;
# clients should read both.
#
# Money: JSON bodies are parsed with parse_float=Decimal and Decimal amounts are written as JSON numbers
# by a small encoder of our own; no float ever touches an amount.
#
# Layout: base (ids, JSON, errors), helpers (dates, parameters, cursors), auth (tokens, headers, throttling),
# orders, shipping (ship order lines), returns, reports, inventory, items (catalogue, prices), feeds, webhooks;
# state joins each part's state into WalmartState and app joins each part's endpoints into WalmartApi and builds
# the routes.

from walmart_accounting.sandbox.walmart.app import WalmartApi, build_walmart_app
from walmart_accounting.sandbox.walmart.auth import DEFAULT_RATE_LIMITS, TOKEN_TTL_S
from walmart_accounting.sandbox.walmart.base import PARTNER_ID, PARTNER_NAME, SELLER_ID, ApiError, dumps, json_response, loads
from walmart_accounting.sandbox.walmart.feeds import FeedRecord
from walmart_accounting.sandbox.walmart.orders import render_order
from walmart_accounting.sandbox.walmart.reports import V1_COLUMNS
from walmart_accounting.sandbox.walmart.returns import render_return
from walmart_accounting.sandbox.walmart.state import WalmartState
from walmart_accounting.sandbox.walmart.webhooks import EVENT_TYPES, Delivery

__all__ = [
    "DEFAULT_RATE_LIMITS",
    "EVENT_TYPES",
    "PARTNER_ID",
    "PARTNER_NAME",
    "SELLER_ID",
    "TOKEN_TTL_S",
    "V1_COLUMNS",
    "ApiError",
    "Delivery",
    "FeedRecord",
    "WalmartApi",
    "WalmartState",
    "build_walmart_app",
    "dumps",
    "json_response",
    "loads",
    "render_order",
    "render_return",
]
