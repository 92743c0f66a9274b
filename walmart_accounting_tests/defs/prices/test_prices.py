"""Prices through Dagster to the Walmart emulator: changed prices go as one bulk feed, followed to its end; failures are dead-lettered."""

import pytest

from walmart_accounting.defs.feeds import push_feeds
from walmart_accounting.store.store import Store
from walmart_accounting.transform.prices import price_feeds


@pytest.fixture
def edit_mapping(tmp_path):
    def edit(data, sandbox):
        skus = sorted(sandbox.app.state.walmart.sku_specs)[:3]
        (tmp_path / "prices.csv").write_text("sku,price\n" + "".join(f"{s},123.45\n" for s in skus) + "NOT-SOLD,9.99\n")
        data["prices"] = {"source": "file", "file": str(tmp_path / "prices.csv")}
    return edit


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setenv("WALMART_FEED_POLL_SECONDS", "0")  # the emulator moves a feed on at each poll


def test_changed_prices_go_in_one_feed_and_reach_walmart(pipeline, sandbox):
    defs, instance, _ = pipeline
    walmart = sandbox.app.state.walmart
    skus = sorted(walmart.sku_specs)[:3]
    result = defs.resolve_job_def("walmart_prices_job").execute_in_process(instance=instance)
    assert result.success
    [event] = result.get_asset_materialization_events()
    figures = {k: v.value for k, v in event.materialization.metadata.items()}
    assert (figures["changes"], figures["feeds"], figures["failed_skus"]) == (3, 1, 0)
    assert [(c.check_name, c.passed) for c in result.get_asset_check_evaluations()] == [("feeds_succeeded", True)]
    assert [f.feed_type for f in walmart.feeds.values()] == ["price"]
    assert {sku: str(walmart.prices[sku]) for sku in skus} == {sku: "123.45" for sku in skus}
    letters = Store.open().dead_letters()
    assert [(d.source, d.record_key) for d in letters] == [("walmart_prices", "NOT-SOLD")]
    # Again: Walmart already has these prices, so nothing is sent.
    again = defs.resolve_job_def("walmart_prices_job").execute_in_process(instance=instance)
    [event] = again.get_asset_materialization_events()
    assert event.materialization.metadata["feeds"].value == 0 and len(walmart.feeds) == 1


def test_a_feed_with_failing_skus_reports_exactly_those(sandbox, monkeypatch):
    import pandas as pd

    from walmart_accounting.cli.connect import walmart_client_from_env

    good = sorted(sandbox.app.state.walmart.sku_specs)[:2]
    changes = pd.DataFrame({"sku": [good[0], "GONE-1", good[1], "GONE-2"], "walmart_cents": 100, "price_cents": 2500})
    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)
    outcomes, failures = push_feeds(walmart_client_from_env(), price_feeds(changes, "USD", 10_000), poll_s=0)
    assert [(o["status"], o["items"], o["failed"]) for o in outcomes] == [("PROCESSED", 4, 2)]
    assert [sku for sku, _ in failures] == ["GONE-1", "GONE-2"]
    assert all("not found" in reason for _, reason in failures)


class TestPricesFromXero:
    """The Xero items' sales prices are the source: only the items whose price differs from Walmart's are sent."""

    @pytest.fixture
    def edit_mapping(self):
        def edit(data, sandbox):
            data["prices"] = {"source": "ledger", "ledger": "xero"}
        return edit

    def test_a_changed_xero_sales_price_reaches_walmart_alone(self, pipeline, sandbox):
        defs, instance, _ = pipeline
        walmart, xero = sandbox.app.state.walmart, sandbox.app.state.xero
        sku = sorted(walmart.sku_specs)[0]
        with xero.lock:
            [item] = [i for i in xero.items.values() if i["Code"] == sku]
            item["SalesDetails"]["UnitPrice"] = item["SalesDetails"]["UnitPrice"] + 1
            price = item["SalesDetails"]["UnitPrice"]
        result = defs.resolve_job_def("walmart_prices_job").execute_in_process(instance=instance)
        assert result.success
        changes = result.output_for_node("walmart_prices")
        assert changes["sku"].tolist() == [sku] and [f.feed_type for f in walmart.feeds.values()] == ["price"]
        assert walmart.prices[sku] == price
