"""What the Walmart emulator tests share: a client that sends Walmart's headers, a swappable server, helpers."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import requests

from walmart_accounting.sandbox.options import SandboxOptions
from walmart_accounting.sandbox.seller import SyntheticSeller
from walmart_accounting.sandbox.server import ThreadedServer
from walmart_accounting.sandbox.walmart import build_walmart_app

CLIENT = ("sandbox-walmart-client", "sandbox-walmart-secret")
DAY_MS = 86_400_000


def _loads(response: requests.Response):
    return json.loads(response.content, parse_float=Decimal)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")



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


def _start(server: ThreadedServer, seller: SyntheticSeller, when: datetime) -> Walmart:
    options = SandboxOptions(seed=7, seller_start=seller.start, seller_days=seller.days, webhook_timeout_s=2.0)
    _pin_clock(options, when)
    app = build_walmart_app(options, seller=seller)
    app.state.walmart.webhook_retry_delay_s = 0.05
    server.swap.app = app
    return Walmart(server, app, options, seller)


def _error(response: requests.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"], list) and body["error"], body
    err = body["error"][0]
    assert {"code", "field", "description", "info", "severity", "category"} <= set(err), err
    return err


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


def _seller_node(seller) -> str:
    return next(n for n in seller.ship_nodes if seller.ship_node_details[n]["type"] == "SellerFulfilled")


def _wfs_node(seller) -> str:
    return next(n for n in seller.ship_nodes if seller.ship_node_details[n]["type"] == "WFSFulfilled")
