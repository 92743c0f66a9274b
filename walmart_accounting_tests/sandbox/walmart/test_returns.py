"""Returns: paging, the default and maximum limit, filters."""

from __future__ import annotations

from decimal import Decimal

from walmart_accounting_tests.sandbox.walmart.support import _error, _page_all


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
    assert all(any(ln["status"] == "INITIATED" for ln in r["returnOrderLines"]) for r in initiated)
    assert wm.get("/v3/returns?status=OPEN").status_code == 400
