"""Read-back through the ledgers' real APIs: verify_posted finds exactly what a user changed in the ledger
(voided, deleted, amount changed, a second document under our reference), and account_balances agrees
with the sandboxes' own books after a settlement is posted."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet

from walmart_accounting.connectors.xero import XeroClient
from walmart_accounting.domain.config import load_default_config
from walmart_accounting.posting.documents import documents_from_frame
from walmart_accounting.posting.engine import PostingEngine
from walmart_accounting.posting.exact import ExactAdapter
from walmart_accounting.posting.readback import LedgerFinding
from walmart_accounting.posting.xero import XeroAdapter
from walmart_accounting.sandbox.seller import SyntheticSeller
from walmart_accounting.sandbox.server import SandboxOptions, SandboxServer
from walmart_accounting.store.store import Store
from walmart_accounting.transform import documents as transform
from walmart_accounting.transform.walmart import order_frames, return_frame, return_order_map, settlement_frame
from walmart_accounting_tests.posting.test_exact import (
    connected_exact_client,
    exact_state,
    in_posting_order,
    summary_documents,
)
from walmart_accounting_tests.posting.test_xero import World, connected_xero_client, money

CONFIG = load_default_config()
REPORT = "10032026"
FAR = date(2030, 1, 1)


def problems(findings: list[LedgerFinding]) -> dict[str, str]:
    return {f.document_key: f.problem for f in findings}


# ------------------------------------------------------------------------------------------------
# Xero
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world() -> World:
    """The synthetic seller's documents for Xero, as test_xero builds them."""
    seller = SyntheticSeller(seed=7)
    lines, refunds = order_frames(seller.orders)
    returns = return_frame(seller.returns)
    invoices = transform.sales_invoices(lines.valid, CONFIG, "xero")
    credits = transform.credit_notes(returns.valid, refunds.valid, lines.valid, CONFIG, "xero")
    mapping = return_order_map(refunds.valid, returns.valid)
    settlements, payouts = {}, {}
    for settlement in seller.settlements:
        frame = settlement_frame(settlement.report_date, settlement.rows, mapping)
        result = transform.settlement_documents(frame.valid, CONFIG, "xero", refunds.valid)
        settlements[settlement.report_date] = documents_from_frame(result.documents)
        payouts[settlement.report_date] = settlement.total_payable_cents
    return World({d.key: d for d in documents_from_frame(invoices.documents)},
                 {d.key: d for d in documents_from_frame(credits.documents)}, settlements, payouts)


@pytest.fixture
def store(tmp_path, monkeypatch) -> Store:
    monkeypatch.setenv("WALMART_ACCOUNTING_SECRET_KEY", Fernet.generate_key().decode())
    opened = Store.open(f"sqlite:///{tmp_path}/s.sqlite", migrate=True)
    yield opened
    opened.dispose()


@pytest.fixture
def xero_sandbox():
    with SandboxServer(SandboxOptions(seed=11)) as server:  # the seed test_xero's world is posted into
        yield server


@pytest.fixture
def xero_client(xero_sandbox) -> XeroClient:
    return connected_xero_client(xero_sandbox)


@pytest.fixture
def xero(xero_sandbox, xero_client, store):
    adapter = XeroAdapter(xero_client, CONFIG)
    return adapter, PostingEngine(store, adapter), xero_sandbox.app.state.xero


