"""The app: unknown paths in Walmart's error shape, serving under a mount, its own seller, exact JSON money."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import requests
from starlette.applications import Starlette
from starlette.routing import Mount

from walmart_accounting.sandbox.options import SandboxOptions
from walmart_accounting.sandbox.server import ThreadedServer
from walmart_accounting.sandbox.walmart import build_walmart_app, dumps, loads
from walmart_accounting_tests.sandbox.walmart.support import CLIENT, _error, _pin_clock


def test_unknown_path_answers_walmart_error_shape(wm):
    r = wm.get("/v3/nothing-here")
    assert r.status_code == 404 and _error(r)["code"].startswith("CONTENT_NOT_FOUND")


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
