"""The Xero emulator over real HTTP: OAuth, tenancy, limits, idempotency and the accounting rules clients rely on."""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from walmart_accounting.sandbox.server import SandboxOptions, SandboxServer, ThreadedServer
from walmart_accounting.sandbox.xero import QueryParseError, build_xero_app, compile_where

REDIRECT = "http://localhost:8765/callback"
SCOPES = "openid offline_access accounting.transactions accounting.contacts accounting.settings"


class XeroClient:
    """A minimal client: consent, token exchange, and JSON calls with the tenant header."""

    def __init__(self, url: str, options: SandboxOptions, state):
        self.url = url
        self.options = options
        self.state = state
        self.http = requests.Session()
        self.tokens: dict = {}

    @property
    def api(self) -> str:
        return f"{self.url}/api/api.xro/2.0"

    def authorize(self, scope: str = SCOPES, state: str = "xyz") -> str:
        response = self.http.get(
            f"{self.url}/login/identity/connect/authorize",
            params={"response_type": "code", "client_id": self.options.credentials.xero_client_id,
                    "redirect_uri": REDIRECT, "scope": scope, "state": state},
            allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text
        location = urlsplit(response.headers["Location"])
        params = parse_qs(location.query)
        assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
        assert params["state"] == [state]
        return params["code"][0]

    def token(self, form: dict, basic: bool = True, secret: str | None = None) -> requests.Response:
        creds = self.options.credentials
        auth = (creds.xero_client_id, secret or creds.xero_client_secret) if basic else None
        if not basic:
            form = {**form, "client_id": creds.xero_client_id, "client_secret": secret or creds.xero_client_secret}
        return self.http.post(f"{self.url}/identity/connect/token", data=form, auth=auth, timeout=10)

    def login(self) -> "XeroClient":
        code = self.authorize()
        response = self.token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
        assert response.status_code == 200, response.text
        self.tokens = response.json()
        return self

    def headers(self, tenant: bool = True, **extra) -> dict:
        headers = {"Authorization": f"Bearer {self.tokens['access_token']}", "Accept": "application/json"}
        if tenant:
            headers["xero-tenant-id"] = self.state.tenant_id
        headers.update(extra)
        return headers

    def call(self, method: str, path: str, body=None, params=None, headers=None, tenant=True) -> requests.Response:
        data = None if body is None else json.dumps(body, default=str)
        hdrs = self.headers(tenant=tenant, **({"Content-Type": "application/json"} if body is not None else {}))
        hdrs.update(headers or {})
        return self.http.request(method, f"{self.api}/{path}", data=data, params=params, headers=hdrs, timeout=30)


def decimal_json(response: requests.Response):
    return json.loads(response.text, parse_float=Decimal)


class _Swappable:
    """One uvicorn for the module; each test gets a fresh emulator app behind it."""

    def __init__(self):
        self.app = None

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def server():
    front = _Swappable()
    with ThreadedServer(front) as running:
        yield running, front


@pytest.fixture
def xero(server):
    running, front = server
    options = SandboxOptions()
    front.app = build_xero_app(options)
    return XeroClient(running.url, options, front.app.state.xero).login()


def invoice(number: str | None = None, *, account: str = "4000", qty="1", unit="10.00", status="AUTHORISED",
            contact: dict | None = None, tax: str = "NONE", **extra) -> dict:
    body = {"Type": "ACCREC", "Contact": contact or {"Name": "Walmart Marketplace Customers", "ContactNumber": "WALMART-MKT"},
            "Date": "2026-09-10", "DueDate": "2026-09-24", "Status": status, "LineAmountTypes": "Exclusive",
            "LineItems": [{"Description": "Widget", "Quantity": qty, "UnitAmount": unit, "AccountCode": account,
                           "TaxType": tax, "Tracking": [{"Name": "Sales Channel", "Option": "Walmart"}]}]}
    if number:
        body["InvoiceNumber"] = number
    body.update(extra)
    return body


# -- OAuth, tenancy ------------------------------------------------------------------------------------


def test_authorization_code_flow_then_refresh_rotation(xero):
    assert xero.tokens["expires_in"] == 1800
    assert xero.tokens["token_type"] == "Bearer"
    assert {"access_token", "refresh_token", "id_token"} <= set(xero.tokens)
    first = xero.tokens["refresh_token"]

    rotated = xero.token({"grant_type": "refresh_token", "refresh_token": first}, basic=False)
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["refresh_token"]
    assert second != first and rotated.json()["access_token"] != xero.tokens["access_token"]

    third = xero.token({"grant_type": "refresh_token", "refresh_token": second})
    assert third.status_code == 200
    # `first`'s successor has been used: no grace once the client has moved on.
    response = xero.token({"grant_type": "refresh_token", "refresh_token": first})
    assert (response.status_code, response.json()) == (400, {"error": "invalid_grant"})
    # `second`'s successor is unused, but after the 30-minute grace period it is dead too.
    xero.options.clock.advance(30 * 60 + 1)
    response = xero.token({"grant_type": "refresh_token", "refresh_token": second})
    assert (response.status_code, response.json()) == (400, {"error": "invalid_grant"})

    fourth = xero.token({"grant_type": "refresh_token", "refresh_token": third.json()["refresh_token"]})
    assert fourth.status_code == 200
    xero.tokens = fourth.json()
    assert xero.call("GET", "Organisation").status_code == 200


def test_authorization_code_is_single_use_and_client_is_checked(xero):
    code = xero.authorize()
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    bad = xero.token(form, secret="wrong-secret")
    assert bad.status_code in (400, 401) and bad.json() == {"error": "invalid_client"}
    assert xero.token(form).status_code == 200
    again = xero.token(form)
    assert (again.status_code, again.json()) == (400, {"error": "invalid_grant"})
    unknown = xero.token({"grant_type": "password"})
    assert unknown.json() == {"error": "unsupported_grant_type"}


def test_lost_refresh_response_can_be_retried_within_grace_only(xero):
    first = xero.tokens["refresh_token"]
    lost = xero.token({"grant_type": "refresh_token", "refresh_token": first}).json()["refresh_token"]
    retry = xero.token({"grant_type": "refresh_token", "refresh_token": first})
    assert retry.status_code == 200
    # The unused successor from the lost response is replaced by the new one.
    assert xero.token({"grant_type": "refresh_token", "refresh_token": lost}).json() == {"error": "invalid_grant"}
    xero.options.clock.advance(31 * 60)
    assert xero.token({"grant_type": "refresh_token", "refresh_token": first}).json() == {"error": "invalid_grant"}
    assert xero.token({"grant_type": "refresh_token", "refresh_token": retry.json()["refresh_token"]}).status_code == 200


def test_access_token_expires_by_the_clock(xero):
    assert xero.call("GET", "Accounts").status_code == 200
    xero.options.clock.advance(1801)
    response = xero.call("GET", "Accounts")
    assert response.status_code == 401
    assert response.json()["Detail"].startswith("TokenExpired")
    missing = requests.get(f"{xero.api}/Accounts", headers={"xero-tenant-id": xero.state.tenant_id}, timeout=10)
    assert missing.status_code == 401 and missing.json()["Detail"] == "AuthenticationUnsuccessful"


def test_connections_and_tenant_header(xero):
    response = xero.http.get(f"{xero.url}/api/connections", headers=xero.headers(tenant=False), timeout=10)
    assert response.status_code == 200
    [conn] = response.json()
    assert conn["tenantId"] == xero.state.tenant_id and conn["tenantType"] == "ORGANISATION"

    missing = xero.call("GET", "Invoices", tenant=False)
    assert missing.status_code == 403
    assert missing.json()["detail"] == "AuthenticationUnsuccessful"
    wrong = xero.call("GET", "Invoices", headers={"xero-tenant-id": "11111111-1111-1111-1111-111111111111"})
    assert wrong.status_code == 403 and wrong.json()["Title"] == "Forbidden"


def test_responses_are_xml_unless_json_is_accepted(xero):
    response = xero.call("GET", "TaxRates", headers={"Accept": "*/*"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert "<TaxRates>" in response.text


def test_seeded_chart_tax_rates_tracking_and_items(xero):
    accounts = xero.call("GET", "Accounts", params={"where": 'Type=="BANK"'}).json()["Accounts"]
    assert {(a["Code"], a["Name"]) for a in accounts} == {("1000", "Business Checking"), ("1250", "Walmart Clearing")}
    rates = {t["TaxType"]: t for t in decimal_json(xero.call("GET", "TaxRates"))["TaxRates"]}
    assert rates["TAX001"]["Name"] == "Puerto Rico Sales Tax" and rates["TAX001"]["EffectiveRate"] == Decimal("11.5")
    assert rates["NONE"]["EffectiveRate"] == 0
    [category] = xero.call("GET", "TrackingCategories").json()["TrackingCategories"]
    assert category["Name"] == "Sales Channel" and [o["Name"] for o in category["Options"]] == ["Walmart"]
    assert xero.call("GET", "Items").json()["Items"]


# -- batches, per-element errors, idempotency --------------------------------------------------------------


def test_batch_with_one_bad_account_code_under_summarize_errors_false(xero):
    body = {"Invoices": [invoice("WM-1"), invoice("WM-2", account="9999"), invoice("WM-3")]}
    response = xero.call("PUT", "Invoices", body, params={"summarizeErrors": "false"})
    assert response.status_code == 200, response.text
    rows = response.json()["Invoices"]
    assert [r["StatusAttributeString"] for r in rows] == ["OK", "ERROR", "OK"]
    assert rows[1]["HasErrors"] is True
    assert rows[1]["ValidationErrors"] == [{"Message": "Account code '9999' is not a valid code for this document."}]
    assert len(xero.state.invoices) == 2
    assert xero.state.count_by_reference("invoices", "WM-2") == 0


def test_summarized_batch_answers_400_but_keeps_the_valid_elements(xero):
    body = {"Invoices": [invoice("WM-10"), invoice("WM-11", tax="XYZ")]}
    response = xero.call("PUT", "Invoices", body)
    assert response.status_code == 400
    error = response.json()
    assert error["Type"] == "ValidationException" and error["ErrorNumber"] == 10
    [element] = error["Elements"]
    assert element["ValidationErrors"][0]["Message"] == (
        "The TaxType code XYZ does not exist or cannot be used for this type of transaction.")
    assert xero.state.count_by_reference("invoices", "WM-10") == 1


def test_more_than_50_elements_is_rejected_whole(xero):
    body = {"Invoices": [invoice(f"WM-{i}") for i in range(51)]}
    response = xero.call("PUT", "Invoices", body, params={"summarizeErrors": "false"})
    assert response.status_code == 400
    assert response.json()["Type"] == "ValidationException"
    assert xero.state.invoices == {}
    assert xero.call("PUT", "Invoices", {"Invoices": [invoice(f"WM-{i}") for i in range(50)]}).status_code == 200


def test_idempotency_key_replays_and_expires(xero):
    body = {"Invoices": [invoice()]}  # no number: each real create gets the next INV-
    key = {"Idempotency-Key": "WM-ORDER-1"}
    first = xero.call("PUT", "Invoices", body, headers=key)
    second = xero.call("PUT", "Invoices", body, headers=key)
    assert first.status_code == second.status_code == 200
    assert first.json()["Invoices"][0]["InvoiceID"] == second.json()["Invoices"][0]["InvoiceID"]
    assert len(xero.state.invoices) == 1

    other = xero.call("PUT", "Invoices", {"Invoices": [invoice(unit="11.00")]}, headers=key)
    assert other.status_code == 400 and "used with a different request" in other.json()["Message"]
    assert len(xero.state.invoices) == 1

    xero.options.clock.advance(361)
    third = xero.call("PUT", "Invoices", body, headers=key)
    assert third.status_code == 200 and len(xero.state.invoices) == 2


# -- rate limits -----------------------------------------------------------------------------------------


def test_minute_limit_answers_429_with_retry_after(xero):
    xero.state.minute_limit = 3
    seen = [xero.call("GET", "Contacts") for _ in range(3)]
    assert [r.status_code for r in seen] == [200, 200, 200]
    assert [int(r.headers["X-MinLimit-Remaining"]) for r in seen] == [2, 1, 0]
    assert int(seen[0].headers["X-DayLimit-Remaining"]) == 4999
    assert int(seen[0].headers["X-AppMinLimit-Remaining"]) == 9999
    limited = xero.call("GET", "Contacts")
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Problem"] == "minute"
    assert 1 <= int(limited.headers["Retry-After"]) <= 61
    assert limited.headers["X-MinLimit-Remaining"] == "0"
    xero.options.clock.advance(int(limited.headers["Retry-After"]))
    assert xero.call("GET", "Contacts").status_code == 200


def test_day_limit_reports_day(xero):
    xero.state.day_limit = 2
    assert xero.call("GET", "Accounts").status_code == 200
    assert xero.call("GET", "Accounts").status_code == 200
    limited = xero.call("GET", "Accounts")
    assert limited.status_code == 429 and limited.headers["X-Rate-Limit-Problem"] == "day"
    assert int(limited.headers["Retry-After"]) > 60


def test_five_concurrent_calls_and_the_sixth_is_refused(xero):
    gate = threading.Event()
    xero.state.gate = gate
    results: list[int] = []

    def worker():
        session = requests.Session()
        results.append(session.get(f"{xero.api}/Accounts", headers=xero.headers(), timeout=30).status_code)

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while xero.state.in_flight(xero.state.tenant_id) < 5:
        assert time.monotonic() < deadline, "the five requests never got in flight"
        time.sleep(0.01)
    sixth = requests.get(f"{xero.api}/Accounts", headers=xero.headers(), timeout=10)
    assert sixth.status_code == 429
    assert sixth.headers["X-Rate-Limit-Problem"] == "concurrent"
    gate.set()
    for t in threads:
        t.join(10)
    assert results == [200] * 5
    xero.state.gate = None
    assert xero.call("GET", "Accounts").status_code == 200


# -- payments, credit notes, transfers -----------------------------------------------------------------------


def test_payments_reduce_amount_due_and_overpayment_is_refused(xero):
    created = xero.call("PUT", "Invoices", {"Invoices": [invoice("WM-PAY", qty="4", unit="25.00")]}).json()
    invoice_id = created["Invoices"][0]["InvoiceID"]

    def pay(amount, code="1250"):
        return xero.call("PUT", "Payments", {"Payments": [{"Invoice": {"InvoiceID": invoice_id}, "Account": {"Code": code},
                                                           "Date": "2026-09-20", "Amount": amount,
                                                           "Reference": "SET-1"}]},
                         params={"summarizeErrors": "false"})

    first = decimal_json(pay("40.00"))["Payments"][0]
    assert first["StatusAttributeString"] == "OK" and first["PaymentType"] == "ACCRECPAYMENT"
    assert first["Invoice"]["AmountDue"] == Decimal("60.00")
    over = pay("60.01").json()["Payments"][0]
    assert over["ValidationErrors"] == [{"Message": "Payment amount exceeds the amount outstanding on this document"}]
    revenue = pay("1.00", code="4000").json()["Payments"][0]
    assert revenue["ValidationErrors"][0]["Message"] == "Account type is invalid for making a payment to/from"

    pay("60.00")
    got = decimal_json(xero.call("GET", f"Invoices/{invoice_id}"))["Invoices"][0]
    assert (got["Status"], got["AmountDue"], got["AmountPaid"]) == ("PAID", Decimal("0.00"), Decimal("100.00"))
    assert len(got["Payments"]) == 2 and "FullyPaidOnDate" in got
    assert xero.state.account_balance("1250") == Decimal("100.00")
    # A paid invoice can no longer be edited.
    edit = xero.call("POST", f"Invoices/{invoice_id}", {"Reference": "changed"})
    assert edit.status_code == 400


def test_payment_on_a_draft_is_refused(xero):
    draft = xero.call("PUT", "Invoices", {"Invoices": [invoice("WM-DRAFT", status="DRAFT")]}).json()["Invoices"][0]
    response = xero.call("PUT", "Payments", {"Payments": [{"Invoice": {"InvoiceID": draft["InvoiceID"]},
                                                           "Account": {"Code": "1250"}, "Date": "2026-09-20",
                                                           "Amount": "1.00"}]})
    assert response.status_code == 400 and xero.state.payments == {}


def test_credit_note_allocation_reduces_both_sides(xero):
    inv = xero.call("PUT", "Invoices", {"Invoices": [invoice("WM-CN", qty="2", unit="25.00")]}).json()["Invoices"][0]
    credit = {"Type": "ACCRECCREDIT", "Contact": {"ContactNumber": "WALMART-MKT"}, "Date": "2026-09-12",
              "Status": "AUTHORISED", "CreditNoteNumber": "WM-RET-1", "Reference": "WM-RET-1",
              "LineItems": [{"Description": "Return", "Quantity": 1, "UnitAmount": "20.00", "AccountCode": "4030",
                             "TaxType": "NONE"}]}
    cn = decimal_json(xero.call("PUT", "CreditNotes", {"CreditNotes": [credit]}))["CreditNotes"][0]
    assert cn["RemainingCredit"] == Decimal("20.00")
    too_much = xero.call("PUT", f"CreditNotes/{cn['CreditNoteID']}/Allocations",
                         {"Allocations": [{"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Amount": "20.01",
                                           "Date": "2026-09-12"}]})
    assert too_much.status_code == 400
    response = xero.call("PUT", f"CreditNotes/{cn['CreditNoteID']}/Allocations",
                         {"Allocations": [{"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Amount": "20.00",
                                           "Date": "2026-09-12"}]})
    assert response.status_code == 200, response.text
    got = decimal_json(xero.call("GET", f"Invoices/{inv['InvoiceID']}"))["Invoices"][0]
    assert (got["AmountDue"], got["AmountCredited"], got["Status"]) == (Decimal("30.00"), Decimal("20.00"), "AUTHORISED")
    assert got["CreditNotes"][0]["AppliedAmount"] == Decimal("20.00")
    cn = decimal_json(xero.call("GET", f"CreditNotes/{cn['CreditNoteID']}"))["CreditNotes"][0]
    assert (cn["RemainingCredit"], cn["Status"]) == (Decimal("0.00"), "PAID")
    assert xero.state.count_by_reference("credit_notes", "WM-RET-1") == 1


def test_bank_transfer_between_the_two_bank_accounts(xero):
    body = {"BankTransfers": [{"FromBankAccount": {"Code": "1250"}, "ToBankAccount": {"Code": "1000"},
                               "Amount": "1234.56", "Date": "2026-09-25", "Reference": "WM-SET-20260925-1"}]}
    response = xero.call("PUT", "BankTransfers", body)
    assert response.status_code == 200, response.text
    transfer = decimal_json(response)["BankTransfers"][0]
    assert transfer["Amount"] == Decimal("1234.56")
    assert transfer["FromBankAccount"]["Code"] == "1250" and transfer["ToBankAccount"]["Code"] == "1000"
    assert transfer["Date"].startswith("/Date(") and transfer["DateString"] == "2026-09-25T00:00:00"
    assert xero.state.account_balance("1000") == Decimal("1234.56")
    listed = xero.call("GET", "BankTransfers", params={"where": 'Reference=="WM-SET-20260925-1"'}).json()
    assert len(listed["BankTransfers"]) == 1
    not_bank = xero.call("PUT", "BankTransfers", {"BankTransfers": [{"FromBankAccount": {"Code": "1250"},
                                                                     "ToBankAccount": {"Code": "1260"}, "Amount": 1}]})
    assert not_bank.status_code == 400 and len(xero.state.bank_transfers) == 1


def test_ledger_balance_of_any_account_from_documents_payments_and_transfers(xero):
    state = xero.state
    taxed = invoice("WM-LB-1", qty="2", unit="50.00", tax="TAX001")  # 11.5 % Exclusive: 100.00 + 11.50
    taxed["LineItems"].append({"Description": "Facilitator tax", "Quantity": 1, "UnitAmount": "8.00",
                               "AccountCode": "2250", "TaxType": "NONE"})
    sale = decimal_json(xero.call("PUT", "Invoices", {"Invoices": [taxed]}))["Invoices"][0]
    xero.call("PUT", "Invoices", {"Invoices": [invoice("WM-LB-DRAFT", unit="999.00", status="DRAFT")]})
    bill = {"Type": "ACCPAY", "Contact": {"Name": "Walmart Inc."}, "Date": "2026-09-18", "DueDate": "2026-09-18",
            "Status": "AUTHORISED", "LineAmountTypes": "NoTax", "Reference": "WM-SET-LB-FEES",
            "LineItems": [{"Description": "Commission", "Quantity": 1, "UnitAmount": "15.00", "AccountCode": "6000"},
                          {"Description": "Reserve held", "Quantity": 1, "UnitAmount": "25.00", "AccountCode": "1260"},
                          {"Description": "Facilitator tax withheld", "Quantity": 1, "UnitAmount": "8.00",
                           "AccountCode": "2250"}]}
    fees = decimal_json(xero.call("PUT", "Invoices", {"Invoices": [bill]}))["Invoices"][0]
    credit = {"Type": "ACCRECCREDIT", "Contact": {"ContactNumber": "WALMART-MKT"}, "Date": "2026-09-19",
              "Status": "AUTHORISED", "CreditNoteNumber": "WM-RET-LB", "LineAmountTypes": "Exclusive",
              "LineItems": [{"Description": "Refund", "Quantity": 1, "UnitAmount": "10.00", "AccountCode": "4030",
                             "TaxType": "NONE"}]}
    refund = decimal_json(xero.call("PUT", "CreditNotes", {"CreditNotes": [credit]}))["CreditNotes"][0]
    assert state.ledger_balance("4000") == Decimal("-100.00")  # sales in credit
    assert state.ledger_balance("2200") == Decimal("-11.50")  # output tax to the sales-tax account
    assert state.ledger_balance("1100") == Decimal("119.50") - Decimal("10.00")  # debtors, less the credit note
    assert state.ledger_balance("2000") == Decimal("-48.00")  # creditors
    assert state.ledger_balance("2250") == Decimal("0.00")  # collected on the invoice, withheld on the bill
    assert (state.ledger_balance("6000"), state.ledger_balance("1260"), state.ledger_balance("4030")) == (
        Decimal("15.00"), Decimal("25.00"), Decimal("10.00"))

    def pay(document: dict, kind: str, amount: str):
        ref = {"Invoice": {"InvoiceID": document["InvoiceID"]}} if kind == "invoice" else {
            "CreditNote": {"CreditNoteID": document["CreditNoteID"]}}
        response = xero.call("PUT", "Payments", {"Payments": [{**ref, "Account": {"Code": "1250"}, "Date": "2026-09-20",
                                                               "Amount": amount}]})
        assert response.status_code == 200, response.text

    pay(sale, "invoice", "119.50")
    pay(fees, "invoice", "48.00")
    pay(refund, "credit", "10.00")
    xero.call("PUT", "BankTransfers", {"BankTransfers": [{"FromBankAccount": {"Code": "1250"},
                                                          "ToBankAccount": {"Code": "1000"}, "Amount": "61.50"}]})
    assert state.ledger_balance("1100") == state.ledger_balance("2000") == Decimal("0.00")
    assert state.ledger_balance("1250") == state.account_balance("1250") == Decimal("0.00")
    assert state.ledger_balance("1000") == state.account_balance("1000") == Decimal("61.50")
    # the books balance: debits equal credits over every account
    assert sum((state.ledger_balance(a["Code"]) for a in state.accounts.values()), Decimal(0)) == 0
    with pytest.raises(KeyError):
        state.ledger_balance("9999")


# -- contacts and queries --------------------------------------------------------------------------------------


def test_where_on_contact_number_with_a_quote(xero):
    body = {"Contacts": [{"Name": 'Ann "The Buyer" Lee', "ContactNumber": 'WM-"42"', "EmailAddress": "ann@example.com"},
                         {"Name": "Bob Ray", "ContactNumber": "WM-43", "EmailAddress": "bob@example.com"}]}
    assert xero.call("PUT", "Contacts", body).status_code == 200

    def where(expr):
        return xero.call("GET", "Contacts", params={"where": expr})

    found = where('ContactNumber=="WM-""42"""').json()["Contacts"]
    assert [c["Name"] for c in found] == ['Ann "The Buyer" Lee']
    backslash = where('ContactNumber=="WM-\\"42\\""')
    assert backslash.status_code == 400 and backslash.json()["Type"] == "QueryParseException"
    both = where('ContactNumber=="WM-43" OR EmailAddress=="ann@example.com"').json()["Contacts"]
    assert len(both) == 2
    assert where('Name=="Bob Ray" AND EmailAddress=="nobody@example.com"').json()["Contacts"] == []
    assert len(where('Name.StartsWith("bob") && ContactStatus=="ACTIVE"').json()["Contacts"]) == 1
    guid_vs_text = where('ContactID=="not-a-guid"')
    assert guid_vs_text.status_code == 400 and "incompatible" in guid_vs_text.json()["Message"]
    paged = xero.call("GET", "Contacts", params={"page": 1, "searchTerm": "@EXAMPLE.com"}).json()
    assert paged["pagination"]["itemCount"] == 2


def test_contact_names_are_unique(xero):
    first = xero.call("PUT", "Contacts", {"Contacts": [{"Name": "Buzz Lightyear"}]})
    assert first.status_code == 200
    dup = xero.call("PUT", "Contacts", {"Contacts": [{"Name": "Buzz Lightyear"}]}, params={"summarizeErrors": "false"})
    [row] = dup.json()["Contacts"]
    assert row["HasValidationErrors"] is True
    assert row["ValidationErrors"][0]["Message"] == (
        "The contact name Buzz Lightyear is already assigned to another contact. "
        "The contact name must be unique across all active contacts.")


def test_where_compiler_grammar():
    view = {"Name": "O'Neil", "Total": Decimal("10.00"), "Status": "PAID", "Contact": {"Name": "X"}}
    assert compile_where('Total >= 10 && Status == "PAID"', "Invoice")(view)
    assert compile_where('Contact.Name == "x"', "Invoice")(view)
    with pytest.raises(QueryParseError, match="No property or field 'Nope'"):
        compile_where('Nope == "a"', "Invoice")
    with pytest.raises(QueryParseError, match="Unterminated string literal"):
        compile_where('Status == "PAID', "Invoice")


# -- document rules and money --------------------------------------------------------------------------------


def test_tax_is_rounded_per_line_and_money_stays_decimal(xero):
    body = invoice("WM-TAX", tax="TAX001", qty="3", unit="19.99")
    body["LineItems"] += [{"Description": "Small", "Quantity": 1, "UnitAmount": "0.13", "AccountCode": "4000",
                           "TaxType": "TAX001"} for _ in range(3)]
    response = xero.call("PUT", "Invoices", {"Invoices": [body]})
    assert response.status_code == 200, response.text
    assert '"LineAmount":59.97' in response.text and '"TaxAmount":6.90' in response.text
    got = decimal_json(response)["Invoices"][0]
    lines = got["LineItems"]
    assert (lines[0]["LineAmount"], lines[0]["TaxAmount"]) == (Decimal("59.97"), Decimal("6.90"))
    assert [line["TaxAmount"] for line in lines[1:]] == [Decimal("0.01")] * 3  # 0.01495 each, rounded per line
    assert got["SubTotal"] == Decimal("60.36")
    assert got["TotalTax"] == Decimal("6.93")  # not round(60.36 * 0.115) = 6.94
    assert got["Total"] == Decimal("67.29") == got["AmountDue"]


def test_inclusive_amounts_and_line_total_check(xero):
    inclusive = invoice("WM-INC", tax="TAX001", qty="1", unit="111.50", LineAmountTypes="Inclusive")
    got = decimal_json(xero.call("PUT", "Invoices", {"Invoices": [inclusive]}))["Invoices"][0]
    assert (got["SubTotal"], got["TotalTax"], got["Total"]) == (Decimal("100.00"), Decimal("11.50"), Decimal("111.50"))

    wrong = invoice("WM-LT", qty="3", unit="19.99")
    wrong["LineItems"][0]["LineAmount"] = "59.96"
    response = xero.call("PUT", "Invoices", {"Invoices": [wrong]})
    assert response.status_code == 400
    assert response.json()["Elements"][0]["ValidationErrors"][0]["Message"] == (
        "The line total 59.96 does not match the expected line total 59.97")


def test_document_validation_messages(xero):
    assert xero.call("PUT", "Invoices", {"Invoices": [invoice("WM-DUP")]}).status_code == 200

    def errors(body):
        response = xero.call("PUT", "Invoices", {"Invoices": [body]}, params={"summarizeErrors": "false"})
        return [e["Message"] for e in response.json()["Invoices"][0].get("ValidationErrors", [])]

    assert errors(invoice("WM-DUP")) == ["Invoice # must be unique."]
    assert errors(invoice("WM-NODUE", DueDate=None)) == ["The document DueDate field must be specified."]
    assert errors(invoice("WM-DRAFT-NODUE", DueDate=None, status="DRAFT")) == []
    bad_option = invoice("WM-TRK")
    bad_option["LineItems"][0]["Tracking"] = [{"Name": "Sales Channel", "Option": "Amazon"}]
    assert errors(bad_option) == ["The tracking option 'Amazon' does not exist for tracking category 'Sales Channel'."]
    assert errors(invoice("WM-BANK", account="1250")) == ["Account code '1250' is not a valid code for this document."]
    assert errors(invoice("WM-NOCONTACT", contact={"EmailAddress": "x@example.com"})) == [
        "The Contact must contain at least 1 of the following elements to identify the contact: Name, ContactID, ContactNumber"]
    assert errors(invoice("WM-BADDATE", Date="2026-02-30"))[0].startswith("'2026-02-30' is not a valid Date")
    bill = invoice(None, Type="ACCPAY", InvoiceNumber="SET-1", contact={"Name": "Walmart Marketplace"})
    assert errors(bill) == [] and errors(dict(bill)) == []  # bill numbers need not be unique
    assert xero.state.count_by_reference("invoices", "SET-1") == 2


def test_get_invoices_filters_paging_and_line_items(xero):
    bodies = [invoice(f"WM-{i}", status="AUTHORISED" if i % 2 else "DRAFT") for i in range(5)]
    assert xero.call("PUT", "Invoices", {"Invoices": bodies}).status_code == 200
    listed = xero.call("GET", "Invoices", params={"InvoiceNumbers": "WM-1,WM-3"}).json()["Invoices"]
    assert sorted(i["InvoiceNumber"] for i in listed) == ["WM-1", "WM-3"]
    assert all(i["LineItems"] == [] for i in listed)  # no `page`: no line items, as on Xero
    drafts = xero.call("GET", "Invoices", params={"Statuses": "DRAFT", "page": 1}).json()
    assert drafts["pagination"]["itemCount"] == 3 and all(i["LineItems"] for i in drafts["Invoices"])
    where = xero.call("GET", "Invoices", params={"where": 'Type=="ACCREC" AND Total > 5 AND Date >= DateTime(2026, 09, 01)',
                                                 "order": "InvoiceNumber DESC"}).json()["Invoices"]
    assert [i["InvoiceNumber"] for i in where] == ["WM-4", "WM-3", "WM-2", "WM-1", "WM-0"]
    one = xero.call("GET", "Invoices/WM-2").json()["Invoices"][0]
    assert one["InvoiceNumber"] == "WM-2" and one["LineItems"][0]["Tracking"][0]["Option"] == "Walmart"
    assert xero.call("GET", "Invoices/00000000-0000-0000-0000-000000000001").status_code == 404


def test_post_updates_by_number_and_voids(xero):
    created = xero.call("PUT", "Invoices", {"Invoices": [invoice("WM-UPD", status="DRAFT")]}).json()["Invoices"][0]
    updated = xero.call("POST", "Invoices", {"Invoices": [invoice("WM-UPD", unit="12.00")]})
    assert updated.status_code == 200, updated.text
    row = decimal_json(updated)["Invoices"][0]
    assert row["InvoiceID"] == created["InvoiceID"] and row["Total"] == Decimal("12.00") and row["Status"] == "AUTHORISED"
    back_to_draft = xero.call("POST", f"Invoices/{row['InvoiceID']}", {"Status": "DRAFT"})
    assert back_to_draft.json()["Elements"][0]["ValidationErrors"][0]["Message"] == "Invoice not of valid status for modification"
    voided = xero.call("POST", f"Invoices/{row['InvoiceID']}", {"Status": "VOIDED"}).json()["Invoices"][0]
    assert voided["Status"] == "VOIDED" and Decimal(str(voided["AmountDue"])) == 0
    assert len(xero.state.invoices) == 1
    assert xero.state.count_by_reference("invoices", "WM-UPD") == 0  # voided documents do not count


def test_app_wide_minute_limit(xero):
    xero.state.app_minute_limit = 1
    assert xero.call("GET", "Items").status_code == 200
    limited = xero.call("GET", "Items")
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Problem"] == "appminute" and limited.headers["X-AppMinLimit-Remaining"] == "0"


def test_items_argument_seeds_the_price_list(server):
    running, front = server
    options = SandboxOptions()
    front.app = build_xero_app(options, items=[("SKU-X", "Thing", Decimal("9.99"))])
    client = XeroClient(running.url, options, front.app.state.xero).login()
    [item] = decimal_json(client.call("GET", "Items"))["Items"]
    assert (item["Code"], item["Name"], item["SalesDetails"]["UnitPrice"]) == ("SKU-X", "Thing", Decimal("9.99"))
    line = {"ItemCode": "SKU-X", "Quantity": 2}
    body = invoice("WM-ITEM")
    body["LineItems"] = [line]
    got = decimal_json(client.call("PUT", "Invoices", {"Invoices": [body]}))["Invoices"][0]
    assert got["Total"] == Decimal("19.98") and got["LineItems"][0]["AccountCode"] == "4000"


def tracked_item(xero: XeroClient, code: str = "WM-TRACKED-1", **extra) -> requests.Response:
    body = {"Code": code, "Name": "Tracked water bottle", "InventoryAssetAccountCode": "1400",
            "PurchaseDetails": {"UnitPrice": "6.00", "COGSAccountCode": "5000"},
            "SalesDetails": {"UnitPrice": "24.99", "AccountCode": "4000", "TaxType": "NONE"}}
    body.update(extra)
    return xero.call("POST", "Items", {"Items": [body]}, params={"summarizeErrors": "false"})


def stock_document(kind: str, quantity, status: str = "AUTHORISED", code: str = "WM-TRACKED-1", **line) -> dict:
    bill = kind == "ACCPAY"
    body = {"Type": kind, "Contact": {"Name": "Bottle Supplier" if bill else "Walmart Marketplace Customers"},
            "Date": "2026-09-10", "DueDate": "2026-09-24", "Status": status, "LineAmountTypes": "NoTax",
            "LineItems": [{"ItemCode": code, "Quantity": quantity, "UnitAmount": "6.00" if bill else "24.99",
                           **line}]}
    return {"Invoices": [body]}


def test_tracked_items_count_quantity_on_hand_from_bills_and_invoices(xero):
    for code, name, typ in (("1400", "Inventory", "INVENTORY"), ("5000", "Cost of Goods Sold", "DIRECTCOSTS")):
        assert xero.call("PUT", "Accounts", {"Code": code, "Name": name, "Type": typ}).status_code == 200

    def messages(response):
        return [e["Message"] for e in response.json()["Items"][0].get("ValidationErrors", [])]

    assert messages(tracked_item(xero, "WM-BAD-1", InventoryAssetAccountCode="4000")) == [
        "The InventoryAssetAccountCode '4000' must be an account of type INVENTORY."]
    assert messages(tracked_item(xero, "WM-BAD-2", PurchaseDetails={"UnitPrice": "6.00"})) == [
        "The COGSAccountCode in PurchaseDetails is required for a tracked item."]
    created = tracked_item(xero, QuantityOnHand=99, TotalCostPool=99)  # read-only: ignored
    assert created.status_code == 200, created.text
    item = decimal_json(created)["Items"][0]
    assert (item["IsTrackedAsInventory"], item["InventoryAssetAccountCode"]) == (True, "1400")
    assert (item["QuantityOnHand"], item["TotalCostPool"]) == (0, 0)
    assert item["PurchaseDetails"] == {"UnitPrice": Decimal("6.00"), "COGSAccountCode": "5000"}
    flagged_only = decimal_json(xero.call("POST", "Items", {"Items": [{"Code": "WM-FLAG", "IsTrackedAsInventory": True}]}))
    assert flagged_only["Items"][0]["IsTrackedAsInventory"] is False  # the two account codes make an item tracked

    def on_hand() -> tuple[Decimal, Decimal]:
        got = decimal_json(xero.call("GET", f"Items/{item['ItemID']}"))["Items"][0]
        return got["QuantityOnHand"], got["TotalCostPool"]

    bill = xero.call("PUT", "Invoices", stock_document("ACCPAY", 10))
    assert bill.status_code == 200, bill.text
    assert bill.json()["Invoices"][0]["LineItems"][0]["AccountCode"] == "1400"  # bought into the inventory asset
    assert on_hand() == (10, Decimal("60.00"))
    assert xero.call("PUT", "Invoices", stock_document("ACCPAY", 5, status="DRAFT")).status_code == 200
    assert on_hand() == (10, Decimal("60.00"))  # only approved documents move stock
    wrong = xero.call("PUT", "Invoices", stock_document("ACCPAY", 1, AccountCode="6900"))
    assert wrong.status_code == 400 and "inventory asset account 1400" in wrong.text

    sale = xero.call("PUT", "Invoices", stock_document("ACCREC", 4))
    assert sale.status_code == 200, sale.text
    assert on_hand() == (6, Decimal("36.00"))
    assert xero.state.ledger_balance("5000") == Decimal("24.00")  # 4 at the average cost of 6.00
    assert xero.state.ledger_balance("1400") == Decimal("36.00")
    assert xero.state.ledger_balance("4000") == Decimal("-99.96")
    assert xero.call("PUT", "Invoices", stock_document("ACCREC", 50, status="DRAFT")).status_code == 200
    oversold = xero.call("PUT", "Invoices", stock_document("ACCREC", 7))
    assert oversold.status_code == 400
    assert oversold.json()["Elements"][0]["ValidationErrors"] == [
        {"Message": "The quantity on hand of tracked item 'WM-TRACKED-1' cannot go below zero (it would be -1)."}]
    assert on_hand() == (6, Decimal("36.00"))

    sale_id = sale.json()["Invoices"][0]["InvoiceID"]
    voided = xero.call("POST", f"Invoices/{sale_id}", {"Invoices": [{"Status": "VOIDED"}]})
    assert voided.status_code == 200, voided.text
    assert on_hand() == (10, Decimal("60.00")) and xero.state.ledger_balance("5000") == 0

    assert xero.state.set_quantity_on_hand("WM-TRACKED-1", 3)["QuantityOnHand"] == 3  # the test hook
    assert on_hand() == (3, Decimal("18.00"))
    tracked = xero.call("GET", "Items", params={"where": "IsTrackedAsInventory==true && QuantityOnHand>0"})
    assert [i["Code"] for i in tracked.json()["Items"]] == ["WM-TRACKED-1"]


def test_untracked_items_have_no_quantity_on_hand(xero):
    items = decimal_json(xero.call("GET", "Items"))["Items"]
    assert items and all(not i["IsTrackedAsInventory"] and "QuantityOnHand" not in i and "TotalCostPool" not in i
                         for i in items)
    code = items[0]["Code"]
    body = invoice("WM-UNTRACKED")
    body["LineItems"] = [{"ItemCode": code, "Quantity": 3}]
    assert xero.call("PUT", "Invoices", {"Invoices": [body]}).status_code == 200
    again = decimal_json(xero.call("GET", f"Items/{items[0]['ItemID']}"))["Items"][0]
    assert "QuantityOnHand" not in again and xero.state.inventory_moves == []
    with pytest.raises(ValueError):
        xero.state.set_quantity_on_hand(code, 5)


def test_the_emulated_ledgers_open_with_the_accounts_of_the_sellers_own_mapping(tmp_path, monkeypatch):
    """A dry run of a seller's own mapping: the emulators hold its codes, not the packaged default's."""
    import yaml

    from walmart_accounting.domain.config import load_default_config

    data = load_default_config().model_dump(mode="json")
    data["ledgers"]["xero"]["accounts"]["clearing"] = "1255"
    data["ledgers"]["exact"]["accounts"]["clearing"] = "1256"
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("WALMART_ACCOUNTING_CONFIG", str(mapping))
    with SandboxServer(SandboxOptions()) as server:
        assert server.app.state.xero.account_by_code("1255") is not None
        assert server.app.state.xero.account_by_code("1250") is None
        exact = server.app.state.exact.div()
        assert exact.find("financial/GLAccounts", "Code", "1256") is not None
        assert exact.find("financial/GLAccounts", "Code", "1250") is None