def test_xero_agrees_then_names_each_document_changed_in_xero(world, xero, xero_client):
    adapter, engine, state = xero
    invoices = list(world.invoices.values())[:5]
    report = engine.post(invoices)
    assert set(report.posted) == {d.key for d in invoices}
    ids = dict(report.posted)
    calls = xero_client.calls
    assert adapter.verify_posted(invoices, ids) == []
    assert xero_client.calls - calls <= 2  # one where-lookup for five invoices (and its page)

    voided, changed, duplicated = invoices[0], invoices[1], invoices[2]
    answer = xero_client.create("Invoices", [{"InvoiceID": ids[voided.key], "Status": "VOIDED"}],
                                document_keys=["void"], method="POST")[0]
    assert answer.ok, answer.errors
    stored = state.invoices[ids[changed.key]]
    line = dict(stored["LineItems"][0])
    answer = xero_client.create("Invoices", [{"InvoiceID": ids[changed.key], "LineItems": [
        {"Description": "edited by hand", "Quantity": Decimal(1), "UnitAmount": line["LineAmount"] + 1,
         "AccountCode": state.accounts[line["AccountID"]]["Code"], "TaxType": line["TaxType"],
         "TaxAmount": Decimal("0.00")}]}], document_keys=["edit"], method="POST")[0]
    assert answer.ok, answer.errors
    contact = state.invoices[ids[duplicated.key]]["ContactID"]
    answer = xero_client.create("Invoices", [{"Type": "ACCREC", "Contact": {"ContactID": contact},
                                              "Reference": duplicated.key, "Date": "2026-03-10",
                                              "DueDate": "2026-03-10", "Status": "AUTHORISED",
                                              "LineItems": [{"Description": "typed again", "Quantity": Decimal(1),
                                                             "UnitAmount": Decimal("5.00"), "AccountCode": "4000",
                                                             "TaxType": "NONE"}]}],
                                document_keys=["dup"])[0]
    assert answer.ok, answer.errors

    findings = adapter.verify_posted(invoices, ids)
    assert problems(findings) == {voided.key: "voided", changed.key: "amount", duplicated.key: "duplicate"}
    amount = next(f for f in findings if f.problem == "amount")
    assert str(money(changed.total_cents)) in amount.detail and amount.kind == "sales_invoice"


def test_xero_a_deleted_payment_and_a_second_one_under_our_reference(world, xero, xero_client):
    adapter, engine, state = xero
    docs = world.settlement(REPORT)
    everything = docs["sales_invoice"] + docs["credit_note"] + docs["payment"] + docs["fee_bill"] + docs["transfer"]
    report = engine.post(everything)
    assert not (report.dead_lettered or report.failed or report.waiting)
    ids = dict(report.posted)
    assert adapter.verify_posted(everything, ids) == []

    paid = [d for d in docs["payment"] if d.total_cents > 0]
    deleted, doubled = paid[0], paid[1]
    answer = xero_client.create("Payments", [{"Status": "DELETED"}], document_keys=["del"], method="POST",
                                path=f"/api.xro/2.0/Payments/{ids[deleted.key]}")[0]
    assert answer.ok, answer.errors
    # Xero reopened the invoice the deleted payment paid; the second payment under the same reference pays it.
    invoice = next(i for i in state.invoices.values() if i["InvoiceNumber"] == deleted.header["related_key"])
    answer = xero_client.create("Payments", [{"Invoice": {"InvoiceID": invoice["InvoiceID"]},
                                              "Account": {"Code": "1250"}, "Date": "2026-03-10",
                                              "Amount": Decimal("0.01"), "Reference": doubled.key}],
                                document_keys=["dup"])[0]
    assert answer.ok, answer.errors
    assert problems(adapter.verify_posted(everything, ids)) == {deleted.key: "voided", doubled.key: "duplicate"}


def test_xero_trial_balance_agrees_with_the_books_after_a_settlement(world, xero):
    adapter, engine, state = xero
    docs = world.settlement(REPORT)
    report = engine.post(docs["sales_invoice"] + docs["credit_note"] + docs["payment"] + docs["fee_bill"]
                         + docs["transfer"])
    assert not (report.dead_lettered or report.failed or report.waiting)
    codes = ["1250", "1000", "4000", "4030", "6000", "2250"]
    year_end = date(2026, 12, 31)  # revenue and expense accounts are year to date in Xero's Trial Balance
    balances = adapter.account_balances(codes, year_end)
    assert balances["1250"] == Decimal("0.00") == state.account_balance("1250")  # clearing nets to zero
    assert balances["1000"] == money(world.payouts[REPORT]) == state.account_balance("1000")  # bank = payout
    for code in codes:
        assert balances[code] == state.ledger_balance(code), code
    assert adapter.account_balances(["4000", "1000"], FAR) == {"4000": Decimal("0.00"),  # a new financial year
                                                               "1000": state.account_balance("1000")}
    # Before anything was dated, nothing is booked.
    assert all(v == 0 for v in adapter.account_balances(codes, date(2020, 1, 1)).values())


