"""The recorded seller: the example folder loads, the emulator serves it through the real client, bad files name themselves."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from walmart_accounting.cli.main import cli
from walmart_accounting.connectors.errors import AuthError
from walmart_accounting.connectors.http import RetryPolicy
from walmart_accounting.connectors.walmart import WalmartClient
from walmart_accounting.sandbox.seller import RECON_V1_COLUMNS, RecordedDataError, RecordedSeller
from walmart_accounting.sandbox.server import SandboxOptions, SandboxServer

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "seller_data"
TODAY = date(2026, 12, 2)  # the example's dates fit Walmart's 180-day window as of this day: nothing moves
REPORTS = ["10312026", "11142026"]
FAST = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05)


def cents(text: str) -> int:
    scaled = Decimal(text).scaleb(2)
    assert scaled == scaled.to_integral_value(), text
    return int(scaled)


def client_for(server: SandboxServer, secret: str | None = None) -> WalmartClient:
    env = server.env()
    return WalmartClient(env["WALMART_CLIENT_ID"], secret or env["WALMART_CLIENT_SECRET"], env["WALMART_BASE_URL"],
                         clock=server.options.clock.now, sleep=server.options.clock.advance, retry=FAST)


@pytest.fixture(scope="module")
def example() -> RecordedSeller:
    return RecordedSeller.from_folder(EXAMPLE, today=TODAY)


@pytest.fixture(scope="module")
def served():
    server = SandboxServer(SandboxOptions(seller_data=EXAMPLE))
    with server:
        yield server


def test_example_folder_loads_with_its_days_catalogue_and_reports(example):
    assert example.shift_days == 0
    assert (example.start, example.end, example.days) == (date(2026, 10, 26), date(2026, 11, 15), 20)
    assert example.as_of == datetime(2026, 11, 15, tzinfo=UTC)
    assert len(example.orders) == 9 and len(example.returns) == 1
    assert all(o["shippingInfo"]["postalAddress"]["state"] for o in example.orders)
    assert [s.report_date for s in example.settlements] == REPORTS
    for settlement in example.settlements:
        summary = [r for r in settlement.rows if r["Transaction Type"] == "PaymentSummary"]
        detail = [r for r in settlement.rows if r["Transaction Type"] != "PaymentSummary"]
        assert len(summary) == 1 and settlement.total_payable_cents == cents(summary[0]["Total Payable"])
        assert sum(cents(r["Amount"]) for r in detail) == settlement.total_payable_cents  # the books tie out
    kinds = {(r["Transaction Type"], r["Transaction Description"]) for s in example.settlements for r in s.rows}
    assert {("Reserve", "Funds withheld to cover future refunds"), ("Release Reserve", "Reserve credited back"),
            ("Refund", "Return Refund"), ("Refund", "Refund")} <= kinds
    withheld_pr = [r for s in example.settlements for r in s.rows
                   if r["Ship to State"] == "PR" and r["Amount Type"] == "Product tax withheld"]
    assert withheld_pr and all(cents(r["Amount"]) < 0 for r in withheld_pr)
    # The refund issued without a return: a refund section on the order line, no returnOrderId.
    refunded = example.order("7423562735365")
    lines = [ln for ln in refunded["orderLines"]["orderLine"] if "refund" in ln]
    assert len(lines) == 1 and "returnOrderId" not in lines[0]
    # The catalogue from items.json, GTINs and tax codes as the reports give them; ship nodes from the orders.
    skus = {spec.sku: spec for spec in example.skus}
    sold = {ln["item"]["sku"] for o in example.orders for ln in o["orderLines"]["orderLine"]}
    assert set(skus) == sold and all(spec.price_cents > 0 and len(spec.gtin) == 14 for spec in skus.values())
    assert {d["type"] for d in example.ship_node_details.values()} == {"SellerFulfilled", "WFSFulfilled"}
    assert example.inventory and all(q == 0 for nodes in example.inventory_reserved.values() for q in nodes.values())
    ret = example.returns[0]
    assert example.return_refunded_at(ret["returnOrderId"]) == example.return_last_modified(ret["returnOrderId"])
    assert example.order_last_modified("6972276109414") <= example.as_of


def test_emulator_serves_the_folder_through_the_client_with_paging_filters_and_auth(served):
    seller = served.app.state.walmart.seller
    client = client_for(served)
    since = datetime.combine(seller.start, datetime.min.time(), UTC)
    orders = list(client.iter_orders(created_start=since, created_end=since + timedelta(days=seller.days + 1), limit=2))
    assert sorted(o["purchaseOrderId"] for o in orders) == sorted(o["purchaseOrderId"] for o in seller.orders)
    assert client.calls > 5  # it paged, per ship node type
    by_id = {o["purchaseOrderId"]: o for o in orders}
    assert by_id["7938428968666"] == seller.order("7938428968666")  # served as recorded, money as Decimal
    assert isinstance(by_id["7938428968666"]["orderLines"]["orderLine"][0]["charges"]["charge"][0]["chargeAmount"]["amount"],
                      Decimal)
    wfs = list(client.iter_orders(created_start=since, ship_node_types=("WFSFulfilled",)))
    assert wfs and all(o["shipNode"]["type"] == "WFSFulfilled" for o in wfs)
    sku = "WM-SKU-0024"
    assert [o["purchaseOrderId"] for o in client.iter_orders(created_start=since, sku=sku)] == ["7047701877897"]
    assert client.get_order("7423562735365") == seller.order("7423562735365")

    returns = list(client.iter_returns(created_start=since, limit=1))
    assert [r["returnOrderId"] for r in returns] == [r["returnOrderId"] for r in seller.returns]

    assert client.available_recon_dates() == [s.report_date for s in seller.settlements]  # REPORTS until dates move
    for settlement in seller.settlements:
        rows = client.recon_report_rows(settlement.report_date)
        assert [{k: v for k, v in r.items() if k in RECON_V1_COLUMNS} for r in rows] == settlement.rows
        paged = list(client.recon_report_json_rows(settlement.report_date, page_size=7))
        assert [r["Amount"] for r in paged if "Amount" in r] == [r["Amount"] for r in settlement.rows if r["Amount"]]

    with pytest.raises(AuthError):
        next(client_for(served, secret="not-the-secret").iter_orders(created_start=since))


def test_ledger_sandboxes_stock_the_recorded_skus(served):
    seller = served.app.state.walmart.seller
    skus = {spec.sku for spec in seller.skus}
    assert {item["Code"] for item in served.app.state.xero.items.values()} == skus
    assert skus <= {item["Code"] for item in served.app.state.exact.items}


def test_data_older_than_the_order_window_moves_forward_by_whole_weeks():
    options = SandboxOptions(seller_data=EXAMPLE)
    options.clock.advance(400 * 86400)  # a year and more after the example was recorded
    with SandboxServer(options) as server:
        seller = server.app.state.walmart.seller
        assert seller.shift_days > 0 and seller.shift_days % 7 == 0
        moved = timedelta(days=seller.shift_days)
        today = datetime.fromtimestamp(options.clock.now(), UTC).date()
        assert seller.start == date(2026, 10, 26) + moved
        assert today - timedelta(days=180) < seller.start and seller.end <= today
        assert "dates moved" in seller.describe()
        original = RecordedSeller.from_folder(EXAMPLE, today=TODAY)
        for before, after in zip(original.settlements, seller.settlements, strict=True):
            assert (after.period_start, after.period_end) == (before.period_start + moved, before.period_end + moved)
            assert after.period_end.weekday() == before.period_end.weekday() == 4  # Walmart's Friday cycles
            assert after.total_payable_cents == before.total_payable_cents
            row = next(r for r in after.rows if r["Transaction Type"] == "Sale")
            assert row["Transaction Key"].startswith(f"{after.period_end:%Y_%m_%d}_")
        assert original.orders[0]["orderDate"] + seller.shift_days * 86_400_000 == seller.orders[0]["orderDate"]
        client = client_for(server)
        since = datetime.combine(seller.start, datetime.min.time(), UTC)
        assert len(list(client.iter_orders(created_start=since))) == 9
        assert client.available_recon_dates() == [s.report_date for s in seller.settlements]
        assert len(list(client.iter_returns(created_start=since))) == 1


# -- bad files -------------------------------------------------------------------------------------


def _rewrite_csv(path: Path, edit) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(edit(lines)), encoding="utf-8")


def _replace_on(line: int, old: str, new: str):
    """An edit of one CSV line (1 = the header), as a line-number-aware error should report it."""
    return lambda lines: [text.replace(old, new) if number == line else text for number, text in enumerate(lines, start=1)]


def _zip(path: Path, members: dict[str, str]) -> None:
    path.unlink(missing_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)


def _json_edit(path: Path, edit) -> None:
    body = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(edit(body)), encoding="utf-8")


def _first_order(body):
    body["list"]["elements"]["order"][0].pop("purchaseOrderId")
    return body


def _drop_column(name):
    def edit(lines):
        header = lines[0].rstrip("\r\n").split(",")
        at = header.index(name)
        return [",".join(c for i, c in enumerate(line.rstrip("\r\n").split(",")) if i != at) + "\r\n" for line in lines]
    return edit


def _csv_text(folder: Path) -> str:
    with zipfile.ZipFile(folder / "recon" / "11142026.zip") as archive:
        return archive.read(archive.namelist()[0]).decode("utf-8")


BAD_FILES = {
    "orders not JSON": ("orders/2026-10.json", lambda f: (f / "orders/2026-10.json").write_text("{not json"), "not JSON"),
    "orders without list.elements.order": (
        "orders/2026-11.json", lambda f: (f / "orders/2026-11.json").write_text('{"list": {"meta": {}}}'),
        "list.elements.order"),
    "order without purchaseOrderId": ("orders/2026-10.json", lambda f: _json_edit(f / "orders/2026-10.json", _first_order),
                                      "purchaseOrderId is missing"),
    "stray file among the orders": ("orders/notes.txt", lambda f: (f / "orders/notes.txt").write_text("hi"), "unexpected here"),
    "returns without returnOrders": ("returns/returns.json",
                                     lambda f: (f / "returns/returns.json").write_text('{"meta": {}, "elements": []}'),
                                     "returnOrders"),
    "return of an order not recorded": (
        "returns/returns.json",
        lambda f: _json_edit(f / "returns/returns.json", lambda b: {**b, "returnOrders": [
            {**b["returnOrders"][0], "returnOrderLines": [{**b["returnOrders"][0]["returnOrderLines"][0],
                                                           "purchaseOrderId": "1111111111111"}]}]}),
        "which no orders/*.json file holds"),
    "report without a v1 column": ("recon/10312026.csv", lambda f: _rewrite_csv(f / "recon/10312026.csv", _drop_column("Amount Type")),
                                   "the header lacks Amount Type"),
    "report without PaymentSummary": ("recon/10312026.csv",
                                      lambda f: _rewrite_csv(f / "recon/10312026.csv", lambda ls: [ls[0], *ls[2:]]),
                                      "no PaymentSummary row"),
    "report with an amount that is not one": (
        "recon/10312026.csv", lambda f: _rewrite_csv(f / "recon/10312026.csv", _replace_on(3, "-14.00", "-14.0x")),
        "line 3: Amount '-14.0x' is not an amount"),
    "report named without its date": ("recon/october.csv", lambda f: (f / "recon/10312026.csv").rename(f / "recon/october.csv"),
                                      "cannot tell the report date"),
    "zip without a CSV": ("recon/11142026.zip", lambda f: _zip(f / "recon/11142026.zip", {"report.txt": "x"}),
                          "holds exactly one .csv file"),
    "zip that is not a zip": ("recon/11142026.zip", lambda f: (f / "recon/11142026.zip").write_text("PK?"), "not a zip file"),
    "zip named and holding no date": (
        "recon/10001234567_report.zip",
        lambda f: (_zip(f / "recon/10001234567_report.zip", {"10001234567_report.csv": _csv_text(f)}),
                   (f / "recon/11142026.zip").unlink()),
        "neither the zip's name nor the CSV inside it"),
    "two files for one report": ("recon/11142026.zip", lambda f: (f / "recon/11142026.csv").write_text(_csv_text(f)),
                                 "report 11142026 is also"),
    "report paying an order not recorded": (
        "recon/10312026.csv",
        lambda f: _rewrite_csv(f / "recon/10312026.csv", _replace_on(4, "7478303338854", "1234512345123")),
        "line 4: purchase order 1234512345123 is not in any orders/*.json file"),
    "items without ItemResponse": ("items.json", lambda f: (f / "items.json").write_text('{"items": []}'), "ItemResponse"),
    "inventory without elements.inventories": ("inventory.json", lambda f: (f / "inventory.json").write_text('{"elements": {}}'),
                                               "elements.inventories"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_each_kind_of_bad_file_fails_naming_its_path_and_what_is_wrong(tmp_path, case):
    name, break_it, problem = BAD_FILES[case]
    folder = tmp_path / "seller_data"
    shutil.copytree(EXAMPLE, folder)
    break_it(folder)
    with pytest.raises(RecordedDataError) as raised:
        RecordedSeller.from_folder(folder, today=TODAY)
    assert raised.value.path == str(folder / name)
    assert problem in raised.value.problem, raised.value.problem
    assert str(raised.value).startswith(f"{folder / name}: ")


def test_a_folder_longer_than_the_order_window_is_refused(tmp_path):
    folder = tmp_path / "seller_data"
    shutil.copytree(EXAMPLE, folder)
    early = 200 * 86_400_000

    def older(body):
        body["list"]["elements"]["order"][-1]["orderDate"] -= early
        return body

    _json_edit(folder / "orders/2026-10.json", older)
    with pytest.raises(RecordedDataError, match="more than Walmart's 180-day order window holds") as raised:
        RecordedSeller.from_folder(folder, today=TODAY)
    assert raised.value.path == str(folder)


def test_sandbox_serve_refuses_a_bad_folder_before_serving(tmp_path):
    folder = tmp_path / "seller_data"
    shutil.copytree(EXAMPLE, folder)
    (folder / "returns/returns.json").write_text("[]")
    result = CliRunner().invoke(cli, ["sandbox", "serve", "--port", "0", "--seller-data", str(folder)])
    assert result.exit_code == 2
    assert f"{folder / 'returns/returns.json'}: not a GET /v3/returns response body" in result.output


def test_zip_as_walmart_delivers_it_takes_the_report_date_from_its_csv(tmp_path):
    folder = tmp_path / "seller_data"
    shutil.copytree(EXAMPLE, folder)
    text = _csv_text(folder)
    (folder / "recon/11142026.zip").unlink()
    _zip(folder / "recon/10001234567_2026-11-22T03:04:05.678+0000.zip", {"11142026.csv": text})
    seller = RecordedSeller.from_folder(folder, today=TODAY)
    assert [s.report_date for s in seller.settlements] == REPORTS
    assert io.StringIO(text).readline().startswith("Period Start Date,Period End Date,Total Payable")
