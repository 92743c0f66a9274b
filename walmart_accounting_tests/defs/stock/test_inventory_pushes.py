"""The ledger's stock to Walmart through Dagster: one MP_INVENTORY feed per change, refusals dead-lettered, one way only."""

import pytest

from walmart_accounting.cli.connect import exact_client_from_env, xero_client_from_env
from walmart_accounting.store.store import Store

HOURS = ("2026-11-20-09:00", "2026-11-20-10:00")
UNKNOWN_NODE = "999000999"  # mapped by mistake: not one of the seller's nodes, so Walmart refuses what goes there


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setenv("WALMART_FEED_POLL_SECONDS", "0")  # the emulator moves a feed on at each poll


def _skus(sandbox) -> list[str]:
    """Four SKUs Walmart stocks at both of the seller's own nodes."""
    walmart = sandbox.app.state.walmart
    nodes = walmart.seller_nodes()
    return [s for s in sorted(walmart.sku_specs) if all(walmart.inventory(s).get(n, 0) > 0 for n in nodes)][:4]


def _run(pipeline, hour):
    defs, instance, _ = pipeline
    result = defs.resolve_job_def("walmart_stock_job").execute_in_process(instance=instance, partition_key=hour)
    assert result.success
    return result


def _figures(result, asset: str) -> dict:
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _mp_inventory_feeds(sandbox) -> list:
    return [f for f in sandbox.app.state.walmart.feeds.values() if f.feed_type == "MP_INVENTORY"]


class TestExactAsTheSource:
    @pytest.fixture
    def edit_mapping(self):
        def edit(data, sandbox):
            held, *from_ledger = _skus(sandbox)
            first, second = sandbox.app.state.walmart.seller_nodes()
            # Walmart holds the first SKU (Exact is counted to it); the ledger holds the other three (pushed).
            data["stock"] = {"ledger": "exact", "read_wfs": False, "item_code_is_sku": True,
                             "warehouses": {first: "1", second: "2", UNKNOWN_NODE: "3"},
                             "groups": {"walmart_held": {"skus": [held], "source": "walmart"},
                                        "from_ledger": {"skus": from_ledger, "source": "ledger"}}}
        return edit

    def test_ledger_stock_reaches_walmarts_nodes_in_one_feed_and_each_sku_moves_one_way(self, pipeline, sandbox):
        walmart, exact = sandbox.app.state.walmart, sandbox.app.state.exact
        first, second = walmart.seller_nodes()
        held, raised, lowered, refused = _skus(sandbox)
        for code in ("2", "3"):
            exact.add_warehouse(code)
        before = {sku: walmart.inventory(sku) for sku in (held, raised, lowered, refused)}

        def ledger_holds(sku, one, two, three=None):
            exact.set_stock(sku, one, warehouse="1")
            exact.set_stock(sku, two, warehouse="2")
            if three is not None:
                exact.set_stock(sku, three, warehouse="3")

        ledger_holds(held, before[held][first] + 2, before[held][second])  # Walmart's truth: Exact is counted down
        ledger_holds(raised, before[raised][first] + 5, before[raised][second])
        ledger_holds(lowered, before[lowered][first], before[lowered][second] - 1)
        ledger_holds(refused, before[refused][first] + 1, before[refused][second], three=4)

        result = _run(pipeline, HOURS[0])
        pushed = _figures(result, "walmart_inventory_pushes")
        assert (pushed["feeds"], pushed["items"], pushed["failed"], pushed["unmapped"]) == (1, 3, 1, 0)
        assert "PROCESSED" in pushed["feed_results"]
        [feed] = _mp_inventory_feeds(sandbox)
        assert sorted(item["sku"] for item in feed.items) == sorted([raised, lowered, refused])  # never `held`

        # Walmart now holds the ledger's quantities, at the node of each warehouse.
        assert walmart.inventory(raised) == {**before[raised], first: before[raised][first] + 5}
        assert walmart.inventory(lowered) == {**before[lowered], second: before[lowered][second] - 1}
        # The refused SKU's item failed as a whole (Walmart refuses the node), so none of its nodes moved.
        assert walmart.inventory(refused) == before[refused]
        [letter] = Store.open().dead_letters()
        assert (letter.source, letter.record_key) == ("walmart_inventory_feed", refused)
        assert f"Ship node {UNKNOWN_NODE} not found for this seller" in letter.reason
        rows = result.output_for_node("walmart_inventory_pushes").set_index(["sku", "ship_node"])
        assert rows.loc[(refused, UNKNOWN_NODE), "error"] == letter.reason
        assert rows["feed_id"].unique().tolist() == [feed.feed_id]

        # The SKU Walmart holds was counted into Exact and is not pushed; the pushed ones were not counted.
        assert walmart.inventory(held) == before[held]
        assert _figures(result, "exact_stock_counts")["stock_counts"] == 1
        stock = {(r["ItemCode"], r["WarehouseCode"]): int(r["CurrentStock"]) for r in exact_client_from_env(
            Store.open()).query("inventory/ItemWarehouses", select=["ItemCode", "WarehouseCode", "CurrentStock"])}
        assert stock[(held, "1")] == before[held][first]
        assert stock[(raised, "1")] == before[raised][first] + 5
        checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
        assert all(c.passed for name, c in checks.items() if name != "feeds_succeeded")
        refusal = checks["feeds_succeeded"]  # the feed ended with an error for one SKU: named, with Walmart's words
        assert not refusal.passed and refused in refusal.metadata["failures"].value

        # The seller fixes the ledger (nothing in the wrongly mapped warehouse): the next hour Walmart agrees
        # everywhere, so no feed is sent.
        exact.set_stock(refused, 0, warehouse="3")
        exact.set_stock(refused, before[refused][first], warehouse="1")
        again = _figures(_run(pipeline, HOURS[1]), "walmart_inventory_pushes")
        assert (again["feeds"], again["items"]) == (0, 0)
        assert len(_mp_inventory_feeds(sandbox)) == 1


