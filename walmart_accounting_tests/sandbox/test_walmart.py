"""The Walmart emulator over real HTTP: auth and headers, orders, returns, recon reports, inventory, feeds, webhooks."""

from __future__ import annotations

import base64
import csv
import io
import json
import threading
import time
import zipfile
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from walmart_accounting.sandbox.seller import RECON_V1_COLUMNS, SyntheticSeller
from walmart_accounting.sandbox.server import SandboxOptions, ThreadedServer
from walmart_accounting.sandbox.walmart import TOKEN_TTL_S, V1_COLUMNS, build_walmart_app, dumps, loads

CLIENT = ("sandbox-walmart-client", "sandbox-walmart-secret")
DAY_MS = 86_400_000


def _loads(response: requests.Response):
    return json.loads(response.content, parse_float=Decimal)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def seller() -> SyntheticSeller:
    # Enough days for more than 1,000 purchase orders, so full paging takes several pages of 200.
    for days in (60, 90, 120):
        seller = SyntheticSeller(seed=7, days=days)
        if len(seller.orders) > 1000:
            return seller
    return seller


class Walmart:
    """A running emulator and a client session that sends what Walmart requires."""

    def __init__(self, server: ThreadedServer, app, options: SandboxOptions, seller: SyntheticSeller):
        self.url = server.url
        self.app = app
        self.state = app.state.walmart
        self.options = options
        self.clock = options.clock
        self.seller = seller
        self.token = self.new_token()

    def base_headers(self) -> dict[str, str]:
        return {"WM_SVC.NAME": "walmart-accounting-tests", "WM_QOS.CORRELATION_ID": "5c1e4a8e-0f5e-4d1a-9d43-3b0d7e2f1a11",
                "Accept": "application/json"}

    def new_token(self) -> str:
        r = requests.post(f"{self.url}/v3/token", auth=CLIENT, data={"grant_type": "client_credentials"},
                          headers=self.base_headers(), timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def headers(self, **extra) -> dict[str, str]:
        return {**self.base_headers(), "WM_SEC.ACCESS_TOKEN": self.token, **extra}

    def get(self, path: str, **kw) -> requests.Response:
        return requests.get(self.url + path, headers=kw.pop("headers", None) or self.headers(), timeout=30, **kw)

    def send(self, method: str, path: str, **kw) -> requests.Response:
        return requests.request(method, self.url + path, headers=kw.pop("headers", None) or self.headers(), timeout=30, **kw)

    def now_ms(self) -> int:
        return int(self.clock.now() * 1000)


def _pin_clock(options: SandboxOptions, when: datetime) -> None:
    options.clock.advance(when.timestamp() - options.clock.now())


class Swap:
    """An ASGI app that forwards to whichever app a test puts in it: one HTTP server for the whole module."""

    def __init__(self):
        self.app = None

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def emulator_server():
    swap = Swap()
    with ThreadedServer(swap) as server:
        server.swap = swap
        yield server


@pytest.fixture(scope="module")
def receiver_server():
    swap = Swap()
    with ThreadedServer(swap) as server:
        server.swap = swap
        yield server


def _start(server: ThreadedServer, seller: SyntheticSeller, when: datetime) -> Walmart:
    options = SandboxOptions(seed=7, seller_start=seller.start, seller_days=seller.days, webhook_timeout_s=2.0)
    _pin_clock(options, when)
    app = build_walmart_app(options, seller=seller)
    app.state.walmart.webhook_retry_delay_s = 0.05
    server.swap.app = app
    return Walmart(server, app, options, seller)


@pytest.fixture
def wm(seller, emulator_server):
    # The sandbox clock four days after the seller's snapshot, whatever the wall clock says.
    walmart = _start(emulator_server, seller, seller.as_of + timedelta(days=4))
    yield walmart
    assert walmart.state.wait_for_deliveries(15)


class Receiver:
    """A webhook destination on its own HTTP server, recording what arrives."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        self.token_requests: list[dict] = []
        self._event = threading.Condition()

        async def events(request: Request) -> Response:
            body = await request.body()
            with self._event:
                self.requests.append({"headers": dict(request.headers), "body": body, "path": request.url.path})
                self._event.notify_all()
            return Response(status_code=self.status)

        async def token(request: Request) -> Response:
            self.token_requests.append({"headers": dict(request.headers), "body": await request.body()})
            return JSONResponse({"access_token": "receiver-token-1", "expires_in": 3600})

        self.app = Starlette(routes=[
            Route("/events", events, methods=["POST"]),
            Route("/oauth/token", token, methods=["POST"]),
        ])

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._event:
            while len(self.requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._event.wait(remaining)
            return list(self.requests)


@pytest.fixture
def receiver(receiver_server):
    rec = Receiver()
    receiver_server.swap.app = rec.app
    rec.url = receiver_server.url
    return rec


def _statuses(order: dict) -> list[str]:
    return [st["status"] for line in order["orderLines"]["orderLine"] for st in line["orderLineStatuses"]["orderLineStatus"]]


def _post_token(wm: "Walmart", auth=CLIENT, grant: str = "client_credentials", headers=None) -> requests.Response:
    headers = wm.base_headers() if headers is None else headers
    return requests.post(f"{wm.url}/v3/token", auth=auth, data={"grant_type": grant}, headers=headers, timeout=10)


def _error(response: requests.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"], list) and body["error"], body
    err = body["error"][0]
    assert {"code", "field", "description", "info", "severity", "category"} <= set(err), err
    return err


# ---------------------------------------------------------------------------------------------------
# Token and headers
# ---------------------------------------------------------------------------------------------------


def test_token_with_good_credentials_is_json_bearer_for_900_seconds(wm):
    r = _post_token(wm)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == TOKEN_TTL_S == 900
    detail = wm.get("/v3/token/detail", headers=wm.headers() | {"WM_SEC.ACCESS_TOKEN": body["access_token"]})
    assert detail.status_code == 200


def test_token_without_json_accept_answers_xml(wm):
    headers = {k: v for k, v in wm.base_headers().items() if k != "Accept"}
    r = _post_token(wm, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/xml")
    for part in ("<OAuthTokenDTO>", "<accessToken>", "<expiresIn>900</expiresIn>", "<tokenType>Bearer</tokenType>"):
        assert part in r.text


@pytest.mark.parametrize("auth", [(CLIENT[0], "wrong-secret"), ("someone-else", CLIENT[1]), None])
def test_token_with_bad_or_missing_credentials_is_refused(wm, auth):
    r = _post_token(wm, auth=auth)
    assert r.status_code == 400
    err = _error(r)
    assert err["code"] == "INVALID_REQUEST_HEADER.GMP_GATEWAY_API" and err["field"] == "Authorization"
    assert "access_token" not in r.text


def test_token_refuses_other_grant_types(wm):
    r = _post_token(wm, grant="password")
    assert r.status_code == 400 and _error(r)["field"] == "grant_type"


@pytest.mark.parametrize("header", ["WM_QOS.CORRELATION_ID", "WM_SVC.NAME"])
def test_missing_qos_or_service_header_is_400_invalid_request_header(wm, header):
    headers = {k: v for k, v in wm.headers().items() if k != header}
    r = wm.get("/v3/orders?createdStartDate=2026-10-01", headers=headers)
    assert r.status_code == 400
    err = _error(r)
    assert err["code"] == "INVALID_REQUEST_HEADER.GMP_GATEWAY_API"
    assert err["field"] == header and header in err["description"]
    # The token endpoint checks them too.
    token_headers = {k: v for k, v in wm.base_headers().items() if k != header}
    r = _post_token(wm, headers=token_headers)
    assert r.status_code == 400 and _error(r)["field"] == header


@pytest.mark.parametrize("token", [None, "", "not-a-token"])
def test_missing_or_unknown_access_token_is_401_unauthorized(wm, token):
    headers = {k: v for k, v in wm.headers().items() if k != "WM_SEC.ACCESS_TOKEN"}
    if token is not None:
        headers["WM_SEC.ACCESS_TOKEN"] = token
    paths = ("/v3/orders", "/v3/returns", "/v3/report/reconreport/availableReconFiles?reportVersion=v1", "/v3/inventories")
    for path in paths:
        r = wm.get(path, headers=headers)
        assert r.status_code == 401, path
        err = _error(r)
        assert err["code"] == "UNAUTHORIZED.GMP_GATEWAY_API" and err["field"] == "UNAUTHORIZED"


def test_bearer_authorization_header_is_not_the_walmart_token_header(wm):
    headers = {k: v for k, v in wm.headers().items() if k != "WM_SEC.ACCESS_TOKEN"}
    headers["Authorization"] = f"Bearer {wm.token}"
    assert wm.get("/v3/inventories", headers=headers).status_code == 401


def test_token_expires_after_900_seconds_of_sandbox_clock(wm):
    assert wm.get("/v3/inventories").status_code == 200
    wm.clock.advance(TOKEN_TTL_S - 1)
    assert wm.get("/v3/inventories").status_code == 200
    wm.clock.advance(1)
    r = wm.get("/v3/inventories")
    assert r.status_code == 401 and _error(r)["code"] == "UNAUTHORIZED.GMP_GATEWAY_API"
    wm.token = wm.new_token()
    assert wm.get("/v3/inventories").status_code == 200


def test_token_detail(wm):
    body = wm.get("/v3/token/detail").json()
    assert body["is_valid"] is True
    assert int(body["expire_at"]) - int(body["issued_at"]) == TOKEN_TTL_S * 1000
    assert body["scopes"]["orders"] == "full_access"


def test_unknown_path_answers_walmart_error_shape(wm):
    r = wm.get("/v3/nothing-here")
    assert r.status_code == 404 and _error(r)["code"].startswith("CONTENT_NOT_FOUND")


# ---------------------------------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------------------------------


def _page_all(wm: Walmart, first: str, key=lambda body: body["list"]["elements"]["order"],
              meta=lambda body: body["list"]["meta"], base: str = "/v3/orders") -> tuple[list[dict], list[dict]]:
    items, metas = [], []
    path = first
    for _ in range(200):
        r = wm.get(path)
        assert r.status_code == 200, r.text
        body = _loads(r)
        items.extend(key(body))
        metas.append(dict(meta(body), _size=len(key(body))))
        cursor = meta(body).get("nextCursor")
        if not cursor:
            return items, metas
        assert cursor.startswith("?")
        path = base + cursor
    raise AssertionError("paging did not end")


def test_paging_through_all_orders_with_limit_200(wm, seller):
    assert len(seller.orders) > 1000
    start = _iso(min(o["orderDate"] for o in seller.orders))
    seen: list[str] = []
    for node_type in ("SellerFulfilled", "WFSFulfilled"):
        orders, metas = _page_all(wm, f"/v3/orders?createdStartDate={start}&limit=200&shipNodeType={node_type}")
        assert all(m["limit"] == 200 for m in metas)
        assert all(m["totalCount"] == len(orders) for m in metas)
        assert all(m["_size"] == 200 for m in metas[:-1]) and 0 < metas[-1]["_size"] <= 200
        assert all(o["shipNode"]["type"] == node_type for o in orders)
        seen += [o["purchaseOrderId"] for o in orders]
    assert len(seen) == len(set(seen)) == len(seller.orders)
    assert set(seen) == {o["purchaseOrderId"] for o in seller.orders}


@pytest.mark.parametrize("path, key, meta", [
    ("/v3/orders?createdStartDate={start}&sku={sku}", lambda b: b["list"]["elements"]["order"], lambda b: b["list"]["meta"]),
    ("/v3/returns?returnCreationStartDate={start}", lambda b: b["returnOrders"], lambda b: b["meta"]),
])
def test_paging_boundaries(wm, seller, path, key, meta):
    start = _iso(min(o["orderDate"] for o in seller.orders))
    query = path.format(start=start, sku=seller.skus[0].sku)
    base = query.split("?")[0]
    total = meta(wm.get(f"{query}&limit=1").json())["totalCount"]
    assert 3 <= total <= 200
    exact = wm.get(f"{query}&limit={total}").json()
    assert len(key(exact)) == total and not meta(exact).get("nextCursor")
    short = wm.get(f"{query}&limit={total - 1}").json()
    assert len(key(short)) == total - 1 and meta(short)["nextCursor"]
    rest = wm.get(base + meta(short)["nextCursor"]).json()
    assert len(key(rest)) == 1 and not meta(rest).get("nextCursor")


def test_orders_default_to_seller_fulfilled_and_newest_first(wm, seller):
    start = _iso(min(o["orderDate"] for o in seller.orders))
    orders, metas = _page_all(wm, f"/v3/orders?createdStartDate={start}&limit=200")
    assert len(metas) >= 4
    assert {o["shipNode"]["type"] for o in orders} == {"SellerFulfilled"}
    dates = [o["orderDate"] for o in orders]
    assert dates == sorted(dates, reverse=True)


def test_order_money_is_json_numbers_equal_to_the_seller_decimals(wm, seller):
    po = seller.orders[-1]["purchaseOrderId"]
    r = wm.get(f"/v3/orders/{po}")
    assert r.status_code == 200
    assert '"chargeAmount":{"currency":"USD","amount":' in r.text
    assert '"chargeAmount":{"currency":"USD","amount":"' not in r.text  # never quoted
    order = _loads(r)["order"]
    expected = seller.order(po)
    for got, want in zip(order["orderLines"]["orderLine"], expected["orderLines"]["orderLine"]):
        for g, w in zip(got["charges"]["charge"], want["charges"]["charge"]):
            assert isinstance(g["chargeAmount"]["amount"], Decimal)
            assert g["chargeAmount"]["amount"] == w["chargeAmount"]["amount"]
            assert str(g["chargeAmount"]["amount"]) == str(w["chargeAmount"]["amount"])


def test_limit_above_200_is_rejected(wm):
    ok = wm.get("/v3/orders?createdStartDate=2026-10-01&limit=200")
    assert ok.status_code == 200 and ok.json()["list"]["meta"]["limit"] == 200
    r = wm.get("/v3/orders?createdStartDate=2026-10-01&limit=201")
    assert r.status_code == 400
    err = _error(r)
    assert err["code"] == "INVALID_REQUEST_PARAM.GMP_ORDER_API" and err["field"] == "limit"


def test_default_limit_is_100(wm, seller):
    r = wm.get(f"/v3/orders?createdStartDate={_iso(min(o['orderDate'] for o in seller.orders))}")
    body = r.json()["list"]
    assert body["meta"]["limit"] == 100 and len(body["elements"]["order"]) == 100


def _expected(seller, predicate) -> set[str]:
    return {o["purchaseOrderId"] for o in seller.orders if o["shipNode"]["type"] == "SellerFulfilled" and predicate(o)}


def test_created_window(wm, seller):
    orders = sorted(seller.orders, key=lambda o: o["orderDate"])
    lo_ms = orders[200]["orderDate"] // 1000 * 1000
    hi_ms = orders[400]["orderDate"] // 1000 * 1000
    got, _ = _page_all(wm, f"/v3/orders?createdStartDate={_iso(lo_ms)}&createdEndDate={_iso(hi_ms)}&limit=50")
    want = _expected(seller, lambda o: lo_ms <= o["orderDate"] <= hi_ms)
    assert want and {o["purchaseOrderId"] for o in got} == want
    assert all(lo_ms <= o["orderDate"] <= hi_ms for o in got)


def test_created_window_defaults_to_the_last_seven_days(wm, seller):
    now = wm.now_ms()
    got, _ = _page_all(wm, "/v3/orders?limit=200")
    want = _expected(seller, lambda o: now - 7 * DAY_MS <= o["orderDate"] <= now)
    assert want and {o["purchaseOrderId"] for o in got} == want


def test_last_modified_window(wm, seller):
    modified = {po: int(seller.order_last_modified(po).timestamp() * 1000) for po in (o["purchaseOrderId"] for o in seller.orders)}
    lo = seller.as_of - timedelta(days=10)
    hi = seller.as_of - timedelta(days=5)
    lo_ms, hi_ms = int(lo.timestamp() * 1000), int(hi.timestamp() * 1000)
    start = _iso(min(o["orderDate"] for o in seller.orders))
    got, _ = _page_all(wm, f"/v3/orders?createdStartDate={start}&lastModifiedStartDate={_iso(lo_ms)}"
                           f"&lastModifiedEndDate={_iso(hi_ms)}&limit=200")
    want = _expected(seller, lambda o: lo_ms <= modified[o["purchaseOrderId"]] <= hi_ms)
    assert want and {o["purchaseOrderId"] for o in got} == want
    assert len(want) < len(_expected(seller, lambda o: True))


def test_status_sku_and_purchase_order_filters(wm, seller):
    start = _iso(min(o["orderDate"] for o in seller.orders))
    delivered, _ = _page_all(wm, f"/v3/orders?createdStartDate={start}&status=Delivered&limit=200")
    assert delivered and all("Delivered" in _statuses(o) for o in delivered)
    sku = seller.skus[0].sku
    by_sku, _ = _page_all(wm, f"/v3/orders?createdStartDate={start}&sku={sku}&limit=200")
    has_sku = lambda o: any(line["item"]["sku"] == sku for line in o["orderLines"]["orderLine"])  # noqa: E731
    assert {o["purchaseOrderId"] for o in by_sku} == _expected(seller, has_sku)
    po = by_sku[0]["purchaseOrderId"]
    one, _ = _page_all(wm, f"/v3/orders?createdStartDate={start}&purchaseOrderId={po}")
    assert [o["purchaseOrderId"] for o in one] == [po]
    assert wm.get(f"/v3/orders?createdStartDate={start}&status=Shipping").status_code == 400


def test_no_matching_orders_is_404_content_not_found(wm, seller):
    r = wm.get(f"/v3/orders?createdStartDate={_iso(wm.now_ms() - DAY_MS)}")
    assert r.status_code == 404
    assert _error(r)["code"] == "CONTENT_NOT_FOUND.GMP_ORDER_API"


def test_created_start_older_than_180_days_is_rejected(wm):
    now = wm.now_ms()
    inside = _iso(now - 179 * DAY_MS)
    assert wm.get(f"/v3/orders?createdStartDate={inside}&limit=1").status_code == 200
    for path in ("/v3/orders", "/v3/orders/released"):
        r = wm.get(f"{path}?createdStartDate={_iso(now - 181 * DAY_MS)}")
        assert r.status_code == 400, path
        err = _error(r)
        assert err["code"] == "INVALID_REQUEST_PARAM.GMP_ORDER_API" and err["field"] == "createdStartDate"
    # The rule moves with the sandbox clock.
    wm.clock.advance(2 * 86_400)
    wm.token = wm.new_token()
    assert wm.get(f"/v3/orders?createdStartDate={inside}&limit=1").status_code == 400


def test_date_formats(wm):
    assert wm.get("/v3/orders?createdStartDate=2026-10-01&limit=1").status_code == 200
    assert wm.get("/v3/orders?createdStartDate=2026-10-01T10:30:15Z&limit=1").status_code == 200
    for bad in ("2026-10-01T10:30:15.123Z", "10/01/2026", "2026-10-01T10:30:15"):
        r = wm.get(f"/v3/orders?createdStartDate={bad}&limit=1")
        assert r.status_code == 400, bad
        assert _error(r)["description"] == "Invalid Date format value"


def test_cursor_carries_the_filters_and_a_frozen_end(wm, seller):
    start = _iso(min(o["orderDate"] for o in seller.orders))
    body = wm.get(f"/v3/orders?createdStartDate={start}&limit=10&status=Delivered").json()
    cursor = body["list"]["meta"]["nextCursor"]
    parts = ("limit=10", "hasMoreElements=true", "poIndex=10", "status=Delivered", f"createdStartDate={start}", "createdEndDate=")
    for part in parts:
        assert part in cursor
    # A new order arriving between pages does not shift them.
    first_ids = [o["purchaseOrderId"] for o in body["list"]["elements"]["order"]]
    wm.clock.advance(1)
    newest = dict(seller.orders[-1], purchaseOrderId="9999999999991", orderDate=wm.now_ms())
    wm.state.add_order(newest)
    page2 = wm.get("/v3/orders" + cursor).json()["list"]
    assert page2["meta"]["totalCount"] == body["list"]["meta"]["totalCount"]
    assert not set(first_ids) & {o["purchaseOrderId"] for o in page2["elements"]["order"]}


def _created_order(wm: Walmart) -> str:
    for po in wm.state._order_index:
        order = wm.state.order(po)
        if order["shipNode"]["type"] == "SellerFulfilled" and "Created" in _statuses(order):
            return po
    raise AssertionError("the seller has no Created order")


def test_released_orders_and_acknowledge(wm, seller):
    start = _iso(wm.now_ms() - 30 * DAY_MS)
    released, _ = _page_all(wm, f"/v3/orders/released?createdStartDate={start}&limit=200", base="/v3/orders/released")
    assert released
    for o in released:
        assert "Created" in _statuses(o)
    po = _created_order(wm)
    assert po in {o["purchaseOrderId"] for o in released}

    before = wm.now_ms()
    r = wm.send("POST", f"/v3/orders/{po}/acknowledge")
    assert r.status_code == 200
    order = _loads(r)["order"]
    assert order["purchaseOrderId"] == po
    assert "Created" not in _statuses(order) and "Acknowledged" in _statuses(order)

    # Released no longer lists it; the order now reads Acknowledged and counts as modified now.
    r = wm.get(f"/v3/orders/released?createdStartDate={start}&limit=200")
    assert r.status_code == 404 or po not in {o["purchaseOrderId"] for o in r.json()["list"]["elements"]["order"]}
    assert "Created" not in wm.get(f"/v3/orders/{po}").text
    since = _iso(before // 1000 * 1000)
    recent, _ = _page_all(wm, f"/v3/orders?createdStartDate={start}&lastModifiedStartDate={since}&limit=200")
    assert po in {o["purchaseOrderId"] for o in recent}
    # Acknowledging again is harmless, and the seller's own data (the ground truth) is left alone.
    assert wm.send("POST", f"/v3/orders/{po}/acknowledge").status_code == 200
    assert "Created" in json.dumps(seller.order(po), default=str)


def test_acknowledging_a_shipped_order_is_refused(wm, seller):
    shipped = next(o["purchaseOrderId"] for o in seller.orders if set(_statuses(o)) <= {"Shipped", "Delivered"})
    r = wm.send("POST", f"/v3/orders/{shipped}/acknowledge")
    assert r.status_code == 400 and _error(r)["code"] == "INVALID_REQUEST_CONTENT.GMP_ORDER_API"
    assert wm.send("POST", "/v3/orders/0000000000000/acknowledge").status_code == 404


def test_get_one_order(wm, seller):
    po = seller.orders[10]["purchaseOrderId"]
    r = wm.get(f"/v3/orders/{po}")
    assert r.status_code == 200
    order = _loads(r)["order"]
    assert order["purchaseOrderId"] == po and order["orderDate"] == seller.order(po)["orderDate"]
    assert "orderType" not in order  # only with replacementInfo=true
    assert _loads(wm.get(f"/v3/orders/{po}?replacementInfo=true"))["order"]["orderType"] == "REGULAR"
    r = wm.get("/v3/orders/1234567890123")
    assert r.status_code == 404 and _error(r)["code"] == "CONTENT_NOT_FOUND.GMP_ORDER_API"


def test_orders_dated_after_the_sandbox_clock_are_not_there_yet(seller, emulator_server):
    wm = _start(emulator_server, seller, seller.as_of - timedelta(days=20))
    start = _iso(min(o["orderDate"] for o in seller.orders))
    got = []
    for node_type in ("SellerFulfilled", "WFSFulfilled"):
        got += _page_all(wm, f"/v3/orders?createdStartDate={start}&limit=200&shipNodeType={node_type}")[0]
    assert len(got) == sum(1 for o in seller.orders if o["orderDate"] <= wm.now_ms()) < len(seller.orders)
    assert wm.get(f"/v3/orders/{seller.orders[-1]['purchaseOrderId']}").status_code == 404


# ---------------------------------------------------------------------------------------------------
# Returns
# ---------------------------------------------------------------------------------------------------


def test_returns_paging(wm, seller):
    returns, metas = _page_all(wm, "/v3/returns?limit=25", key=lambda b: b["returnOrders"], meta=lambda b: b["meta"],
                               base="/v3/returns")
    ids = [r["returnOrderId"] for r in returns]
    assert len(metas) > 1 and all(m["limit"] == 25 and m["totalCount"] == len(seller.returns) for m in metas)
    assert len(ids) == len(set(ids)) == len(seller.returns)
    assert set(ids) == {r["returnOrderId"] for r in seller.returns}
    assert isinstance(returns[0]["totalRefundAmount"]["currencyAmount"], Decimal)


def test_returns_default_limit_and_maximum(wm):
    assert wm.get("/v3/returns").json()["meta"]["limit"] == 10
    assert len(wm.get("/v3/returns?limit=200").json()["returnOrders"]) <= 200
    r = wm.get("/v3/returns?limit=201")
    assert r.status_code == 400 and _error(r)["field"] == "limit"


def test_returns_filters(wm, seller):
    created = sorted(r["returnOrderDate"] for r in seller.returns)
    cut = created[len(created) // 2]
    got, _ = _page_all(wm, f"/v3/returns?returnCreationStartDate={cut}&limit=200", key=lambda b: b["returnOrders"],
                       meta=lambda b: b["meta"], base="/v3/returns")
    assert {r["returnOrderId"] for r in got} == {r["returnOrderId"] for r in seller.returns if r["returnOrderDate"] >= cut}
    target = seller.returns[3]
    only = wm.get(f"/v3/returns?returnOrderId={target['returnOrderId']}").json()["returnOrders"]
    assert [r["returnOrderId"] for r in only] == [target["returnOrderId"]]
    initiated = wm.get("/v3/returns?status=INITIATED&limit=200").json()["returnOrders"]
    assert all(any(l["status"] == "INITIATED" for l in r["returnOrderLines"]) for r in initiated)
    assert wm.get("/v3/returns?status=OPEN").status_code == 400


# ---------------------------------------------------------------------------------------------------
# Reconciliation reports
# ---------------------------------------------------------------------------------------------------


def test_available_recon_dates(wm, seller):
    body = wm.get("/v3/report/reconreport/availableReconFiles?reportVersion=v1").json()
    assert body == {"availableApReportDates": [s.report_date for s in seller.settlements]}
    r = wm.get("/v3/report/reconreport/availableReconFiles?reportVersion=v2")
    assert r.status_code == 404 and _error(r)["code"] == "INVALID_REPORT_VERSION"


def test_recon_dates_appear_as_the_clock_reaches_them(seller, emulator_server):
    last = datetime.strptime(seller.settlements[-1].report_date, "%m%d%Y").replace(tzinfo=timezone.utc)
    wm = _start(emulator_server, seller, last - timedelta(hours=1))
    dates = wm.get("/v3/report/reconreport/availableReconFiles?reportVersion=v1").json()["availableApReportDates"]
    assert dates == [s.report_date for s in seller.settlements[:-1]]
    r = wm.get(f"/v3/report/reconreport/reconFile?reportDate={seller.settlements[-1].report_date}&reportVersion=v1")
    assert r.status_code == 404
    wm.clock.advance(3600)
    wm.token = wm.new_token()
    dates = wm.get("/v3/report/reconreport/availableReconFiles?reportVersion=v1").json()["availableApReportDates"]
    assert seller.settlements[-1].report_date in dates


def test_recon_file_is_a_zip_of_the_v1_csv(wm, seller):
    settlement = seller.settlements[1]
    r = wm.get(f"/v3/report/reconreport/reconFile?reportDate={settlement.report_date}&reportVersion=v1",
               headers=wm.headers(Accept="application/octet-stream"))
    assert r.status_code == 200
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment") and disposition.endswith(".zip")
    filename = disposition.split("filename=")[1]
    partner, stamp = filename[:-4].split("_", 1)
    assert partner.isdigit()
    datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z")  # 2016-01-15T23:09:54.438+0000
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert len(archive.infolist()) == 1
    text = archive.read(archive.infolist()[0]).decode("utf-8")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    assert tuple(header[:len(V1_COLUMNS)]) == V1_COLUMNS == RECON_V1_COLUMNS
    rows = [dict(zip(header, line)) for line in reader]
    assert len(rows) == len(settlement.rows)
    summary = rows[0]
    assert summary["Transaction Type"] == "PaymentSummary"
    amounts = [Decimal(row["Amount"]) for row in rows[1:] if row["Amount"] != ""]
    assert Decimal(summary["Total Payable"]) == sum(amounts, Decimal("0"))
    assert Decimal(summary["Total Payable"]) * 100 == settlement.total_payable_cents
    assert wm.state.recon_download_count(settlement.report_date) == 1


def test_recon_file_errors(wm, seller):
    date = seller.settlements[0].report_date
    r = wm.get(f"/v3/report/reconreport/reconFile?reportDate={date}&reportVersion=v2")
    assert r.status_code == 404 and _error(r)["code"] == "INVALID_REPORT_VERSION"
    r = wm.get("/v3/report/reconreport/reconFile?reportDate=01012020&reportVersion=v1")
    assert r.status_code == 404 and _error(r)["code"].startswith("CONTENT_NOT_FOUND")
    assert wm.get("/v3/report/reconreport/reconFile?reportVersion=v1").status_code == 400
    assert wm.state.recon_download_count() == 0


def test_recon_download_counts_are_recorded_per_report(wm, seller):
    a, b = seller.settlements[0].report_date, seller.settlements[1].report_date
    for date in (a, a, b):
        assert wm.get(f"/v3/report/reconreport/reconFile?reportDate={date}&reportVersion=v1").status_code == 200
    assert wm.state.recon_download_count(a) == 2 and wm.state.recon_download_count(b) == 1
    times = [r["at"] for r in wm.state.recon_requests if r["reportDate"] == a]
    assert len(times) == 2 and all(abs(t - wm.clock.now()) < 60 for t in times)


def test_recon_json_paging_ends_with_minus_one(wm, seller):
    settlement = seller.settlements[0]
    rows, offset, calls = [], 0, 0
    while offset != -1:
        r = wm.get(f"/v3/report/reconreport/reconFileJson?reportDate={settlement.report_date}&reportVersion=v1"
                   f"&offset={offset}&noOfRecords=500")
        assert r.status_code == 200, r.text
        body = _loads(r)
        assert set(body) == {"reportData", "nextOffset", "totalRecords", "description"}
        assert body["totalRecords"] == len(body["reportData"]) <= 500
        rows += body["reportData"]
        assert body["nextOffset"] == -1 or body["nextOffset"] > offset
        offset = body["nextOffset"]
        calls += 1
    assert calls == -(-len(settlement.rows) // 500)
    assert len(rows) == len(settlement.rows)
    assert rows[0]["Transaction Type"] == "PaymentSummary"
    assert rows[0]["Total Payable"] == settlement.rows[0]["Total Payable"]
    assert all(isinstance(v, str) for row in rows for v in row.values())
    detail = [r for r in rows[1:] if "Amount" in r]
    assert sum(Decimal(r["Amount"]) for r in detail) == Decimal(rows[0]["Total Payable"])
    assert str(len(settlement.rows) + 1) in body["description"]
    assert wm.state.recon_download_count(settlement.report_date, kind="json") == 1


def test_recon_json_parameters(wm, seller):
    date = seller.settlements[0].report_date
    base = f"/v3/report/reconreport/reconFileJson?reportDate={date}"
    assert wm.get(f"{base}&offset=0&noOfRecords=1000").status_code == 200
    r = wm.get(f"{base}&offset=0&noOfRecords=1001")
    assert r.status_code == 400 and _error(r)["field"] == "noOfRecords"
    for missing in (f"{base}&noOfRecords=10", f"{base}&offset=0",
                    f"/v3/report/reconreport/reconFileJson?offset=0&noOfRecords=10"):
        r = wm.get(missing)
        assert r.status_code == 400 and "is not present" in _error(r)["description"], missing
    assert wm.get(f"{base}&offset=0&noOfRecords=10&reportVersion=v2").status_code == 404
    # Offsets are byte positions the API handed out, not record counts.
    first = wm.get(f"{base}&offset=0&noOfRecords=10").json()
    assert first["nextOffset"] > 10
    assert wm.get(f"{base}&offset=10&noOfRecords=10").status_code == 400
    assert wm.get(f"{base}&offset={first['nextOffset']}&noOfRecords=10").json()["reportData"][0]["Transaction Key"]


# ---------------------------------------------------------------------------------------------------
# Inventory
# ---------------------------------------------------------------------------------------------------


def _seller_node(seller) -> str:
    return next(n for n in seller.ship_nodes if seller.ship_node_details[n]["type"] == "SellerFulfilled")


def _wfs_node(seller) -> str:
    return next(n for n in seller.ship_nodes if seller.ship_node_details[n]["type"] == "WFSFulfilled")


def test_single_inventory_get_and_put(wm, seller):
    sku = next(s for s, nodes in seller.inventory.items() if _seller_node(seller) in nodes)
    node = _seller_node(seller)
    r = wm.get(f"/v3/inventory?sku={sku}&shipNode={node}")
    assert r.status_code == 200
    body = r.json()
    on_hand = seller.inventory[sku][node] + seller.inventory_reserved[sku][node]
    assert body == {"sku": sku, "quantity": {"unit": "EACH", "amount": on_hand}}
    body42 = {"sku": sku, "quantity": {"unit": "EACH", "amount": 42}}
    r = wm.send("PUT", f"/v3/inventory?sku={sku}&shipNode={node}", json=body42)
    assert r.status_code == 200 and r.json()["quantity"]["amount"] == 42
    assert wm.get(f"/v3/inventory?sku={sku}&shipNode={node}").json()["quantity"]["amount"] == 42
    assert wm.state.inventory(sku)[node] == 42
    assert r.headers["X-Current-Token-Count"].isdigit()


def test_single_inventory_errors(wm, seller):
    sku = seller.skus[0].sku
    assert wm.get("/v3/inventory?sku=NO-SUCH-SKU").status_code == 404
    assert wm.get(f"/v3/inventory?sku={sku}&shipNode=123").status_code == 404
    assert wm.get(f"/v3/inventory?sku={sku}&shipNode={_wfs_node(seller)}").status_code == 400
    r = wm.send("PUT", f"/v3/inventory?sku={sku}", json={"sku": "other", "quantity": {"unit": "EACH", "amount": 1}})
    assert r.status_code == 400
    r = wm.send("PUT", f"/v3/inventory?sku={sku}", json={"sku": sku, "quantity": {"unit": "EACH", "amount": -1}})
    assert r.status_code == 400
    r = wm.send("PUT", f"/v3/inventory?sku={sku}", json={"sku": sku, "quantity": {"unit": "EACH", "amount": 1.5}})
    assert r.status_code == 400


def test_multi_node_inventory_get_and_put(wm, seller):
    own = {n for n in seller.ship_nodes if seller.ship_node_details[n]["type"] == "SellerFulfilled"}
    sku = next(s for s, nodes in seller.inventory.items() if len(own & set(nodes)) == 2)
    body = wm.get(f"/v3/inventories/{sku}").json()
    assert body["sku"] == sku
    nodes = {n["shipNode"]: n for n in body["nodes"]}
    assert _wfs_node(seller) not in nodes  # seller-fulfilled stock only
    for node, view in nodes.items():
        assert view["availToSellQty"]["amount"] == seller.inventory[sku][node]
        assert view["reservedQty"]["amount"] == seller.inventory_reserved[sku][node]
        assert view["inputQty"]["amount"] == view["availToSellQty"]["amount"] + view["reservedQty"]["amount"]
    a, b = sorted(nodes)
    r = wm.send("PUT", f"/v3/inventories/{sku}", json={"inventories": {"nodes": [
        {"shipNode": a, "inputQty": {"unit": "EACH", "amount": 88}},
        {"shipNode": "79897837271126017", "inputQty": {"unit": "EACH", "amount": 55}},
    ]}})
    assert r.status_code == 200
    statuses = {n["shipNode"]: n["status"] for n in r.json()["nodes"]}
    assert statuses == {a: "Success", "79897837271126017": "Failure"}
    one = wm.get(f"/v3/inventories/{sku}?shipNode={a}").json()
    assert [n["shipNode"] for n in one["nodes"]] == [a] and one["nodes"][0]["inputQty"]["amount"] == 88
    assert wm.state.inventory(sku)[b] == nodes[b]["inputQty"]["amount"]


def test_inventories_paging(wm, seller):
    items, metas = [], []
    path = "/v3/inventories?limit=5"
    while True:
        body = wm.get(path).json()
        items += body["elements"]["inventories"]
        metas.append(body["meta"])
        if not body["meta"].get("nextCursor"):
            break
        path = f"/v3/inventories?limit=5&nextCursor={body['meta']['nextCursor']}"
    skus = [i["sku"] for i in items]
    own = {n for n in seller.ship_nodes if seller.ship_node_details[n]["type"] == "SellerFulfilled"}
    expected = {s for s, nodes in seller.inventory.items() if own & set(nodes)}
    assert len(skus) == len(set(skus)) and set(skus) == expected
    assert all(m["totalCount"] == len(expected) for m in metas) and len(metas) > 1
    assert wm.get("/v3/inventories").json()["meta"].get("nextCursor")  # default limit 10 < SKUs
    r = wm.get("/v3/inventories?limit=51")
    assert r.status_code == 400 and _error(r)["code"] == "INVALID_REQUEST_PARAM.GMP_INVENTORY_API"
    cursor = wm.get("/v3/inventories?limit=5").json()["meta"]["nextCursor"]
    assert wm.get(f"/v3/inventories?limit=10&nextCursor={cursor}").status_code == 400  # same limit required
    assert wm.get("/v3/inventories?limit=5&nextCursor=garbage!").status_code == 400


def test_wfs_inventory(wm, seller):
    wfs = _wfs_node(seller)
    body = wm.get("/v3/fulfillment/inventory?limit=300").json()
    by_sku = {i["sku"]: i["shipNodes"][0] for i in body["payload"]["inventory"]}
    expected = {s: n[wfs] for s, n in seller.inventory.items() if wfs in n}
    assert set(by_sku) == set(expected)
    for sku, node in by_sku.items():
        assert node["availToSellQty"] == expected[sku] and node["shipNodeType"] == "WFSFulfilled"
    assert wm.get("/v3/fulfillment/inventory?limit=301").status_code == 400


# ---------------------------------------------------------------------------------------------------
# Feeds
# ---------------------------------------------------------------------------------------------------


def _submit(wm: Walmart, feed_type: str, doc: dict, **params) -> requests.Response:
    query = "&".join([f"feedType={feed_type}"] + [f"{k}={v}" for k, v in params.items()])
    files = {"file": ("feed.json", dumps(doc).encode(), "application/json")}
    return requests.post(f"{wm.url}/v3/feeds?{query}", headers=wm.headers(), files=files, timeout=30)


def _feed(wm: Walmart, feed_id: str) -> dict:
    r = wm.get(f"/v3/feeds/{feed_id.replace('@', '%40')}?includeDetails=true")
    assert r.status_code == 200, r.text
    return r.json()


def test_mp_inventory_feed_with_an_unknown_sku(wm, seller):
    node = _seller_node(seller)
    skus = [s for s, nodes in seller.inventory.items() if node in nodes][:2]
    doc = {"inventoryHeader": {"version": "1.5"}, "inventory": [
        {"sku": skus[0], "shipNodes": [{"shipNode": node, "quantity": {"unit": "EACH", "amount": 100}}]},
        {"sku": "685387364107_SS4_01", "shipNodes": [{"shipNode": node, "quantity": {"unit": "EACH", "amount": 21}}]},
        {"sku": skus[1], "shipNodes": [{"shipNode": node, "quantity": {"unit": "EACH", "amount": 13}}]},
    ]}
    before = {s: wm.state.inventory(s)[node] for s in skus}
    r = _submit(wm, "MP_INVENTORY", doc)
    assert r.status_code == 200
    feed_id = r.json()["feedId"]
    assert set(r.json()) == {"feedId"} and "@" in feed_id

    first = _feed(wm, feed_id)
    assert first["feedStatus"] == "RECEIVED" and first["itemsProcessing"] == 3
    assert {s: wm.state.inventory(s)[node] for s in skus} == before  # asynchronous
    assert _feed(wm, feed_id)["feedStatus"] == "INPROGRESS"
    done = _feed(wm, feed_id)
    assert done["feedStatus"] == "PROCESSED"
    assert (done["itemsReceived"], done["itemsSucceeded"], done["itemsFailed"], done["itemsProcessing"]) == (3, 2, 1, 0)
    items = {i["sku"]: i for i in done["itemDetails"]["itemIngestionStatus"]}
    assert items[skus[0]]["ingestionStatus"] == "SUCCESS" and items[skus[1]]["ingestionStatus"] == "SUCCESS"
    bad = items["685387364107_SS4_01"]
    assert bad["ingestionStatus"] == "DATA_ERROR" and bad["index"] == 1
    assert bad["ingestionErrors"]["ingestionError"][0]["type"] == "DATA_ERROR"
    assert wm.state.inventory(skus[0])[node] == 100 and wm.state.inventory(skus[1])[node] == 13
    assert not wm.state.known_sku("685387364107_SS4_01")


def test_inventory_v14_feed_processes_with_clock_time(wm, seller):
    node = sorted(n for n in seller.ship_nodes if seller.ship_node_details[n]["type"] == "SellerFulfilled")[-1]
    sku = next(s for s, nodes in seller.inventory.items() if node in nodes)
    doc = {"InventoryHeader": {"version": "1.4"}, "Inventory": [
        {"sku": sku, "quantity": {"unit": "EACH", "amount": 7}},
        {"sku": "test1", "quantity": {"unit": "EACH", "amount": 10}},
    ]}
    feed_id = _submit(wm, "inventory", doc, shipNode=node).json()["feedId"]
    wm.clock.advance(600)
    wm.token = wm.new_token()
    assert wm.state.inventory(sku)[node] == 7  # processed without anyone polling
    done = _feed(wm, feed_id)
    assert done["feedStatus"] == "PROCESSED" and done["itemsFailed"] == 1
    listed = wm.get(f"/v3/feeds?feedId={feed_id.replace('@', '%40')}").json()
    assert listed["totalResults"] == 1 and listed["results"]["feed"][0]["feedStatus"] == "PROCESSED"


def test_price_feed(wm, seller):
    sku = seller.skus[2].sku
    doc = {"PriceHeader": {"version": "1.7"}, "Price": [
        {"sku": sku, "pricing": [{
            "currentPrice": {"currency": "USD", "amount": Decimal("3")}, "currentPriceType": "REDUCED",
            "comparisonPriceType": "BASE", "comparisonPrice": {"currency": "USD", "amount": Decimal("4.99")},
        }]},
        {"sku": "OT-PP7F-QGUG", "pricing": [{"currentPrice": {"currency": "USD", "amount": Decimal("3")},
                                             "currentPriceType": "REDUCED"}]},
    ]}
    feed_id = _submit(wm, "price", doc).json()["feedId"]
    for _ in range(3):
        status = _feed(wm, feed_id)
    assert status["feedStatus"] == "PROCESSED" and (status["itemsSucceeded"], status["itemsFailed"]) == (1, 1)
    assert wm.state.prices[sku] == Decimal("3")


def test_feed_submission_errors(wm, seller):
    r = requests.post(f"{wm.url}/v3/feeds?feedType=MP_INVENTORY", headers=wm.headers(), json={"inventory": []}, timeout=10)
    assert r.status_code == 400  # not multipart
    assert _submit(wm, "MP_ITEM", {}).status_code == 400
    feed_id = _submit(wm, "MP_INVENTORY", {"InventoryHeader": {"version": "1.4"}, "Inventory": []}).json()["feedId"]
    status = _feed(wm, feed_id)
    assert status["feedStatus"] == "ERROR" and status["ingestionErrors"]["ingestionError"]
    assert wm.get("/v3/feeds/UNKNOWN%40AQYBAQA").status_code == 404
    assert wm.get(f"/v3/feeds/{feed_id.replace('@', '%40')}?includeDetails=true&limit=51").status_code == 400


def test_feed_rate_limit_and_usage_headers(wm, seller):
    wm.state.set_rate_limit("feeds.price", 2, 3600)
    doc = {"PriceHeader": {"version": "1.7"}, "Price": []}
    first = _submit(wm, "price", doc)
    assert first.status_code == 200 and first.headers["X-Current-Token-Count"] == "1"
    assert _submit(wm, "price", doc).status_code == 200
    third = _submit(wm, "price", doc)
    assert third.status_code == 429
    assert _error(third)["code"] == "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API"
    assert third.headers["X-Current-Token-Count"] == "0" and int(third.headers["X-Next-Replenishment-Time"]) > wm.now_ms()
    wm.clock.advance(3600)
    wm.token = wm.new_token()
    assert _submit(wm, "price", doc).status_code == 200


# ---------------------------------------------------------------------------------------------------
# Webhooks
# ---------------------------------------------------------------------------------------------------


def test_event_types(wm):
    events = wm.get("/v3/webhooks/eventTypes").json()["events"]
    by_type = {e["eventType"]: e for e in events}
    wanted = (("PO_CREATED", "ORDER"), ("ORDER_UPDATES", "ORDER"), ("RETURN_CREATED", "RETURNS"), ("INVENTORY_OOS", "INVENTORY"))
    for event_type, resource in wanted:
        assert by_type[event_type]["resourceName"] == resource and by_type[event_type]["eventVersion"] == "V1"


def _subscribe(wm: Walmart, receiver: Receiver, event_type: str, resource: str, auth: dict | None = None) -> str:
    event = {"eventType": event_type, "eventVersion": "V1", "resourceName": resource, "eventUrl": f"{receiver.url}/events",
             "headers": {"content-type": "application/json"}, "status": "ACTIVE"}
    if auth:
        event["authDetails"] = auth
    r = wm.send("POST", "/v3/webhooks/subscriptions", json={"events": [event]})
    assert r.status_code == 200, r.text
    created = r.json()["events"][0]
    assert set(created) == {"eventType", "subscriptionId", "partnerId", "eventVersion", "resourceName", "status"}
    return created["subscriptionId"]


BASIC = {"authMethod": "BASIC_AUTH", "userName": "abc", "password": "test", "authHeaderName": "Authorization"}


def test_po_created_delivered_with_basic_auth(wm, seller, receiver):
    _subscribe(wm, receiver, "PO_CREATED", "ORDER", BASIC)
    po = seller.orders[-5]["purchaseOrderId"]
    envelope = wm.state.emit("PO_CREATED", po)
    got = receiver.wait_for(1)
    assert len(got) == 1
    headers, body = got[0]["headers"], json.loads(got[0]["body"], parse_float=Decimal)
    assert headers["authorization"] == base64.b64encode(b"abc:test").decode()
    assert headers["content-type"] == "application/json"
    assert body == json.loads(dumps(envelope), parse_float=Decimal)
    assert body["source"]["eventType"] == "PO_CREATED" and body["source"]["eventId"]
    datetime.strptime(body["source"]["eventTime"], "%Y-%m-%dT%H:%M:%S.%fZ")
    payload, order = body["payload"], seller.order(po)
    assert payload["purchaseOrderId"] == po and payload["customerOrderId"] == order["customerOrderId"]
    assert payload["partnerId"]
    assert [l["sku"] for l in payload["orderLines"]] == [l["item"]["sku"] for l in order["orderLines"]["orderLine"]]
    line = payload["orderLines"][0]
    assert set(line) >= {"lineNumber", "sku", "productName", "quantity", "status", "statusDate", "shippingMethod",
                         "shipNodeType"}
    quantity = order["orderLines"]["orderLine"][0]["orderLineQuantity"]["amount"]
    assert line["quantity"] == {"unitOfMeasure": "EACH", "measurementValue": quantity}
    assert wm.state.wait_for_deliveries(5)
    delivery = wm.state.deliveries[-1]
    assert delivery.delivered and delivery.attempts == 1 and delivery.status_code == 200


def test_order_updates_and_inactive_subscriptions(wm, seller, receiver):
    sid = _subscribe(wm, receiver, "ORDER_UPDATES", "ORDER")
    wm.state.order_created(seller.orders[-1]["purchaseOrderId"])  # also PO_CREATED, not subscribed here
    got = receiver.wait_for(1)
    body = json.loads(got[0]["body"], parse_float=Decimal)
    assert body["source"]["eventType"] == "ORDER_UPDATES" and body["payload"]["subEventType"] == "PO_CREATED"
    assert body["payload"]["order"]["purchaseOrderId"] == seller.orders[-1]["purchaseOrderId"]
    assert "authorization" not in got[0]["headers"]
    r = wm.send("PATCH", f"/v3/webhooks/subscriptions/{sid}", json={"status": "INACTIVE"})
    assert r.status_code == 200 and r.json()["status"] == "INACTIVE"
    wm.state.emit("ORDER_UPDATES", seller.orders[-2]["purchaseOrderId"], sub_event_type="INTENT_TO_CANCEL")
    assert wm.state.wait_for_deliveries(5)
    time.sleep(0.1)
    assert len(receiver.requests) == 1


def test_return_created_and_inventory_oos_events(wm, seller, receiver):
    _subscribe(wm, receiver, "RETURN_CREATED", "RETURNS", BASIC)
    hmac_auth = {"authMethod": "HMAC", "clientSecret": "s3cr3t", "authHeaderName": "X-Signature"}
    _subscribe(wm, receiver, "INVENTORY_OOS", "INVENTORY", hmac_auth)
    ret = seller.returns[0]
    wm.state.emit("RETURN_CREATED", ret["returnOrderId"])
    got = receiver.wait_for(1)
    payload = json.loads(got[0]["body"])["payload"]
    assert payload["returnOrders"][0]["returnOrderId"] == ret["returnOrderId"]
    assert payload["returnOrders"][0]["purchaseOrderId"] == ret["returnOrderLines"][0]["purchaseOrderId"]

    # Setting a seller node's stock to zero runs it out of stock: INVENTORY_OOS goes out by itself.
    node = _seller_node(seller)
    sku = next(s for s, n in seller.inventory.items() if n.get(node, 0) > 0 and seller.inventory_reserved[s].get(node, 0) == 0)
    zero = {"sku": sku, "quantity": {"unit": "EACH", "amount": 0}}
    assert wm.send("PUT", f"/v3/inventory?sku={sku}&shipNode={node}", json=zero).status_code == 200
    got = receiver.wait_for(2)
    oos = got[1]
    body = json.loads(oos["body"])
    assert body["source"]["eventType"] == "INVENTORY_OOS" and body["payload"]["sku"] == sku
    assert {"availToSellQty": 0, "shipNode": node, "shipNodeName": f"{node}@{sku}@ACTIVE"} in body["payload"]["shipNodes"]
    import hashlib
    import hmac
    expected = base64.b64encode(hmac.new(b"s3cr3t", oos["body"], hashlib.sha256).digest()).decode()
    assert oos["headers"]["x-signature"] == expected


def test_oauth_subscription_fetches_a_token_first(wm, seller, receiver):
    auth = {"authMethod": "OAUTH", "authUrl": f"{receiver.url}/oauth/token", "clientId": "cid", "clientSecret": "csecret",
            "authHeaderName": "Authorization"}
    _subscribe(wm, receiver, "PO_CREATED", "ORDER", auth)
    wm.state.emit("PO_CREATED", seller.orders[-1]["purchaseOrderId"])
    got = receiver.wait_for(1)
    assert got[0]["headers"]["authorization"] == "Bearer receiver-token-1"
    token_call = receiver.token_requests[0]
    assert token_call["body"] == b"grant_type=client_credentials"
    assert token_call["headers"]["authorization"] == base64.b64encode(b"cid:csecret").decode()


def test_failed_deliveries_are_retried_logged_and_never_crash(wm, seller, receiver, caplog):
    receiver.status = 500
    _subscribe(wm, receiver, "PO_CREATED", "ORDER", BASIC)
    wm.state.emit("PO_CREATED", seller.orders[-1]["purchaseOrderId"])
    assert wm.state.wait_for_deliveries(10)
    delivery = wm.state.deliveries[-1]
    assert not delivery.delivered and delivery.attempts == 3 and delivery.status_code == 500
    assert len(receiver.requests) == 3
    assert any("webhook" in rec.getMessage() for rec in caplog.records)
    # An unreachable destination fails the same way, and the emulator keeps serving.
    r = wm.send("PATCH", f"/v3/webhooks/subscriptions/{wm.state.deliveries[-1].subscription_id}",
                json={"eventUrl": "http://127.0.0.1:9/events"})
    assert r.status_code == 200
    wm.state.emit("PO_CREATED", seller.orders[-1]["purchaseOrderId"])
    assert wm.state.wait_for_deliveries(15)
    assert wm.state.deliveries[-1].error and not wm.state.deliveries[-1].delivered
    assert wm.get("/v3/webhooks/subscriptions").status_code == 200


def test_subscription_crud(wm, receiver):
    sid = _subscribe(wm, receiver, "PO_CREATED", "ORDER", BASIC)
    listed = wm.get("/v3/webhooks/subscriptions?eventType=PO_CREATED").json()["events"]
    assert len(listed) == 1 and listed[0]["subscriptionId"] == sid
    assert listed[0]["authDetails"]["authMethod"] == "BASIC_AUTH" and listed[0]["eventUrl"].endswith("/events")
    # One subscription per event type; bad requests are refused.
    dup = wm.send("POST", "/v3/webhooks/subscriptions", json={"events": [dict(listed[0], status="ACTIVE")]})
    assert dup.status_code == 400
    bad = {"eventType": "PO_CREATED", "eventVersion": "V1", "resourceName": "ITEM", "eventUrl": "https://x/y", "status": "ACTIVE"}
    no_pw = dict(bad, eventType="RETURN_CREATED", resourceName="RETURNS", authDetails={"authMethod": "BASIC_AUTH", "userName": "u"})
    for event in (dict(bad, eventType="RETURN_CREATED"), dict(bad, eventType="NOPE"), no_pw, dict(bad, resourceName="ORDER", status="ON")):
        assert wm.send("POST", "/v3/webhooks/subscriptions", json={"events": [event]}).status_code == 400, event
    r = wm.send("PATCH", f"/v3/webhooks/subscriptions/{sid}", json={"status": "INACTIVE"})
    assert r.json()["status"] == "INACTIVE"
    assert wm.get("/v3/webhooks/subscriptions?status=ACTIVE").json()["events"] == []
    r = wm.send("DELETE", f"/v3/webhooks/subscriptions/{sid}")
    assert r.json() == {"subscriptionId": sid, "message": "Successfully deleted subscription"}
    assert wm.send("DELETE", f"/v3/webhooks/subscriptions/{sid}").status_code == 404
    assert wm.get("/v3/webhooks/subscriptions").json()["events"] == []


def test_webhook_test_endpoint(wm, receiver):
    request = {"eventType": "PO_CREATED", "eventVersion": "V1", "resourceName": "ORDER", "eventUrl": f"{receiver.url}/events",
               "authDetails": BASIC, "headers": {"content-type": "application/json"}}
    r = wm.send("POST", "/v3/webhooks/test", json=request)
    assert r.status_code == 200 and r.json() == {"message": "Eventurl successfully validated"}
    assert receiver.requests[0]["headers"]["authorization"] == base64.b64encode(b"abc:test").decode()
    receiver.status = 401
    assert wm.send("POST", "/v3/webhooks/test", json=request).status_code == 400


# ---------------------------------------------------------------------------------------------------
# Mounting, money encoding
# ---------------------------------------------------------------------------------------------------


def test_served_under_a_mount_like_the_sandbox_server(seller):
    options = SandboxOptions(seller_start=seller.start, seller_days=seller.days)
    _pin_clock(options, seller.as_of + timedelta(days=1))
    outer = Starlette(routes=[Mount("/walmart", app=build_walmart_app(options, seller=seller))])
    with ThreadedServer(outer) as server:
        base = f"{server.url}/walmart"
        headers = {"WM_SVC.NAME": "t", "WM_QOS.CORRELATION_ID": "c", "Accept": "application/json"}
        token = requests.post(f"{base}/v3/token", auth=CLIENT, data={"grant_type": "client_credentials"},
                              headers=headers, timeout=10).json()["access_token"]
        r = requests.get(f"{base}/v3/inventories", headers=headers | {"WM_SEC.ACCESS_TOKEN": token}, timeout=10)
        assert r.status_code == 200 and r.json()["elements"]["inventories"]


def test_json_encoder_keeps_decimals_exact():
    text = dumps({"a": Decimal("10.00"), "b": Decimal("-0.5"), "c": [1, True, None, "x"]})
    assert text == '{"a":10.00,"b":-0.5,"c":[1,true,null,"x"]}'
    assert loads(text)["a"] == Decimal("10.00") and isinstance(loads(text)["b"], Decimal)


def test_builds_its_own_seller_from_the_options(emulator_server):
    options = SandboxOptions(seed=3, seller_days=5)
    app = build_walmart_app(options)
    state = app.state.walmart
    assert state.seller.days == 5 and state.seller.seed == 3
    emulator_server.swap.app = app
    headers = {"WM_SVC.NAME": "t", "WM_QOS.CORRELATION_ID": "c", "Accept": "application/json"}
    r = requests.post(f"{emulator_server.url}/v3/token", auth=CLIENT, data={"grant_type": "client_credentials"},
                      headers=headers, timeout=10)
    assert r.status_code == 200
