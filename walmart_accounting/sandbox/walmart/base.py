"""Shared by every part of the emulator: the seller's Walmart ids, JSON with exact money, Walmart's error shape."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from walmart_accounting.domain import jsonmoney

# The sandbox seller's identifiers as Walmart would report them (partnerId in cursors, events, file names).
PARTNER_ID = "10001234567"
SELLER_ID = "1011"
PARTNER_NAME = "Sandbox Seller LLC"


# ----------------------------------------------------------------------------------------------------
# JSON with exact money (the project's encoder: Decimals in and out, written as JSON numbers)
# ----------------------------------------------------------------------------------------------------

dumps = jsonmoney.dumps
loads = jsonmoney.loads


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(obj).encode("utf-8"), status_code=status, media_type="application/json", headers=headers)


# ----------------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error the emulated API answers with, in Walmart's shape."""

    def __init__(
        self,
        status: int,
        code: str,
        field: str,
        description: str,
        info: str,
        *,
        severity: str = "ERROR",
        category: str = "DATA",
        headers: dict[str, str] | None = None,
    ):
        super().__init__(f"{status} {code}: {description}")
        self.status = status
        self.body = {
            "error": [
                {
                    "code": code,
                    "field": field,
                    "description": description,
                    "info": info,
                    "severity": severity,
                    "category": category,
                    "causes": [],
                    "errorIdentifiers": {},
                }
            ]
        }
        self.headers = headers or {}

    def response(self) -> Response:
        return json_response(self.body, self.status, self.headers)


def _bad_param(api: str, name: str, description: str) -> ApiError:
    return ApiError(400, f"INVALID_REQUEST_PARAM.{api}", name, description, "Request has invalid query parameters.")


def _bad_content(api: str, description: str, field_name: str = "data") -> ApiError:
    return ApiError(400, f"INVALID_REQUEST_CONTENT.{api}", field_name, description, "Request content is invalid.")


def _not_found(api: str, description: str, field_name: str = "data") -> ApiError:
    return ApiError(
        404, f"CONTENT_NOT_FOUND.{api}", field_name, description, "Requested content could not be found.",
        severity="INFO", category="APPLICATION",
    )


def _missing_param(api: str, name: str, type_name: str = "String") -> ApiError:
    # CHOICE: wording of Spring's missing-parameter message (the "required parameter is not present" errors
    # a live client reported for reconFileJson), in Walmart's error shape.
    return _bad_param(api, name, f"Required request parameter '{name}' for method parameter type {type_name} is not present")


ORDER_API = "GMP_ORDER_API"
RETURNS_API = "GMP_RETURNS_API"
REPORT_API = "GMP_REPORT_API"
INVENTORY_API = "GMP_INVENTORY_API"
ITEM_API = "GMP_ITEM_QUERY_API"
FEED_API = "GMP_FEED_API"
PRICE_API = "GMP_PRICE_API"
NOTIFICATION_API = "GMP_NOTIFICATION_API"
GATEWAY_API = "GMP_GATEWAY_API"


class ApiBase:
    """What every group of endpoints (auth, orders, ..., webhooks) builds on; WalmartApi (app.py) joins them."""

    def __init__(self, state):  # the WalmartState (which is built from these APIs' states: not imported here)
        self.state = state

    async def _json_body(self, request: Request, api: str) -> Any:
        raw = await request.body()
        if not raw.strip():
            raise _bad_content(api, "Request body is missing")
        try:
            return loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise _bad_content(api, "Request body is not valid JSON") from None
