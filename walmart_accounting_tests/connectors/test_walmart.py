"""The Walmart client against the Walmart sandbox over HTTP: token, headers, paging, reports, throttling, feeds, shipping, secrecy."""

import logging
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from walmart_accounting.connectors.errors import AuthError, TransportError
from walmart_accounting.connectors.http import RetryPolicy
from walmart_accounting.connectors.walmart import ReconReportCache, WalmartClient, WalmartError
from walmart_accounting.sandbox.server import SandboxOptions, SandboxServer

FAST = RetryPolicy(max_attempts=5, base_delay_s=0.01, max_delay_s=0.05)


@pytest.fixture(scope="module")
def big_sandbox():
    """A seller with enough days for thousands of orders (built once: it is read-only here)."""
    server = SandboxServer(SandboxOptions(seed=5, seller_days=84))
    with server:
        yield server


def make_client(sandbox, tmp_path=None, **kwargs) -> WalmartClient:
    env = sandbox.env()
    cache = ReconReportCache(tmp_path / "reports", clock=sandbox.options.clock.now) if tmp_path else None
    return WalmartClient(env["WALMART_CLIENT_ID"], env["WALMART_CLIENT_SECRET"], env["WALMART_BASE_URL"],
                         clock=sandbox.options.clock.now, sleep=sandbox.options.clock.advance, retry=FAST,
                         report_cache=cache, **kwargs)


def test_pages_through_thousands_of_orders_of_every_ship_node_type(big_sandbox):
    seller = big_sandbox.app.state.walmart.seller
    client = make_client(big_sandbox)
    start = datetime.combine(seller.start, datetime.min.time(), UTC)
    orders = list(client.iter_orders(created_start=start, created_end=start + timedelta(days=seller.days + 1)))
    ids = [o["purchaseOrderId"] for o in orders]
    assert len(ids) > 1000 and len(ids) == len(set(ids))
    assert sorted(ids) == sorted(o["purchaseOrderId"] for o in seller.orders)
    assert client.calls > len(ids) / 200  # it really paged
    amount = orders[0]["orderLines"]["orderLine"][0]["charges"]["charge"][0]["chargeAmount"]["amount"]
    assert isinstance(amount, Decimal)


def test_last_modified_window_reaches_orders_older_than_a_week(big_sandbox):
    seller = big_sandbox.app.state.walmart.seller
    client = make_client(big_sandbox)
    since = datetime.combine(seller.start, datetime.min.time(), UTC)
    changed = list(client.iter_orders(last_modified_start=since))
    assert len(changed) == len(seller.orders)


def test_window_beyond_180_days_is_a_clear_error(sandbox):
    client = make_client(sandbox)
    with pytest.raises(WalmartError, match="more than 180 days"):
        next(client.iter_orders(created_start=datetime.now(UTC) - timedelta(days=200)))


def test_token_is_reused_then_refreshed_before_expiry(sandbox):
    client = make_client(sandbox)
    state = sandbox.app.state.walmart
    client.available_recon_dates()
    client.available_recon_dates()
    assert state.tokens_issued == 1
    sandbox.options.clock.advance(850)  # inside the last minute of the 900 s token
    client.available_recon_dates()
    assert state.tokens_issued == 2


def test_token_refresh_is_thread_safe(sandbox):
    client = make_client(sandbox)
    barrier = threading.Barrier(6)

    def call():
        barrier.wait()
        client.available_recon_dates()

    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sandbox.app.state.walmart.tokens_issued == 1


def test_bad_credentials_are_an_auth_error(sandbox):
    env = sandbox.env()
    client = WalmartClient(env["WALMART_CLIENT_ID"], "wrong-secret", env["WALMART_BASE_URL"], retry=FAST)
    with pytest.raises(AuthError, match="WALMART_CLIENT_SECRET") as info:
        client.available_recon_dates()
    assert "wrong-secret" not in str(info.value)


