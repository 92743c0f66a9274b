"""Exact follows Walmart's stock through Dagster: a snapshot counts each warehouse once; no change, or a re-run, posts nothing."""

import pytest

from walmart_accounting.cli.connect import exact_client_from_env
from walmart_accounting.store.store import Store
from walmart_accounting.transform.walmart.inventory import SELLER_FULFILLED

HOURS = ("2026-11-20-09:00", "2026-11-20-10:00")


def _walmart_holds_everything(data, sandbox):
    # Both of the seller's own nodes stock Exact's warehouse 1; Walmart's fulfilment centres are warehouse 2.
    data["stock"] = {"ledger": "exact", "read_wfs": True, "item_code_is_sku": True,
                     "warehouses": {**{node: "1" for node in sandbox.app.state.walmart.seller_nodes()}, "WFS": "2"},
                     "groups": {"all": {"skus": ["*"], "source": "walmart"}}}


@pytest.fixture
def edit_mapping():
    return _walmart_holds_everything


def _run(pipeline, hour):
    defs, instance, _ = pipeline
    result = defs.resolve_job_def("walmart_stock_job").execute_in_process(instance=instance, partition_key=hour)
    assert result.success
    return result


def _counted(result) -> dict:
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "exact_stock_counts"]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _exact_stock(warehouse: str = "1") -> dict[str, int]:
    client = exact_client_from_env(Store.open())
    return {row["ItemCode"]: int(row["CurrentStock"])
            for row in client.query("inventory/ItemWarehouses", select=["ItemCode", "WarehouseCode", "CurrentStock"])
            if row["WarehouseCode"] == warehouse}


def test_a_snapshot_counts_exact_to_walmart_once_and_no_change_posts_nothing(pipeline, sandbox):
    walmart = sandbox.app.state.walmart
    nodes = walmart.seller_nodes()
    sandbox.app.state.exact.add_warehouse("2", "Walmart Fulfillment Services")
    first = _run(pipeline, HOURS[0])
    taken = first.output_for_node("walmart_inventory")
    assert set(taken["ship_node"]) == {*nodes, "WFS"}
    assert set(taken.loc[taken["ship_node"] == "WFS", "ship_node_type"]) == {"WFSFulfilled"}
    snapshot = taken[taken["ship_node_type"] == SELLER_FULFILLED]
    held = snapshot.groupby("sku")["on_hand_quantity"].sum()
    figures = _counted(first)
    assert figures["stock_counts"] == 2 and figures["unmapped"] == 0  # warehouse 1 and warehouse 2
    stock = _exact_stock()
    assert {sku: stock.get(sku, 0) for sku in held.index} == held.astype(int).to_dict()
    wfs = taken[taken["ship_node"] == "WFS"].set_index("sku")["on_hand_quantity"]
    assert {sku: _exact_stock("2").get(sku, 0) for sku in wfs.index} == wfs.astype(int).to_dict()
    checks = {e.check_name: e.passed for e in first.get_asset_check_evaluations()}
    assert checks["stock_agrees"] and checks["all_documents_posted"]
    counts = list(exact_client_from_env(Store.open()).query("inventory/StockCounts", select=["Description", "Status"]))
    assert sorted(c["Description"][-2:] for c in counts) == ["-1", "-2"] and {c["Status"] for c in counts} == {21}
    assert all(c["Description"].startswith("WM-STK-") for c in counts)

    # The next hour, nothing moved at Walmart: no count. The first hour again: already counted, nothing posted.
    assert _counted(_run(pipeline, HOURS[1]))["stock_counts"] == 0
    again = _counted(_run(pipeline, HOURS[0]))
    assert again["stock_counts"] == 0
    assert len(list(exact_client_from_env(Store.open()).query("inventory/StockCounts", select=["Description"]))) == 2

    # A sale at Walmart's node: the next snapshot counts just that SKU down.
    sku = next(s for s in held.index if walmart.inventory(s).get(nodes[0], 0) > 0)
    walmart.set_inventory([(sku, nodes[0], walmart.inventory(sku)[nodes[0]] - 1)])
    assert _counted(_run(pipeline, HOURS[1]))["stock_counts"] == 1
    assert _exact_stock()[sku] == int(held[sku]) - 1
