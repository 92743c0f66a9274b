"""The order loop through Dagster: an open seller-fulfilled order becomes an Exact sales order; Exact's delivery is
confirmed to Walmart once, even when the run is repeated or the first confirmation's answer was lost."""

from datetime import UTC, datetime, timedelta

import pytest

from walmart_accounting.cli.connect import exact_client_from_env, walmart_client_from_env
from walmart_accounting.connectors.exact import ODataLiteral, eq
from walmart_accounting.store.store import Store
from walmart_accounting.transform.walmart import order_frames


def _loop_on(data, sandbox):
    data["order_loop"] = {"enabled": True}
    data["stock"] = {"item_code_is_sku": True}  # the emulated Exact division's items are coded by SKU


@pytest.fixture
def edit_mapping():
    return _loop_on


def _open_orders(seller):
    """Seller-fulfilled purchase orders with a line still to ship, by the hour they were placed."""
    since = datetime.combine(seller.start, datetime.min.time(), UTC)
    lines = order_frames(list(walmart_client_from_env().iter_orders(
        created_start=since, created_end=since + timedelta(days=seller.days + 1))))[0].valid
    open_ = lines[lines["status"].isin(["Created", "Acknowledged"]) & (lines["ship_node_type"] == "SellerFulfilled")]
    return open_.assign(hour=open_["order_date"].dt.strftime("%Y-%m-%d-%H:00"))


def _deliver(exact, po: str, tracking: str) -> None:
    """The warehouse ships the whole order: a goods delivery in Exact with UPS and a tracking number."""
    [order] = list(exact.query("salesorder/SalesOrders", filter=eq("YourRef", f"WM-SO-{po}"), select=["OrderID"]))
    lines = list(exact.query("salesorder/SalesOrderLines", filter=f"OrderID eq {ODataLiteral.guid(order['OrderID'])}",
                             select=["ID", "Quantity"]))
    [ups] = list(exact.query("sales/ShippingMethods", filter=eq("Code", "UPS"), select=["ID"]))
    exact.create("salesorder/GoodsDeliveries", {
        "ShippingMethod": ups["ID"], "TrackingNumber": tracking,
        "GoodsDeliveryLines": [{"SalesOrderLineID": ln["ID"], "QuantityDelivered": ln["Quantity"]} for ln in lines]})


def _shipped(po: str) -> list[tuple[str, str, str]]:
    order = walmart_client_from_env().get_order(po)
    return sorted((str(line["lineNumber"]), str(s["statusQuantity"]["amount"]), s["trackingInfo"]["trackingNumber"])
                  for line in order["orderLines"]["orderLine"] for s in line["orderLineStatuses"]["orderLineStatus"]
                  if s["status"] == "Shipped" and s.get("trackingInfo"))