def test_recon_report_is_parsed_by_column_and_downloaded_once_per_two_hours(sandbox, tmp_path):
    client = make_client(sandbox, tmp_path)
    dates = client.available_recon_dates()
    assert dates, "the default seller has closed settlement periods"
    rows = client.recon_report_rows(dates[0])
    summary = [r for r in rows if r["Transaction Type"] == "PaymentSummary"]
    detail = [r for r in rows if r["Transaction Type"] != "PaymentSummary"]
    assert len(summary) == 1
    assert Decimal(summary[0]["Total Payable"]) == sum(Decimal(r["Amount"]) for r in detail)
    state = sandbox.app.state.walmart
    client.recon_report_rows(dates[0])
    make_client(sandbox, tmp_path).recon_report_rows(dates[0])  # another process, same cache
    assert state.recon_download_count(dates[0], kind="file") == 1
    sandbox.options.clock.advance(2 * 3600 + 1)
    client.recon_report_rows(dates[0])
    assert state.recon_download_count(dates[0], kind="file") == 2
    json_rows = list(client.recon_report_json_rows(dates[0], page_size=50))
    assert len(json_rows) == len(rows)


def test_throttled_calls_wait_for_replenishment(sandbox):
    client = make_client(sandbox)
    sandbox.app.state.walmart.set_rate_limit("orders.read", 2, 60)
    started = sandbox.options.clock.now()
    for _ in range(5):
        list(client.iter_orders(created_start=datetime.now(UTC) - timedelta(days=3), ship_node_types=("SellerFulfilled",)))
    assert sandbox.options.clock.now() - started >= 60


def test_server_errors_and_drops_on_reads_are_retried(sandbox):
    client = make_client(sandbox)
    sandbox.options.faults.add("walmart", "status_500", method="GET", path_prefix="/v3/report", times=2)
    sandbox.options.faults.add("walmart", "drop_after_commit", method="GET", path_prefix="/v3/report", times=1)
    assert client.available_recon_dates()


def test_a_token_endpoint_that_keeps_failing_is_tried_as_often_as_the_policy_says_not_that_squared(sandbox):
    from walmart_accounting.connectors.errors import ServerError

    client = make_client(sandbox)
    rule = sandbox.options.faults.add("walmart", "status_503", method="POST", path_prefix="/v3/token", times=100)
    with pytest.raises(ServerError):
        client.available_recon_dates()
    assert rule.fired == FAST.max_attempts, "the call's retries do not retry the token request's own retries"


def test_a_dropped_feed_submission_is_not_retried_blindly(sandbox):
    client = make_client(sandbox)
    sandbox.options.faults.add("walmart", "drop_after_commit", method="POST", path_prefix="/v3/feeds")
    sku = sandbox.app.state.walmart.seller.skus[0].sku
    client.access_token()
    before = client.calls
    with pytest.raises(TransportError) as info:
        client.submit_feed("inventory", {"InventoryHeader": {"version": "1.4"},
                                         "Inventory": [{"sku": sku, "quantity": {"unit": "EACH", "amount": 5}}]})
    assert info.value.outcome_unknown and client.calls - before == 1


def test_inventory_feed_reports_per_item_results(sandbox):
    client = make_client(sandbox)
    sku = sandbox.app.state.walmart.seller.skus[0].sku
    feed_id = client.submit_feed("inventory", {
        "InventoryHeader": {"version": "1.4"},
        "Inventory": [{"sku": sku, "quantity": {"unit": "EACH", "amount": 7}},
                      {"sku": "NO-SUCH-SKU", "quantity": {"unit": "EACH", "amount": 1}}],
    })
    status = client.wait_for_feed(feed_id, poll_s=30)
    assert status.status == "PROCESSED" and (status.succeeded, status.failed) == (1, 1)
    failed = [i for i in status.items if i.get("sku") == "NO-SUCH-SKU"]
    assert failed and failed[0]["ingestionStatus"] != "SUCCESS"
    assert client.get_inventory(sku)["quantity"]["amount"] == 7
    inventories = list(client.iter_inventories(limit=7))
    assert len({i["sku"] for i in inventories}) == len(sandbox.app.state.walmart.seller.skus)


