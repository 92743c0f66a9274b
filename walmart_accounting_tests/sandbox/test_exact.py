"""The Exact Online emulator over real HTTP: OAuth, OData, entries, limits and signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from walmart_accounting.sandbox.exact import build_exact_app
from walmart_accounting.sandbox.server import SandboxOptions, ThreadedServer

REDIRECT = "https://app.example.com/exact/callback"
JSON = {"Accept": "application/json"}


class Exact:
    """A running emulator, with a logged-in session and shortcuts for the tests."""

    def __init__(self, options: SandboxOptions, server: ThreadedServer, app):
        self.options = options
        self.server = server
        self.state = app.state.exact
        self.base = server.url
        self.http = requests.Session()
        self.http.headers.update(JSON)
        self.token: dict | None = None
        self.division: int | None = None

    @property
    def creds(self):
        return self.options.credentials

    def authorize(self, state: str = "xyz") -> str:
        response = requests.get(f"{self.base}/api/oauth2/auth", allow_redirects=False, params={
            "client_id": self.creds.exact_client_id, "redirect_uri": REDIRECT, "response_type": "code",
            "state": state, "force_login": "0"})
        assert response.status_code == 302
        location = urlsplit(response.headers["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
        query = parse_qs(location.query)
        assert query["state"] == [state]
        return query["code"][0]

    def exchange(self, code: str) -> requests.Response:
        return requests.post(f"{self.base}/api/oauth2/token", data={
            "grant_type": "authorization_code", "client_id": self.creds.exact_client_id,
            "client_secret": self.creds.exact_client_secret, "code": code, "redirect_uri": REDIRECT})

    def refresh(self, refresh_token: str) -> requests.Response:
        return requests.post(f"{self.base}/api/oauth2/token", data={
            "grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": self.creds.exact_client_id, "client_secret": self.creds.exact_client_secret})

    def login(self) -> "Exact":
        response = self.exchange(self.authorize())
        assert response.status_code == 200, response.text
        self.use(response.json())
        me = self.get("/api/v1/current/Me", params={"$select": "CurrentDivision"})
        self.division = me.json()["d"]["results"][0]["CurrentDivision"]
        return self

    def use(self, token: dict) -> None:
        self.token = token
        self.http.headers["Authorization"] = f"Bearer {token['access_token']}"

    def url(self, resource: str) -> str:
        return f"{self.base}/api/v1/{self.division}/{resource}"

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(path if path.startswith("http") else f"{self.base}{path}", **kwargs)

    def list(self, resource: str, **params) -> requests.Response:
        return self.http.get(self.url(resource), params=params)

    def post(self, resource: str, body: dict) -> requests.Response:
        return self.http.post(self.url(resource), data=json.dumps(body),
                              headers={"Content-Type": "application/json"})

    def rows(self, resource: str, **params) -> list[dict]:
        response = self.list(resource, **params)
        assert response.status_code == 200, response.text
        return decimal_json(response)["d"]["results"]

    def gl(self, code: str) -> str:
        return self.rows("financial/GLAccounts", **{"$filter": f"Code eq '{code}'", "$select": "ID"})[0]["ID"]

    def customer(self, name: str = "Walmart Marketplace Customers") -> str:
        response = self.post("crm/Accounts", {"Name": name, "Status": "C"})
        assert response.status_code == 201, response.text
        return response.json()["d"]["ID"]


def decimal_json(response: requests.Response):
    return json.loads(response.content, parse_float=Decimal)


def assert_error(response: requests.Response, status: int, needle: str = "") -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == "" and body["error"]["message"]["lang"] == ""
    message = body["error"]["message"]["value"]
    assert needle in message, message
    return message


@pytest.fixture
def exact():
    options = SandboxOptions()
    app = build_exact_app(options)
    with ThreadedServer(app) as server:
        yield Exact(options, server, app)


@pytest.fixture
def api(exact):
    return exact.login()


# --- OAuth ---------------------------------------------------------------------------------------


def test_code_flow_issues_tokens_and_the_code_works_once(exact):
    code = exact.authorize()
    response = exact.exchange(code)
    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == "600"  # a string, as Exact sends it
    assert token["access_token"] and token["refresh_token"]

    again = exact.exchange(code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"

    bad = requests.post(f"{exact.base}/api/oauth2/token", data={
        "grant_type": "authorization_code", "client_id": exact.creds.exact_client_id,
        "client_secret": "wrong", "code": exact.authorize(), "redirect_uri": REDIRECT})
    assert bad.status_code == 400 and bad.json() == {"error": "invalid_client"}

    unknown = requests.get(f"{exact.base}/api/oauth2/auth", allow_redirects=False, params={
        "client_id": "nobody", "redirect_uri": REDIRECT, "response_type": "code"})
    assert unknown.status_code == 400 and "not found" in unknown.text


def test_code_expires_after_three_minutes(exact):
    code = exact.authorize()
    exact.options.clock.advance(181)
    assert exact.exchange(code).json()["error"] == "invalid_grant"


def test_refresh_before_570_seconds_is_rejected_then_allowed(exact):
    token = exact.exchange(exact.authorize()).json()
    early = exact.refresh(token["refresh_token"])
    assert early.status_code == 400
    assert early.headers["Reason"] == "TooEarlyToRefreshTokens"
    assert early.json() == {"error": "access_denied",
                            "error_description": "Rate limit exceeded: access_token not expired"}

    exact.options.clock.advance(569)
    assert exact.refresh(token["refresh_token"]).status_code == 400
    exact.options.clock.advance(1)
    later = exact.refresh(token["refresh_token"])
    assert later.status_code == 200, later.text
    assert later.json()["refresh_token"] != token["refresh_token"]


def test_rotated_refresh_token_cannot_be_used_again(exact):
    first = exact.exchange(exact.authorize()).json()
    exact.options.clock.advance(570)
    second = exact.refresh(first["refresh_token"])
    assert second.status_code == 200
    exact.options.clock.advance(570)
    reused = exact.refresh(first["refresh_token"])
    assert reused.status_code == 401
    assert reused.json() == {"error": "unauthorized_client", "error_description": "Old refresh token used."}
    assert exact.refresh(second.json()["refresh_token"]).status_code == 200


def test_one_access_token_per_client_and_ten_minute_lifetime(api):
    old = api.token
    api.options.clock.advance(570)
    new = api.refresh(old["refresh_token"]).json()
    assert api.list("crm/Accounts").status_code == 401  # the old access token was revoked
    api.use(new)
    assert api.list("crm/Accounts").status_code == 200
    api.options.clock.advance(600)
    expired = api.list("crm/Accounts")
    assert expired.status_code == 401
    assert_error(expired, 401)


# --- Me and divisions ----------------------------------------------------------------------------


def test_me_returns_the_current_division_and_other_divisions_are_forbidden(api):
    me = api.get("/api/v1/current/Me", params={"$select": "CurrentDivision"})
    assert me.status_code == 200
    row = me.json()["d"]["results"][0]
    assert set(row) == {"__metadata", "CurrentDivision"}
    assert row["CurrentDivision"] == api.state.division
    full = api.get("/api/v1/current/Me").json()["d"]["results"][0]
    assert full["UserID"] and full["FullName"]

    api.state.add_division(api.division + 1, accessible=False)
    forbidden = api.http.get(f"{api.base}/api/v1/{api.division + 1}/crm/Accounts")
    assert_error(forbidden, 403)
    assert forbidden.headers["Reason"] == "NoDivisionAccess"
    divisions = api.rows("system/Divisions")
    assert [d["Code"] for d in divisions] == [api.division]


def test_json_only_when_asked_for(api):
    response = requests.get(api.url("crm/Accounts"), headers={"Authorization": api.http.headers["Authorization"]})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")


# --- OData ---------------------------------------------------------------------------------------


def test_filter_with_quotes_and_operator_words_matches_exactly(api):
    names = ["O'Brien", "OBrien", "O'Brien Ltd", "Smith and Sons or Name ne 'x'", "Smith", "x"]
    for name in names:
        api.customer(name)

    def find(filter_: str) -> list[str]:
        return sorted(r["Name"] for r in api.rows("crm/Accounts", **{"$filter": filter_, "$select": "Name"}))

    assert find("Name eq 'O''Brien'") == ["O'Brien"]
    words = "Smith and Sons or Name ne 'x'"
    assert find("Name eq '" + words.replace("'", "''") + "'") == [words]
    # A value that tries to close the literal stays one literal and widens nothing.
    sneaky = "x' or Name ne 'x"
    assert find("Name eq '" + sneaky.replace("'", "''") + "'") == []
    assert find("substringof('O''Brien', Name) and not startswith(Name, 'OB')") == ["O'Brien", "O'Brien Ltd"]
    assert find("(Name eq 'x' or Name eq 'Smith') and Status eq 'C'") == ["Smith", "x"]

    # Unescaped: a malformed filter is a 400 in Exact's error shape, never a wider result.
    assert_error(api.list("crm/Accounts", **{"$filter": "Name eq 'O'Brien'"}), 400)
    assert_error(api.list("crm/Accounts", **{"$filter": "Name eq 'x"}), 400, "Unterminated string literal")
    assert_error(api.list("crm/Accounts", **{"$filter": "Nmae eq 'x'"}), 400, "No property 'Nmae'")
    assert_error(api.list("crm/Accounts", **{"$filter": "Name eq 5"}), 400, "incompatible")
    assert_error(api.list("crm/Accounts", **{"$bogus": "1"}), 400, "not recognized")


def test_filter_literals_guid_datetime_numbers_and_padded_codes(api):
    gl = api.gl("8000")
    rows = api.rows("financial/GLAccounts", **{"$filter": f"ID eq guid'{gl.upper()}'", "$select": "Code"})
    assert [r["Code"] for r in rows] == ["8000"]
    assert_error(api.list("financial/GLAccounts", **{"$filter": f"ID eq '{gl}'"}), 400, "incompatible")
    revenue = api.rows("financial/GLAccounts", **{"$filter": "Type eq 110 and Code ge '8000' and Code lt '8020'"})
    assert sorted(r["Code"] for r in revenue) == ["8000", "8010"]
    assert api.rows("financial/GLAccounts", **{"$filter": "Created ge datetime'2000-01-01'", "$top": "1"})
    assert not api.rows("financial/GLAccounts", **{"$filter": "Created ge datetime'2999-01-01T00:00:00'"})

    # VAT codes come back padded to three characters; an unpadded equality finds nothing.
    codes = api.rows("vat/VATCodes", **{"$select": "Code,Percentage"})
    assert sorted(c["Code"] for c in codes) == ["0  ", "PR "]
    assert {c["Code"]: c["Percentage"] for c in codes}["PR "] == Decimal("0.115")
    assert api.rows("vat/VATCodes", **{"$filter": "Code eq 'PR'"}) == []
    assert len(api.rows("vat/VATCodes", **{"$filter": "Code eq 'PR '"})) == 1
    assert len(api.rows("vat/VATCodes", **{"$filter": "trim(Code) eq 'PR'"})) == 1


def test_account_codes_are_right_aligned_to_18_characters(api):
    response = api.post("crm/Accounts", {"Name": "Acme", "Code": "25", "Status": "C"})
    assert response.status_code == 201
    assert response.json()["d"]["Code"] == " " * 16 + "25"
    assert api.rows("crm/Accounts", **{"$filter": "Code eq '25'"}) == []
    assert len(api.rows("crm/Accounts", **{"$filter": f"Code eq '{'25':>18}'"})) == 1
    assert_error(api.post("crm/Accounts", {"Name": "Again", "Code": "25"}), 400, "already exists")


def test_paging_returns_60_rows_per_page_with_absolute_next_links(api):
    for n in range(150):  # seeded without HTTP: 150 POSTs would exceed the 60 calls a minute
        api.state.create("crm/Accounts", {"Name": f"Customer {n:03d}", "Status": "C"})
    sizes, seen = [], []
    url = api.url("crm/Accounts") + "?$select=ID,Name"
    while url:
        assert url.startswith(api.base + "/api/v1/")
        page = api.get(url)
        assert page.status_code == 200
        d = page.json()["d"]
        sizes.append(len(d["results"]))
        seen += [r["ID"] for r in d["results"]]
        url = d.get("__next")
    assert sizes == [60, 60, 30]
    assert len(set(seen)) == 150

    top = api.list("crm/Accounts", **{"$top": "100", "$orderby": "Name desc", "$select": "Name"}).json()["d"]
    assert len(top["results"]) == 60 and top["results"][0]["Name"] == "Customer 149"
    rest = api.get(top["__next"]).json()["d"]
    assert len(rest["results"]) == 40 and "__next" not in rest
    assert rest["results"][-1]["Name"] == "Customer 050"
    count = api.http.get(api.url("crm/Accounts/$count"), params={"$filter": "startswith(Name, 'Customer 1')"})
    assert count.text == "50"


def test_select_returns_only_the_selected_fields_and_metadata(api):
    api.customer("Selective")
    row = api.rows("crm/Accounts", **{"$select": "Name,Code"})[0]
    assert set(row) == {"__metadata", "Name", "Code"}
    assert row["__metadata"]["uri"].startswith(api.url("crm/Accounts(guid'"))
    assert_error(api.list("crm/Accounts", **{"$select": "Name,Nope"}), 400, "No property 'Nope'")


# --- entries -------------------------------------------------------------------------------------


def sales_entry(api: Exact, customer: str, your_ref: str, **overrides) -> dict:
    body = {
        "Customer": customer, "Journal": "70", "EntryDate": "2026-09-14T00:00:00Z", "YourRef": your_ref,
        "Description": f"Walmart order {your_ref}",
        "SalesEntryLines": [
            {"GLAccount": api.gl("8000"), "AmountFC": "24.99", "VATCode": "0", "CostCenter": "WM",
             "Description": "Water bottle"},
            {"GLAccount": api.gl("8010"), "AmountFC": "5.00", "VATCode": "PR", "Description": "Shipping"},
        ],
    }
    body.update(overrides)
    return body


def test_sales_entry_with_lines_is_created_and_found_by_your_ref(api):
    customer = api.customer()
    response = api.post("salesentry/SalesEntries", sales_entry(api, customer, "WM-1234567890", AmountFC="30.57"))
    assert response.status_code == 201, response.text
    entry = decimal_json(response)["d"]
    assert entry["AmountFC"] == Decimal("30.57")  # 24.99 + 5.00 + 0.58 PR tax (11.5 % of 5.00, rounded)
    assert entry["VATAmountFC"] == Decimal("0.58")
    assert entry["Type"] == 20 and entry["Status"] == 20 and entry["Journal"] == "70"
    assert re.fullmatch(r"/Date\(\d+\)/", entry["EntryDate"])
    assert str(entry["EntryNumber"]).startswith("2670")
    lines = entry["SalesEntryLines"]["results"]
    assert [ln["VATCode"] for ln in lines] == ["0  ", "PR "]
    assert b'"AmountFC":24.99' in response.content  # a JSON number with the exact digits

    found = api.rows("salesentry/SalesEntries", **{"$filter": "YourRef eq 'WM-1234567890'", "$select": "EntryID"})
    assert [r["EntryID"] for r in found] == [entry["EntryID"]]
    assert api.state.count_by_your_ref("SalesEntries", "WM-1234567890") == 1

    listed = api.rows("salesentry/SalesEntries")[0]
    assert "__deferred" in listed["SalesEntryLines"]
    deferred = api.get(listed["SalesEntryLines"]["__deferred"]["uri"]).json()["d"]["results"]
    assert len(deferred) == 2
    expanded = api.rows("salesentry/SalesEntries", **{"$expand": "SalesEntryLines",
                                                       "$select": "EntryID,SalesEntryLines/AmountFC"})[0]
    assert [set(ln) for ln in expanded["SalesEntryLines"]["results"]] == [{"__metadata", "AmountFC"}] * 2
    single = api.get(api.url(f"salesentry/SalesEntries(guid'{entry['EntryID']}')")).json()["d"]
    assert single["YourRef"] == "WM-1234567890"


def test_sales_entry_validation_errors(api):
    customer = api.customer()
    bad_gl = sales_entry(api, customer, "WM-1")
    bad_gl["SalesEntryLines"][0]["GLAccount"] = "00000000-0000-0000-0000-000000000001"
    assert_error(api.post("salesentry/SalesEntries", bad_gl), 400, "does not exist")

    debtors = sales_entry(api, customer, "WM-2")
    debtors["SalesEntryLines"][0]["GLAccount"] = api.gl("1300")
    assert_error(api.post("salesentry/SalesEntries", debtors), 400, "G/L account type")

    bad_vat = sales_entry(api, customer, "WM-3")
    bad_vat["SalesEntryLines"][0]["VATCode"] = "ZZ"
    assert_error(api.post("salesentry/SalesEntries", bad_vat), 400, "VAT code")

    wrong_name = sales_entry(api, customer, "WM-4")
    wrong_name["SalesEntryLines"][0]["SalesVatCode"] = "0"
    assert_error(api.post("salesentry/SalesEntries", wrong_name), 400, "The property name 'SalesVatCode'")

    assert_error(api.post("salesentry/SalesEntries", sales_entry(api, customer, "WM-5", Journal="20")), 400,
                 "not a sales journal")
    assert_error(api.post("salesentry/SalesEntries", sales_entry(api, customer, "WM-6", AmountFC="30.00")), 400,
                 "AmountFC")
    assert_error(api.post("salesentry/SalesEntries", sales_entry(api, customer, "WM-7", Type=21)), 400,
                 "negative")
    assert_error(api.post("salesentry/SalesEntries", sales_entry(api, customer, "WM-8", EntryDate=None)), 400,
                 "EntryDate")
    assert api.state.sales_entries == []


def test_credit_note_with_negative_amounts(api):
    customer = api.customer()
    body = sales_entry(api, customer, "WM-RET-1", Type=21)
    for line in body["SalesEntryLines"]:
        line["AmountFC"] = "-" + line["AmountFC"]
    response = api.post("salesentry/SalesEntries", body)
    assert response.status_code == 201, response.text
    assert decimal_json(response)["d"]["AmountFC"] == Decimal("-30.57")


def test_bank_entries_pay_the_receivable_and_clear_to_the_bank(api):
    customer = api.customer()
    entry = api.post("salesentry/SalesEntries", sales_entry(api, customer, "WM-77")).json()["d"]
    payment = api.post("financialtransaction/BankEntries", {
        "JournalCode": "21", "BankEntryLines": [
            {"GLAccount": api.gl("1300"), "Account": customer, "AmountFC": "30.57", "OurRef": entry["InvoiceNumber"],
             "Date": "2026-09-20", "Description": "WM-SET-2026-09-20-1"}]})
    assert payment.status_code == 201, payment.text
    assert decimal_json(payment)["d"]["ClosingBalanceFC"] == Decimal("30.57")
    transfer = api.post("financialtransaction/BankEntries", {
        "JournalCode": "21", "OpeningBalanceFC": "30.57", "ClosingBalanceFC": "0.00", "BankEntryLines": [
            {"GLAccount": api.gl("1100"), "AmountFC": "-30.57", "Date": "2026-09-21",
             "Description": "WM-SET-2026-09-20-1 payout"}]})
    assert transfer.status_code == 201, transfer.text
    balances = api.state.trial_balance()
    assert balances["1250"] == 0 and balances["1300"] == 0
    assert balances["1100"] == Decimal("30.57")
    assert balances["8000"] == Decimal("-24.99") and balances["1500"] == Decimal("-0.58")
    assert api.state.count_by_your_ref("BankEntries", "WM-SET-2026-09-20-1") == 1

    assert_error(api.post("financialtransaction/BankEntries", {
        "JournalCode": "21", "OpeningBalanceFC": "0", "ClosingBalanceFC": "5", "BankEntryLines": [
            {"GLAccount": api.gl("1100"), "AmountFC": "1"}]}), 400, "closing balance")
    assert_error(api.post("financialtransaction/BankEntries", {
        "JournalCode": "70", "BankEntryLines": [{"GLAccount": api.gl("1100"), "AmountFC": "1"}]}), 400,
        "not a bank journal")


def test_stock_count_sets_item_warehouse_stock(api):
    item = api.rows("logistics/Items", **{"$filter": "Code eq 'WM-SKU-0001'", "$select": "ID,Code"})[0]
    warehouse = api.rows("inventory/Warehouses", **{"$select": "ID"})[0]["ID"]
    count = api.post("inventory/StockCounts", {
        "StockCountDate": "2026-10-05", "Warehouse": warehouse, "Description": "Walmart snapshot",
        "StockCountLines": [{"Item": item["ID"], "QuantityNew": 17}]})
    assert count.status_code == 201, count.text
    count_id = count.json()["d"]["StockCountID"]
    assert api.state.stock("WM-SKU-0001") == 0  # a draft count changes nothing
    processed = api.post("inventory/ProcessStockCount", {"StockCountID": count_id})
    assert processed.status_code == 201 and processed.json()["d"]["ErrorMessage"] is None
    stock = api.rows("inventory/ItemWarehouses", **{"$filter": f"Item eq guid'{item['ID']}'"})
    assert [decimal_json_value(s["CurrentStock"]) for s in stock] == [Decimal("17")]


def decimal_json_value(value) -> Decimal:
    return Decimal(str(value))


def item_id(api: Exact, code: str) -> str:
    return api.rows("logistics/Items", **{"$filter": f"Code eq '{code}'", "$select": "ID"})[0]["ID"]


def test_a_stock_count_in_a_second_warehouse_changes_only_that_warehouse(api):
    main = api.rows("inventory/Warehouses", **{"$filter": "Main eq 1"})
    assert [(w["Code"], w["Main"]) for w in main] == [("1", 1)]
    created = api.post("inventory/Warehouses", {"Code": "RENO", "Description": "Reno NV"})
    assert created.status_code == 201, created.text
    reno = created.json()["d"]
    assert reno["Main"] == 0 and reno["Code"] == "RENO"
    assert_error(api.post("inventory/Warehouses", {"Code": "RENO", "Description": "Again"}), 400, "already exists")
    assert_error(api.http.delete(api.url(f"inventory/Warehouses(guid'{main[0]['ID']}')")), 400, "main warehouse")

    item = item_id(api, "WM-SKU-0001")
    assert api.state.set_stock("WM-SKU-0001", 5) == 5  # the test hook: the main warehouse
    count = api.post("inventory/StockCounts", {
        "StockCountDate": "2026-10-05", "Warehouse": reno["ID"], "Description": "Reno snapshot",
        "StockCountLines": [{"Item": item, "QuantityNew": 17}]})
    assert count.status_code == 201, count.text
    assert decimal_json(count)["d"]["StockCountLines"]["results"][0]["QuantityInStock"] == 0  # Reno held none
    processed = api.post("inventory/ProcessStockCount", {"StockCountID": count.json()["d"]["StockCountID"]})
    assert processed.status_code == 201 and processed.json()["d"]["ErrorMessage"] is None

    in_reno = api.rows("inventory/ItemWarehouses", **{
        "$filter": f"Item eq guid'{item}' and Warehouse eq guid'{reno['ID']}'"})
    assert [(r["WarehouseCode"], r["CurrentStock"]) for r in in_reno] == [("RENO", 17)]
    by_code = api.rows("inventory/ItemWarehouses", **{"$filter": "ItemCode eq 'WM-SKU-0001'",
                                                      "$orderby": "WarehouseCode", "$select": "WarehouseCode,CurrentStock"})
    assert [(r["WarehouseCode"], r["CurrentStock"]) for r in by_code] == [("1", 5), ("RENO", 17)]
    assert api.rows("logistics/Items", **{"$filter": f"ID eq guid'{item}'", "$select": "Stock"})[0]["Stock"] == 22
    assert api.state.stock("WM-SKU-0001", warehouse="RENO") == 17
    assert api.state.stock("WM-SKU-0001", warehouse="1") == 5

    difference = api.post("inventory/StockCounts", {
        "StockCountDate": "2026-10-06", "Warehouse": reno["ID"], "Status": 21,
        "StockCountLines": [{"Item": item, "QuantityDifference": -2}]})
    assert difference.status_code == 201, difference.text
    assert (api.state.stock("WM-SKU-0001", warehouse="RENO"), api.state.stock("WM-SKU-0001")) == (15, 20)
    assert_error(api.http.delete(api.url(f"inventory/Warehouses(guid'{reno['ID']}')")), 400, "used")
    other = api.state.add_division(api.division + 7, accessible=True).code
    assert [(w["Code"], w["Main"]) for w in api.state.records("inventory/Warehouses", other)] == [("1", 1)]


def sales_order(api: Exact, customer: str, your_ref: str, *lines: tuple[str, int], **overrides) -> dict:
    body = {"OrderedBy": customer, "OrderDate": "2026-10-01T00:00:00Z", "DeliveryDate": "2026-10-03T00:00:00Z",
            "YourRef": your_ref, "Description": f"Walmart order {your_ref}",
            "SalesOrderLines": [{"Item": item_id(api, code), "Quantity": quantity} for code, quantity in lines]}
    body.update(overrides)
    return body


def test_sales_order_with_its_lines_is_found_by_your_ref_and_plans_stock_out(api):
    customer = api.customer()
    assert_error(api.post("salesorder/SalesOrders", sales_order(api, customer, "WM-PO-0")), 400, "SalesOrderLines")
    response = api.post("salesorder/SalesOrders", sales_order(api, customer, "WM-PO-1", ("WM-SKU-0001", 3),
                                                               ("WM-SKU-0002", 1)))
    assert response.status_code == 201, response.text
    order = decimal_json(response)["d"]
    assert (order["OrderNumber"], order["Status"], order["StatusDescription"]) == (1, 12, "Open")
    assert (order["DeliveryStatus"], order["DeliverTo"], order["InvoiceTo"]) == (12, customer, customer)
    assert order["AmountFC"] == Decimal("104.96")  # 3 x 24.99 + 29.99, VAT code 0
    assert order["WarehouseID"] == api.rows("inventory/Warehouses", **{"$filter": "Main eq 1"})[0]["ID"]
    lines = order["SalesOrderLines"]["results"]
    assert [(ln["LineNumber"], ln["ItemCode"], ln["Quantity"], ln["QuantityDelivered"]) for ln in lines] == [
        (1, "WM-SKU-0001", 3, 0), (2, "WM-SKU-0002", 1, 0)]
    assert all(ln["OrderID"] == order["OrderID"] and ln["OrderNumber"] == 1 for ln in lines)

    found = api.rows("salesorder/SalesOrders", **{"$filter": "YourRef eq 'WM-PO-1'", "$select": "OrderID"})
    assert [r["OrderID"] for r in found] == [order["OrderID"]]
    assert api.state.count_by_your_ref("SalesOrders", "WM-PO-1") == 1
    second = api.post("salesorder/SalesOrders", sales_order(api, customer, "WM-PO-2", ("WM-SKU-0001", 1)))
    assert second.json()["d"]["OrderNumber"] == 2
    planned = api.rows("inventory/ItemWarehouses", **{"$filter": "ItemCode eq 'WM-SKU-0001'"})
    assert [(r["CurrentStock"], r["PlannedStockOut"], r["ProjectedStock"]) for r in planned] == [(0, 4, -4)]

    url = api.url(f"salesorder/SalesOrders(guid'{order['OrderID']}')")
    other = api.customer("Someone else")
    assert_error(api.http.put(url, data=json.dumps({"DeliverTo": other})), 400, "cannot be changed")
    assert api.http.put(url, data=json.dumps({"Description": "Renamed", "Status": 21})).status_code == 204
    again = api.get(url).json()["d"]
    assert again["Description"] == "Renamed" and again["Status"] == 12  # Status is read-only (picqer#462)


def test_goods_deliveries_deliver_part_then_all_of_an_order_out_of_its_warehouse(api):
    events = []
    emit = api.state._emit
    api.state._emit = lambda division, topic, action, key, endpoint: (events.append((topic, action, key)),
                                                                      emit(division, topic, action, key, endpoint))
    api.state.set_stock("WM-SKU-0001", 10)
    api.state.set_stock("WM-SKU-0002", 5)
    customer = api.customer()
    order = api.post("salesorder/SalesOrders", sales_order(api, customer, "WM-PO-7", ("WM-SKU-0001", 3),
                                                           ("WM-SKU-0002", 2))).json()["d"]
    first_line, second_line = (ln["ID"] for ln in order["SalesOrderLines"]["results"])
    ups = api.rows("sales/ShippingMethods", **{"$filter": "Code eq 'UPS'", "$select": "ID"})[0]["ID"]

    events.clear()
    part = api.post("salesorder/GoodsDeliveries", {
        "DeliveryDate": "2026-10-03T00:00:00Z", "TrackingNumber": "1Z999AA10123456784", "ShippingMethod": ups,
        "Description": "WM-PO-7 shipment 1", "GoodsDeliveryLines": [{"SalesOrderLineID": first_line,
                                                                    "QuantityDelivered": 2}]})
    assert part.status_code == 201, part.text
    delivery = decimal_json(part)["d"]
    assert (delivery["DeliveryNumber"], delivery["DeliveryAccount"], delivery["WarehouseCode"]) == (1, customer, "1")
    assert (delivery["TrackingNumber"], delivery["ShippingMethodCode"]) == ("1Z999AA10123456784", "UPS")
    [line] = delivery["GoodsDeliveryLines"]["results"]
    assert (line["SalesOrderLineID"], line["ItemCode"], line["QuantityDelivered"], line["QuantityOrdered"]) == (
        first_line, "WM-SKU-0001", 2, 3)
    assert line["SalesOrderNumber"] == order["OrderNumber"] and line["EntryID"] == delivery["EntryID"]
    url = api.url(f"salesorder/SalesOrders(guid'{order['OrderID']}')")
    after = api.get(url, params={"$expand": "SalesOrderLines"}).json()["d"]
    assert (after["Status"], after["DeliveryStatus"]) == (20, 20)
    assert [ln["QuantityDelivered"] for ln in after["SalesOrderLines"]["results"]] == [2, 0]
    assert (api.state.stock("WM-SKU-0001"), api.state.stock("WM-SKU-0002")) == (8, 5)
    item = item_id(api, "WM-SKU-0001")
    assert ("GoodsDeliveries", "Create", delivery["EntryID"]) in events
    assert ("SalesOrders", "Update", order["OrderID"]) in events and ("StockPositions", "Update", item) in events

    too_much = {"GoodsDeliveryLines": [{"SalesOrderLineID": first_line, "QuantityDelivered": 2}]}
    assert_error(api.post("salesorder/GoodsDeliveries", too_much), 400, "more than the 1 still to be delivered")
    split = {"GoodsDeliveryLines": [{"SalesOrderLineID": first_line, "QuantityDelivered": 1},
                                    {"SalesOrderLineID": first_line, "QuantityDelivered": 1}]}
    assert_error(api.post("salesorder/GoodsDeliveries", split), 400, "more than")
    assert_error(api.post("salesorder/GoodsDeliveries", {"GoodsDeliveryLines": [
        {"SalesOrderLineID": second_line, "QuantityDelivered": 0}]}), 400, "positive")
    assert api.state.stock("WM-SKU-0001") == 8 and len(api.state.goods_deliveries) == 1

    rest = api.post("salesorder/GoodsDeliveries", {
        "DeliveryDate": "2026-10-05T00:00:00Z", "TrackingNumber": "9400111899223197428490",
        "GoodsDeliveryLines": [{"SalesOrderLineID": first_line, "QuantityDelivered": 1},
                               {"SalesOrderLineID": second_line, "QuantityDelivered": 2}]})
    assert rest.status_code == 201, rest.text
    done = api.get(url).json()["d"]
    # Everything is delivered, nothing invoiced: the order is only Complete once invoiced too (picqer#462).
    assert (done["DeliveryStatus"], done["DeliveryStatusDescription"], done["Status"]) == (21, "Complete", 20)
    assert api.state.invoice_sales_order(order["OrderID"])["Status"] == 21
    assert (api.state.stock("WM-SKU-0001"), api.state.stock("WM-SKU-0002")) == (7, 3)
    planned = api.rows("inventory/ItemWarehouses", **{"$filter": f"Item eq guid'{item}'"})
    assert [(r["CurrentStock"], r["PlannedStockOut"]) for r in planned] == [(7, 0)]
    assert_error(api.post("salesorder/GoodsDeliveries", {"GoodsDeliveryLines": [
        {"SalesOrderLineID": second_line, "QuantityDelivered": 1}]}), 400, "more than the 0")

    listed = api.rows("salesorder/GoodsDeliveries", **{
        "$filter": "DeliveryDate ge datetime'2026-10-04'", "$expand": "GoodsDeliveryLines",
        "$select": "EntryID,TrackingNumber,GoodsDeliveryLines/QuantityDelivered"})
    assert [(d["TrackingNumber"], [ln["QuantityDelivered"] for ln in d["GoodsDeliveryLines"]["results"]])
            for d in listed] == [("9400111899223197428490", [1, 2])]
    since = api.rows("salesorder/GoodsDeliveries", **{"$filter": "Modified ge datetime'2020-01-01'",
                                                      "$select": "DeliveryNumber", "$orderby": "DeliveryNumber"})
    assert [d["DeliveryNumber"] for d in since] == [1, 2]
    for_line = api.rows("salesorder/GoodsDeliveryLines", **{"$filter": f"SalesOrderLineID eq guid'{first_line}'"})
    assert sorted(ln["QuantityDelivered"] for ln in for_line) == [1, 2]
    assert api.post("salesorder/GoodsDeliveryLines", {"SalesOrderLineID": first_line,
                                                      "QuantityDelivered": 1}).status_code == 405
    assert api.http.delete(api.url(f"salesorder/GoodsDeliveries(guid'{delivery['EntryID']}')")).status_code == 405
    assert_error(api.post("webhooks/WebhookSubscriptions", {"CallbackURL": "https://app.example.com/hook",
                                                            "Topic": "SalesOrders", "IsInstant": True}), 400, "IsInstant")


# --- limits --------------------------------------------------------------------------------------


def test_minutely_rate_limit_answers_429_with_only_the_minutely_headers(api):
    api.state.minutely.limit = 3
    for remaining in (2, 1, 0):
        ok = api.list("crm/Accounts")
        assert ok.status_code == 200
        assert ok.headers["X-RateLimit-Minutely-Remaining"] == str(remaining)
        assert ok.headers["X-RateLimit-Minutely-Limit"] == "3"
        assert ok.headers["X-RateLimit-Limit"] == "5000"
        assert int(ok.headers["X-RateLimit-Reset"]) > int(ok.headers["X-RateLimit-Minutely-Reset"]) > 10**12
    limited = api.list("crm/Accounts")
    assert_error(limited, 429)
    assert limited.headers["X-RateLimit-Minutely-Remaining"] == "0"
    assert "X-RateLimit-Remaining" not in limited.headers
    reset_ms = int(limited.headers["X-RateLimit-Minutely-Reset"])
    api.options.clock.advance(reset_ms / 1000 - api.options.clock.now() + 0.01)
    assert api.list("crm/Accounts").status_code == 200


def test_daily_rate_limit_answers_429_with_only_the_daily_headers(api):
    api.state.daily_limit = 2
    assert api.list("crm/Accounts").status_code == 200
    assert api.list("crm/Accounts").headers["X-RateLimit-Remaining"] == "0"
    limited = api.list("crm/Accounts")
    assert_error(limited, 429)
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Minutely-Remaining" not in limited.headers


def test_more_than_ten_errors_an_hour_block_the_endpoint(api):
    missing = api.url("crm/Accounts(guid'00000000-0000-0000-0000-000000000001')")
    for _ in range(11):
        assert_error(api.get(missing), 404)
    assert_error(api.list("crm/Accounts"), 429, "Too many errors")
    assert api.list("financial/GLAccounts").status_code == 200  # other endpoints are not blocked
    api.options.clock.advance(3600)
    api.use(api.state.issue_tokens())  # the access token expired meanwhile
    assert api.list("crm/Accounts").status_code == 200


# --- webhooks ------------------------------------------------------------------------------------


class Receiver:
    def __init__(self):
        self.bodies: list[bytes] = []
        self.arrived = threading.Condition()

        async def hook(request):
            body = await request.body()
            with self.arrived:
                self.bodies.append(body)
                self.arrived.notify_all()
            return Response(status_code=200)

        self.app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])

    def wait(self, count: int) -> list[bytes]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.bodies) >= count, timeout=5)
            return list(self.bodies)


def test_webhook_is_validated_then_delivered_with_an_uppercase_hmac(api):
    receiver = Receiver()
    with ThreadedServer(receiver.app) as hook_server:
        callback = f"{hook_server.url}/hook"
        subscribed = api.post("webhooks/WebhookSubscriptions", {"CallbackURL": callback, "Topic": "Accounts"})
        assert subscribed.status_code == 201, subscribed.text
        assert receiver.wait(1)[0] == b""  # the empty validation POST

        account = api.customer("Webhook Customer")
        raw = receiver.wait(2)[1]
        match = re.fullmatch(rb'\{"Content":(.*),"HashCode":"([0-9A-F]{64})"\}', raw, re.S)
        assert match, raw
        secret = api.creds.exact_webhook_secret.encode()
        assert match.group(2).decode() == hmac.new(secret, match.group(1), hashlib.sha256).hexdigest().upper()
        assert match.group(2).decode() != hmac.new(b"wrong", match.group(1), hashlib.sha256).hexdigest().upper()
        content = json.loads(match.group(1))
        assert content["Topic"] == "Accounts" and content["Action"] == "Create" and content["Key"] == account
        assert content["Division"] == api.division
        fetched = api.get(content["ExactOnlineEndpoint"])
        assert fetched.status_code == 200 and fetched.json()["d"]["Name"] == "Webhook Customer"

        subscription = subscribed.json()["d"]["ID"]
        gone = api.http.delete(api.url(f"webhooks/WebhookSubscriptions(guid'{subscription}')"))
        assert gone.status_code == 204
        api.customer("After unsubscribing")
        assert len(api.state.wait_for_deliveries(2)) == 2
        assert len(receiver.bodies) == 2


def test_webhook_to_a_dead_receiver_does_not_break_the_api(api):
    api.options.webhook_timeout_s = 0.5
    dead = ThreadedServer(Starlette())  # a free port with nobody listening
    subscribed = api.post("webhooks/WebhookSubscriptions", {"CallbackURL": f"http://127.0.0.1:{dead.port}/x",
                                                            "Topic": "SalesEntries"})
    assert subscribed.status_code == 201
    assert_error(api.post("webhooks/WebhookSubscriptions", {"CallbackURL": "http://example.com/x",
                                                            "Topic": "SalesEntries"}), 400, "HTTPS")
    customer = api.customer()
    assert api.post("salesentry/SalesEntries", sales_entry(api, customer, "WM-9")).status_code == 201
    deliveries = api.state.wait_for_deliveries(2)
    assert [d["kind"] for d in deliveries] == ["validation", "event"]
    assert all(d["error"] for d in deliveries)


def test_links_keep_the_mount_prefix_the_sandbox_server_uses():
    from starlette.routing import Mount

    options = SandboxOptions()
    exact_app = build_exact_app(options)
    with ThreadedServer(Starlette(routes=[Mount("/exact", app=exact_app)])) as server:
        client = Exact(options, server, exact_app)
        client.base = f"{server.url}/exact"
        client.login()
        for n in range(61):
            client.state.create("crm/Accounts", {"Name": f"Mounted {n}"})
        d = client.list("crm/Accounts", **{"$select": "Name"}).json()["d"]
        assert d["results"][0]["__metadata"]["uri"].startswith(f"{server.url}/exact/api/v1/{client.division}/")
        assert d["__next"].startswith(f"{server.url}/exact/api/v1/{client.division}/crm/Accounts?")
        assert len(client.get(d["__next"]).json()["d"]["results"]) == 1