def test_an_order_goes_to_exact_and_its_delivery_to_walmart_once(pipeline, sandbox):
    defs, instance, seller = pipeline
    open_ = _open_orders(seller)
    hour = open_["hour"].value_counts().index[0]
    pos = sorted(open_.loc[open_["hour"] == hour, "purchase_order_id"].unique())
    run = defs.resolve_job_def("walmart_orders_job").execute_in_process(instance=instance, partition_key=hour)
    assert run.success
    assert {c.check_name: c.passed for c in run.get_asset_check_evaluations()
            if c.asset_key.to_user_string().startswith("exact_")}.get("sales_orders_match_walmart") is True
    store = Store.open()
    exact = exact_client_from_env(store)
    orders = {o["YourRef"]: o for o in exact.query("salesorder/SalesOrders", select=["YourRef", "WarehouseCode", "OrderID"])}
    assert sorted(orders) == [f"WM-SO-{po}" for po in pos]
    assert {o["WarehouseCode"] for o in orders.values()} == {"1"}
    lines = list(exact.query("salesorder/SalesOrderLines", select=["OrderID", "ItemCode", "Quantity"]))
    first = open_[open_["purchase_order_id"] == pos[0]]
    booked = sorted((ln["ItemCode"], int(ln["Quantity"])) for ln in lines if ln["OrderID"] == orders[f"WM-SO-{pos[0]}"]["OrderID"])
    assert booked == sorted(zip(first["sku"], first["quantity"].astype(int), strict=True))

    # The warehouse ships the first order; the shipment job confirms it to Walmart, and again confirms nothing twice.
    _deliver(exact, pos[0], "1Z999AA10000000001")
    shipments = defs.resolve_job_def("walmart_shipments_job")
    first_run = shipments.execute_in_process(instance=instance)
    assert first_run.success and all(c.passed for c in first_run.get_asset_check_evaluations())
    expected = sorted((str(n), str(int(q)), "1Z999AA10000000001") for n, q in zip(first["line_number"], first["quantity"],
                                                                                   strict=True))
    assert _shipped(pos[0]) == expected
    again = shipments.execute_in_process(instance=instance)
    [event] = again.get_asset_materialization_events()
    assert event.materialization.metadata["already_posted"].value == 1
    assert _shipped(pos[0]) == expected
    assert [(p.ledger, p.status) for p in store.postings("walmart")] == [("walmart", "posted")]

    # The second order: every answer to its confirmation is lost, so the run does not know whether Walmart took it.
    assert len(pos) >= 2, "the seeded seller's busiest hour has two open orders"
    _deliver(exact, pos[1], "1Z999AA10000000002")
    sandbox.options.faults.add("walmart", "drop_after_commit", method="POST",
                               path_prefix=f"/v3/orders/{pos[1]}/shipping", times=50)
    lost = shipments.execute_in_process(instance=instance, raise_on_error=False)
    sandbox.options.faults.clear()
    assert [c.passed for c in lost.get_asset_check_evaluations()] == [False]
    assert {p.document_key: p.status for p in store.postings("walmart")}[f"WM-SHP-{pos[1]}-2"] == "failed"
    resolved = shipments.execute_in_process(instance=instance)
    assert all(c.passed for c in resolved.get_asset_check_evaluations())
    # Resolved by reading the order back (its lines carry the tracking number), not by shipping it again.
    [event] = resolved.get_asset_materialization_events()
    assert (event.materialization.metadata["found_in_ledger"].value, event.materialization.metadata["posted"].value) == (1, 0)
    second = open_[open_["purchase_order_id"] == pos[1]]
    assert _shipped(pos[1]) == sorted((str(n), str(int(q)), "1Z999AA10000000002")
                                      for n, q in zip(second["line_number"], second["quantity"], strict=True))
    assert {p.document_key: p.status for p in store.postings("walmart")} == {
        f"WM-SHP-{pos[0]}-1": "posted", f"WM-SHP-{pos[1]}-2": "posted"}


class TestShipmentFiles:
    """A warehouse or 3PL that drops shipment CSVs: any ledger, no sales orders, the same exactly-once confirmation."""

    @pytest.fixture
    def edit_mapping(self, tmp_path):
        def edit(data, sandbox):
            data["order_loop"] = {"enabled": True, "shipments_from": "file", "shipments_folder": str(tmp_path / "in")}
        (tmp_path / "in").mkdir()
        return edit

    def test_a_shipment_file_is_confirmed_once_and_a_bad_row_is_dead_lettered(self, pipeline, tmp_path):
        defs, instance, seller = pipeline
        assert "exact_sales_orders" not in {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
        open_ = _open_orders(seller)
        po = open_["purchase_order_id"].iloc[0]
        lines = open_[open_["purchase_order_id"] == po]
        rows = [f"{po},{n},{int(q)},UPS,1ZFILE0001,2026-11-16" for n, q in zip(lines["line_number"], lines["quantity"],
                                                                                strict=True)]
        (tmp_path / "in" / "3pl-2026-11-16.csv").write_text(
            "purchase_order_id,line_number,quantity,carrier,tracking_number,ship_date\n" + "\n".join(rows)
            + f"\n{po},1,1,PIGEON,TRK-PIGEON,2026-11-16\n", encoding="utf-8")
        shipments = defs.resolve_job_def("walmart_shipments_job")
        first = shipments.execute_in_process(instance=instance)
        [check] = first.get_asset_check_evaluations()
        assert not check.passed and f"WM-SHP-{po}-TRK-PIGEON" in check.metadata["not_confirmed"].value
        expected = sorted((str(n), str(int(q)), "1ZFILE0001") for n, q in zip(lines["line_number"], lines["quantity"],
                                                                             strict=True))
        assert _shipped(po) == expected
        [letter] = Store.open().dead_letters()
        assert letter.record_key == f"WM-SHP-{po}-TRK-PIGEON" and "PIGEON is not one of order_loop.carriers" in letter.reason
        again = shipments.execute_in_process(instance=instance)
        [event] = again.get_asset_materialization_events()
        assert event.materialization.metadata["already_posted"].value == 1 and _shipped(po) == expected