def test_acknowledge_and_returns(sandbox):
    client = make_client(sandbox)
    seller = sandbox.app.state.walmart.seller
    since = datetime.combine(seller.start, datetime.min.time(), UTC)
    created = [o for o in client.iter_orders(created_start=since, status="Created")]
    if created:
        acked = client.acknowledge_order(created[0]["purchaseOrderId"])
        statuses = {s["status"] for line in acked["orderLines"]["orderLine"]
                    for s in line["orderLineStatuses"]["orderLineStatus"]}
        assert "Created" not in statuses
    returns = list(client.iter_returns(created_start=since, limit=7))
    assert len(returns) == len(seller.returns) and returns


def test_shipping_survives_a_lost_answer_without_shipping_twice(sandbox):
    client = make_client(sandbox)
    since = datetime.fromtimestamp(sandbox.options.clock.now(), UTC) - timedelta(days=60)
    order = next(o for o in client.iter_orders(created_start=since, status="Acknowledged", ship_node_types=("SellerFulfilled",))
                 if all(st["status"] == "Acknowledged" for ln in o["orderLines"]["orderLine"]
                        for st in ln["orderLineStatuses"]["orderLineStatus"]))
    po, line = order["purchaseOrderId"], order["orderLines"]["orderLine"][0]
    quantity = int(line["orderLineQuantity"]["amount"])
    shipped_at = datetime.fromtimestamp(sandbox.options.clock.now(), UTC).replace(microsecond=0) - timedelta(hours=1)
    ship = {"line_number": line["lineNumber"], "quantity": quantity, "carrier": "FedEx", "method_code": "Standard",
            "tracking_number": "794698570000", "tracking_url": "https://www.fedex.com/fedextrack/?trknbr=794698570000",
            "ship_time": shipped_at}
    with pytest.raises(ValueError, match="timezone-aware"):
        client.ship_order_lines(po, [{**ship, "ship_time": shipped_at.replace(tzinfo=None)}])
    rule = sandbox.options.faults.add("walmart", "drop_after_commit", method="POST", path_prefix=f"/v3/orders/{po}/shipping")

    answer = client.ship_order_lines(po, [ship])

    assert rule.fired == 1  # the first answer was lost and the call was sent again
    assert answer["order"]["purchaseOrderId"] == po
    statuses = next(ln for ln in client.get_order(po)["orderLines"]["orderLine"]
                    if ln["lineNumber"] == line["lineNumber"])["orderLineStatuses"]["orderLineStatus"]
    assert [(st["status"], st["statusQuantity"]["amount"]) for st in statuses] == [("Shipped", str(quantity))]
    assert statuses[0]["trackingInfo"] == {
        "shipDateTime": int(shipped_at.timestamp()) * 1000, "carrierName": {"carrier": "FedEx"}, "methodCode": "Standard",
        "trackingNumber": "794698570000", "trackingURL": "https://www.fedex.com/fedextrack/?trknbr=794698570000"}


def test_secrets_never_reach_logs_or_errors(sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(sandbox)
    client.available_recon_dates()
    token = client.access_token()
    sandbox.options.faults.add("walmart", "status_500", method="GET", path_prefix="/v3/report", times=10)
    with pytest.raises(Exception) as info:
        client.available_recon_dates()
    text = caplog.text + str(info.value) + repr(client)
    for secret in (sandbox.options.credentials.walmart_client_secret, token):
        assert secret not in text


def test_items_are_paged_with_the_star_cursor(sandbox):
    client = make_client(sandbox)
    items = list(client.iter_items(limit=7))
    assert sorted(i["sku"] for i in items) == sorted(s.sku for s in sandbox.app.state.walmart.seller.skus)
    assert isinstance(items[0]["price"]["amount"], Decimal)


def test_read_timeouts_are_retried_on_reads(sandbox):
    env = sandbox.env()
    client = WalmartClient(env["WALMART_CLIENT_ID"], env["WALMART_CLIENT_SECRET"], env["WALMART_BASE_URL"],
                           retry=FAST, timeout=(2.0, 0.5))
    sandbox.options.faults.add("walmart", "delay", method="GET", path_prefix="/v3/report", delay_s=1.5)
    assert client.available_recon_dates()
    assert client.calls >= 3  # token, the call that timed out, the retry