class TestXeroAsTheSource:
    @pytest.fixture
    def edit_mapping(self):
        def edit(data, sandbox):
            tracked, untracked = _skus(sandbox)[:2]
            first = sandbox.app.state.walmart.seller_nodes()[0]
            data["stock"] = {"ledger": "xero", "read_wfs": False, "item_code_is_sku": True,
                             "warehouses": {first: "xero"},
                             "groups": {"from_xero": {"skus": [tracked, untracked], "source": "ledger"}}}
        return edit

    def test_tracked_quantity_on_hand_goes_to_the_one_node_and_an_untracked_item_is_never_zeroed(self, pipeline,
                                                                                                   sandbox):
        walmart, xero = sandbox.app.state.walmart, sandbox.app.state.xero
        first, second = walmart.seller_nodes()
        tracked, untracked = _skus(sandbox)[:2]
        before = {sku: walmart.inventory(sku) for sku in (tracked, untracked)}
        with xero.lock:  # the organisation's inventory accounts (a tracked item needs both)
            xero._add_account("1400", "Inventory", "INVENTORY")
            xero._add_account("5000", "Cost of Goods Sold", "DIRECTCOSTS")
        [saved] = xero_client_from_env(Store.open()).create("Items", [{
            "Code": tracked, "InventoryAssetAccountCode": "1400",
            "PurchaseDetails": {"UnitPrice": "6.00", "COGSAccountCode": "5000"}}], document_keys=["track"], method="POST")
        assert saved.ok, saved.errors
        xero.set_quantity_on_hand(tracked, before[tracked][first] + 7)

        result = _run(pipeline, HOURS[0])
        pushed = _figures(result, "walmart_inventory_pushes")
        assert (pushed["feeds"], pushed["items"], pushed["failed"]) == (1, 1, 0)
        assert walmart.inventory(tracked) == {**before[tracked], first: before[tracked][first] + 7}
        assert walmart.inventory(untracked) == before[untracked]  # Xero has no quantity of it: not a 0
        rows = result.output_for_node("walmart_inventory_pushes")
        assert rows[["sku", "ship_node", "quantity"]].values.tolist() == [[tracked, first, before[tracked][first] + 7]]
        reasons = _figures(result, "walmart_inventory_pushes")["unmapped_skus_and_nodes"]
        assert untracked in reasons and "not tracked" in reasons
        assert second in reasons  # the other node has no stock pool: reported, never guessed

        again = _figures(_run(pipeline, HOURS[1]), "walmart_inventory_pushes")
        assert again["feeds"] == 0 and len(_mp_inventory_feeds(sandbox)) == 1