# ------------------------------------------------------------------------------------------------
# Exact
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def exact_sandbox():
    with SandboxServer(SandboxOptions()) as server:  # the options test_exact's summary documents come from
        yield server


@pytest.fixture
def posted_exact(exact_sandbox, store):
    client = connected_exact_client(exact_sandbox)
    documents, payouts = summary_documents(exact_sandbox)
    adapter = ExactAdapter(client, CONFIG)
    report = PostingEngine(store, adapter).post(in_posting_order(documents))
    assert not (report.dead_lettered or report.failed or report.waiting)
    return adapter, client, documents, dict(report.posted), payouts


def test_exact_agrees_then_names_each_entry_changed_in_exact(exact_sandbox, posted_exact):
    adapter, client, documents, ids, _ = posted_exact
    calls = client.calls
    assert adapter.verify_posted(documents, ids) == []
    kinds = {d.kind for d in documents}
    assert client.calls - calls <= sum(-(-sum(1 for d in documents if d.kind == k) // 10) for k in kinds) + 2

    invoices = [d for d in documents if d.kind == "sales_invoice"]
    deleted, changed, duplicated = invoices[0], invoices[1], invoices[2]
    state = exact_state(exact_sandbox)
    entries = {e["YourRef"]: e for e in state.sales_entries}
    # A processed entry cannot be changed; these are open (Status 20), as the adapter leaves them.
    client.delete("salesentry/SalesEntries", entries[deleted.key]["EntryID"])
    revenue = entries[changed.key]["SalesEntryLines"][0]["GLAccount"]
    client.create("salesentry/SalesEntryLines", {"EntryID": entries[changed.key]["EntryID"], "GLAccount": revenue,
                                                 "AmountFC": Decimal("1.00"), "VATAmountFC": Decimal("0.00"),
                                                 "Description": "added by hand"})
    original = entries[duplicated.key]
    client.create("salesentry/SalesEntries", {
        "Journal": original["Journal"], "Customer": original["Customer"], "Type": 20,
        "EntryDate": "2026-03-10T00:00:00", "YourRef": duplicated.key, "Currency": original["Currency"],
        "SalesEntryLines": [{"GLAccount": revenue, "AmountFC": Decimal("2.00"), "VATAmountFC": Decimal("0.00")}]})
    transfer = next(d for d in documents if d.kind == "transfer")
    bank_entry = next(e for e in state.bank_entries if any(ln["Description"] == transfer.key
                                                           for ln in e["BankEntryLines"]))
    client.delete("financialtransaction/BankEntries", bank_entry["EntryID"])

    findings = adapter.verify_posted(documents, ids)
    assert problems(findings) == {deleted.key: "missing", changed.key: "amount", duplicated.key: "duplicate",
                                  transfer.key: "missing"}


def test_exact_transaction_lines_agree_with_the_trial_balance_after_the_settlements(exact_sandbox, posted_exact):
    adapter, _, _, _, payouts = posted_exact
    state = exact_state(exact_sandbox)
    codes = sorted(state.trial_balance())
    balances = adapter.account_balances(codes, FAR)
    assert balances == {code: state.gl_balance(code) for code in codes}
    assert balances["1250"] == 0  # the clearing account nets to zero once the transfers are in
    assert balances["1100"] == state.gl_balance("1100")
    assert sum(balances.values()) == 0  # every entry balances
    # Before the settlements were dated only what the division opened with is there: the clearing account is 0.
    assert adapter.account_balances(["1250"], date(2020, 1, 1)) == {"1250": Decimal("0.00")}
