"""The Exact adapter through the posting engine, over real HTTP against the Exact sandbox.

The synthetic seller's two settlements (settlement_summary, Exact's default mode) are posted once,
balance the clearing and bank accounts, survive a crash after a create, and dead-letter only what
cannot be posted. Per-order documents (customers, credit notes, fee bills) and stock-tracked sales
invoices are covered on small subsets.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from functools import lru_cache
from importlib import resources

import pandas as pd
import pytest
import requests
import yaml
from cryptography.fernet import Fernet

from walmart_accounting.cli.connect import connect_flow
from walmart_accounting.connectors.exact import ExactClient
from walmart_accounting.connectors.http import RetryPolicy
from walmart_accounting.connectors.tokens import MemoryTokenStore
from walmart_accounting.domain.config import load_default_config, parse_config
from walmart_accounting.posting.documents import LedgerDocument, documents_from_frame
from walmart_accounting.posting.engine import POSTING_ORDER, PostingEngine
from walmart_accounting.posting.exact import ExactAdapter, exact_account_code
from walmart_accounting.sandbox.seller import SyntheticSeller
from walmart_accounting.sandbox.server import SandboxOptions, SandboxServer
from walmart_accounting.store.store import Store
from walmart_accounting.transform import documents as transform
from walmart_accounting.transform import walmart

FAST = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05)
WHERE = {"sales_invoice": ["SalesEntries"], "credit_note": ["SalesEntries"],
         "fee_bill": ["PurchaseEntries", "BankEntries"], "payment": ["BankEntries"], "transfer": ["BankEntries"]}


def in_posting_order(documents) -> list[LedgerDocument]:
    """Dependencies first, as the engine posts them: a payment needs its invoice in Exact."""
    return sorted(documents, key=lambda d: POSTING_ORDER.index(d.kind))


def _mapping(**exact) -> dict:
    data = yaml.safe_load(resources.files("walmart_accounting.domain").joinpath("default_mapping.yaml").read_text())
    data["ledgers"]["exact"].update(exact)
    return data


# ------------------------------------------------------------------------------------------------
# fixtures
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def sandbox():
    with SandboxServer(SandboxOptions()) as server:
        yield server


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("WALMART_ACCOUNTING_SECRET_KEY", Fernet.generate_key().decode())
    store = Store.open(f"sqlite:///{tmp_path}/s.sqlite", migrate=True)
    yield store
    store.dispose()


def connected_exact_client(sandbox) -> ExactClient:
    """An Exact client on the sandbox's clock, consent given, with fast retries."""
    env = sandbox.env()
    client = ExactClient(env["EXACT_CLIENT_ID"], env["EXACT_CLIENT_SECRET"], MemoryTokenStore(),
                         base_url=env["EXACT_BASE_URL"], clock=sandbox.options.clock.now,
                         sleep=sandbox.options.clock.advance, retry=FAST)
    connect_flow(client, 0, lambda url: requests.get(url, timeout=10), timeout_s=10)
    return client


@pytest.fixture
def client(sandbox) -> ExactClient:
    return connected_exact_client(sandbox)


@lru_cache(maxsize=None)
def _seller(seed, start, days) -> SyntheticSeller:
    return SyntheticSeller(seed, start, days)


def seller_of(sandbox) -> SyntheticSeller:
    o = sandbox.options
    return _seller(o.seed, o.seller_start, o.seller_days)


@lru_cache(maxsize=None)
def _summary_documents(seed, start, days) -> tuple[tuple[LedgerDocument, ...], int]:
    seller = _seller(seed, start, days)
    assert len(seller.settlements) == 2
    frames = [walmart.settlement_frame(r.report_date, r.rows) for r in seller.settlements]
    assert all(f.rejects.empty for f in frames)
    result = transform.settlement_summary(pd.concat([f.valid for f in frames], ignore_index=True),
                                          load_default_config(), "exact")
    assert result.rejects.empty, result.rejects["reason"].tolist()
    return tuple(documents_from_frame(result.documents)), sum(r.total_payable_cents for r in seller.settlements)


def summary_documents(sandbox) -> tuple[list[LedgerDocument], int]:
    o = sandbox.options
    documents, payouts = _summary_documents(o.seed, o.seller_start, o.seller_days)
    return list(documents), payouts


@lru_cache(maxsize=None)
def _per_order_documents(seed, start, days) -> tuple[LedgerDocument, ...]:
    seller = _seller(seed, start, days)
    config = parse_config(_mapping(posting_mode="per_order"))
    lines, refunds = (v.valid for v in walmart.order_frames(seller.orders))
    returns = walmart.return_frame(seller.returns).valid
    ids = walmart.return_order_map(refunds, returns)
    results = [transform.sales_invoices(lines, config, "exact"),
               transform.credit_notes(returns, refunds, lines, config, "exact")]
    results += [transform.settlement_documents(walmart.settlement_frame(r.report_date, r.rows, ids).valid, config,
                                               "exact", order_refunds=refunds) for r in seller.settlements]
    assert all(r.rejects.empty for r in results)
    return tuple(d for r in results for d in documents_from_frame(r.documents))


def exact_state(sandbox):
    return sandbox.app.state.exact


def count(sandbox, document: LedgerDocument) -> list[int]:
    return [exact_state(sandbox).count_by_your_ref(resource, document.key) for resource in WHERE[document.kind]]


def posts(sandbox) -> int:
    counts = sandbox.options.requests.counts.items()
    return sum(n for (api, method, _), n in counts if api == "exact" and method == "POST")


def money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


# ------------------------------------------------------------------------------------------------
# settlement summary: the default seller's two settlements
# ------------------------------------------------------------------------------------------------


def test_both_settlements_post_once_and_clear_through_the_clearing_account(sandbox, client, store):
    documents, payouts = summary_documents(sandbox)
    assert {d.kind for d in documents} == {"sales_invoice", "payment", "transfer"}
    state = exact_state(sandbox)
    bank_before = state.gl_balance("1100")

    report = PostingEngine(store, ExactAdapter(client, load_default_config())).post(in_posting_order(documents))

    assert set(report.posted) == {d.key for d in documents}
    assert not (report.dead_lettered or report.waiting or report.failed)
    for document in documents:
        assert count(sandbox, document) == [1] * len(WHERE[document.kind]), document.key
    assert state.gl_balance("1250") == 0  # the clearing account nets to zero once the transfers are in
    assert state.gl_balance("1100") - bank_before == money(payouts)
    assert state.gl_balance("1300") == 0  # every summary entry is paid from clearing
    assert state.gl_balance("1650") == 0  # facilitator tax collected = withheld
    # what Exact holds is what the documents say, to the cent
    entries = {e["YourRef"]: e for e in state.sales_entries}
    for invoice in (d for d in documents if d.kind == "sales_invoice"):
        entry = entries[invoice.key]
        assert entry["AmountFC"] == money(invoice.total_cents) and entry["Journal"] == "70"
        assert entry["Type"] == (20 if invoice.total_cents >= 0 else 21)
        assert [ln["GLAccountCode"] for ln in entry["SalesEntryLines"]] == [ln["account"] for ln in invoice.lines]
        assert [ln["AmountFC"] for ln in entry["SalesEntryLines"]] == [money(ln["amount_cents"])
                                                                      for ln in invoice.lines]
    customers = [a for a in state.accounts if a["Code"].strip() == "WALMART-MKT"]
    assert len(customers) == 1 and customers[0]["Status"] == "C"
    assert {e["Customer"] for e in state.sales_entries} == {customers[0]["ID"]}
    payments = {ln["Description"]: ln for e in state.bank_entries for ln in e["BankEntryLines"]}
    for payment in (d for d in documents if d.kind == "payment"):
        assert payments[payment.key]["OurRef"] == entries[payment.header["related_key"]]["InvoiceNumber"]
        assert payments[payment.key]["Account"] == customers[0]["ID"]

    # a second pass, even with a fresh adapter (no caches), posts nothing
    before = posts(sandbox)
    again = PostingEngine(store, ExactAdapter(client, load_default_config())).post(in_posting_order(documents))
    assert again.posted == {} and set(again.already_posted) == {d.key for d in documents}
    assert posts(sandbox) == before
    assert all(count(sandbox, d) == [1] * len(WHERE[d.kind]) for d in documents)


def test_payments_wait_for_their_invoices_and_post_once_they_exist(sandbox, client, store):
    documents, payouts = summary_documents(sandbox)
    adapter = ExactAdapter(client, load_default_config())
    payments = [d for d in documents if d.kind == "payment"]

    first = PostingEngine(store, adapter).post(payments)  # their invoices are not posted yet
    assert set(first.waiting) == {d.key for d in payments}
    assert all("is not in Exact yet" in reason for reason in first.waiting.values())
    assert all(exact_state(sandbox).count_by_your_ref("BankEntries", d.key) == 0 for d in payments)

    by_key = sorted(documents, key=lambda d: d.key)  # "-P-" payments sort first; the engine orders by kind
    second = PostingEngine(store, adapter).post(by_key)
    assert {d.key for d in payments} <= set(second.posted) and not second.waiting
    assert exact_state(sandbox).gl_balance("1250") == 0


@pytest.mark.parametrize("path", ["", "salesentry/SalesEntries", "financialtransaction/BankEntries"])
def test_a_crash_after_the_create_is_resolved_by_the_lookup(sandbox, client, store, path):
    documents, _ = summary_documents(sandbox)
    ordered = in_posting_order(documents)
    # "" drops the first POST of the pass (creating the marketplace customer); the others a document create
    prefix = f"/api/v1/{client.division}/{path}" if path else "/api/v1"
    rule = sandbox.options.faults.add("exact", "drop_after_commit", method="POST", path_prefix=prefix)
    adapter = ExactAdapter(client, load_default_config())

    first = PostingEngine(store, adapter).post(ordered)
    assert rule.fired == 1 and len(first.failed) == 1
    (crashed,) = first.failed
    # a payment of an invoice that never reached Exact waits for it, and the settlement's transfer waits for both:
    # a settlement is booked whole
    settlement = next(d for d in documents if d.key == crashed).header.get("settlement_key")
    transfers = {d.key for d in documents if d.kind == "transfer" and d.header.get("settlement_key") == settlement}
    payments = {d.key for d in documents if d.header.get("related_key") == crashed} if not path else set()
    waiting = payments | transfers
    assert transfers and set(first.waiting) == waiting
    assert all("to post first" in first.waiting[key] and crashed in first.waiting[key] for key in transfers)
    assert set(first.posted) == {d.key for d in documents} - {crashed} - waiting
    assert all(count(sandbox, d) == [0] for d in documents if d.key in transfers), "no transfer before its settlement"
    assert all(store.posting(key, "exact").status == "waiting" for key in waiting)

    second = PostingEngine(store, ExactAdapter(client, load_default_config())).post(ordered)
    assert not second.failed and not second.dead_lettered and not second.waiting
    if path:  # the entry was made before the connection dropped: found by its key, not posted again
        assert set(second.found_in_ledger) == {crashed} and set(second.posted) == waiting
    else:  # only the customer was made: the lookup finds nothing, the document posts, the customer is reused
        assert second.found_in_ledger == {} and set(second.posted) == {crashed} | waiting
    state = exact_state(sandbox)
    assert all(count(sandbox, d) == [1] * len(WHERE[d.kind]) for d in documents)
    assert len([a for a in state.accounts if a["Code"].strip() == "WALMART-MKT"]) == 1
    assert state.gl_balance("1250") == 0


def test_an_unknown_gl_account_is_dead_lettered_and_the_rest_posts(sandbox, client, store):
    documents, _ = summary_documents(sandbox)
    bad = next(d for d in documents if d.kind == "sales_invoice")
    lines = list(bad.lines)
    lines[0] = {**lines[0], "account": "9999"}
    documents = [dataclasses.replace(d, lines=tuple(lines)) if d.key == bad.key else d for d in documents]

    report = PostingEngine(store, ExactAdapter(client, load_default_config())).post(in_posting_order(documents))

    assert set(report.dead_lettered) == {bad.key}
    reason = report.dead_lettered[bad.key]
    assert "G/L account 9999 (line 1)" in reason and "does not exist in Exact" in reason
    assert exact_state(sandbox).count_by_your_ref("SalesEntries", bad.key) == 0
    its_payment = next(d.key for d in documents if d.header.get("related_key") == bad.key)
    transfer = next(d.key for d in documents if d.kind == "transfer"
                    and d.header["settlement_key"] == bad.header["settlement_key"])
    assert set(report.waiting) == {its_payment, transfer}  # wait for the invoice, are not rejected
    others = {d.key for d in documents} - {bad.key, its_payment, transfer}
    assert set(report.posted) == others
    assert [(dl.record_key, dl.source) for dl in store.dead_letters()] == [(bad.key, "posting:exact")]


def test_a_400_from_exact_is_dead_lettered_with_exacts_message(sandbox, client, store):
    documents, _ = summary_documents(sandbox)
    invoices = [d for d in documents if d.kind == "sales_invoice"]
    bad = invoices[-1]
    lines = tuple({**ln, "tax_code": "ZZ"} if i == 0 else ln for i, ln in enumerate(bad.lines))
    documents = [dataclasses.replace(d, lines=lines) if d.key == bad.key else d for d in invoices]

    report = PostingEngine(store, ExactAdapter(client, load_default_config())).post(documents)

    assert set(report.dead_lettered) == {bad.key}
    assert "VATCode: VAT code 'ZZ' does not exist" in report.dead_lettered[bad.key]
    assert set(report.posted) == {d.key for d in invoices} - {bad.key}


# ------------------------------------------------------------------------------------------------
# per order: customers, credit notes, refunds, fee bills
# ------------------------------------------------------------------------------------------------


def _per_order_subset(sandbox) -> list[LedgerDocument]:
    """A few fully paid orders, one refunded credit note, and one fee bill: each pair nets on its own."""
    o = sandbox.options
    documents = _per_order_documents(o.seed, o.seller_start, o.seller_days)
    by_key = {d.key: d for d in documents}
    payments = [d for d in documents if d.kind == "payment"]
    paid_in_full = [p for p in payments if p.total_cents > 0 and p.header["related_key"] in by_key
                    and by_key[p.header["related_key"]].total_cents == p.total_cents]
    refunded = [p for p in payments if p.total_cents < 0 and p.header["related_key"] in by_key
                and by_key[p.header["related_key"]].total_cents == -p.total_cents]
    chosen = paid_in_full[:3] + refunded[:1]
    assert len(chosen) == 4
    fee_bill = next(d for d in documents if d.kind == "fee_bill")
    return [by_key[p.header["related_key"]] for p in chosen] + chosen + [fee_bill]


def test_per_order_customers_credit_notes_and_fee_bills(sandbox, client, store):
    documents = _per_order_subset(sandbox)
    config = parse_config(_mapping(posting_mode="per_order"))
    state = exact_state(sandbox)

    report = PostingEngine(store, ExactAdapter(client, config)).post(in_posting_order(documents))

    assert set(report.posted) == {d.key for d in documents}, (report.dead_lettered, report.waiting)
    assert all(count(sandbox, d) == [1] * len(WHERE[d.kind]) for d in documents)
    # customers: Walmart's 20-character keys become 18-character Exact codes, one account per customer
    invoices = [d for d in documents if d.kind in ("sales_invoice", "credit_note")]
    codes = {exact_account_code(d.header["contact_key"]) for d in invoices}
    accounts = {a["Code"].strip(): a for a in state.accounts}
    assert codes <= set(accounts) and all(len(c) <= 18 for c in codes)
    entries = {e["YourRef"]: e for e in state.sales_entries}
    for invoice in invoices:
        entry = entries[invoice.key]
        assert entry["Customer"] == accounts[exact_account_code(invoice.header["contact_key"])]["ID"]
        sign = -1 if invoice.kind == "credit_note" else 1
        assert entry["Type"] == (21 if invoice.kind == "credit_note" else 20)
        assert entry["AmountFC"] == money(sign * invoice.total_cents)
        if invoice.kind == "credit_note":  # YourRef is the key; the description names the invoice it reverses
            assert f"reversing {invoice.header['related_key']}:" in entry["Description"]
    assert state.gl_balance("1300") == 0  # each invoice paid, the credit note refunded, all matched by OurRef
    # the fee bill: a purchase entry to the Walmart supplier, paid out of the clearing account
    fee_bill = documents[-1]
    (bill,) = state.purchase_entries
    assert bill["YourRef"] == fee_bill.key and bill["AmountFC"] == money(fee_bill.total_cents)
    assert accounts["WALMART-FEES"]["ID"] == bill["Supplier"]
    assert state.gl_balance("1600") == 0
    lines = {ln["Description"]: ln for e in state.bank_entries for ln in e["BankEntryLines"]}
    assert lines[fee_bill.key]["AmountFC"] == -money(fee_bill.total_cents)
    assert lines[fee_bill.key]["OurRef"] == bill["InvoiceNumber"]
    expected_clearing = sum(d.total_cents for d in documents if d.kind == "payment") - fee_bill.total_cents
    assert state.gl_balance("1250") == money(expected_clearing)

    before = len(state.accounts), posts(sandbox)
    again = PostingEngine(store, ExactAdapter(client, config)).post(in_posting_order(documents))
    assert again.posted == {} and (len(state.accounts), posts(sandbox)) == before


def test_a_fee_bill_whose_payment_was_lost_is_finished_not_repeated(sandbox, client, store):
    fee_bill = _per_order_subset(sandbox)[-1]
    config = parse_config(_mapping(posting_mode="per_order"))
    sandbox.options.faults.add("exact", "drop_after_commit", method="POST",
                               path_prefix=f"/api/v1/{client.division}/purchaseentry/PurchaseEntries")

    first = PostingEngine(store, ExactAdapter(client, config)).post([fee_bill])
    assert set(first.failed) == {fee_bill.key}
    state = exact_state(sandbox)
    assert count(sandbox, fee_bill) == [1, 0]  # the bill is there, its payment is not

    second = PostingEngine(store, ExactAdapter(client, config)).post([fee_bill])
    # half-posted is not "found": the adapter finishes it, reusing the purchase entry
    assert set(second.posted) == {fee_bill.key} and second.found_in_ledger == {}
    assert second.posted[fee_bill.key] == state.purchase_entries[0]["EntryID"]
    assert count(sandbox, fee_bill) == [1, 1]
    assert state.gl_balance("1600") == 0


# ------------------------------------------------------------------------------------------------
# stock-tracked items: sales invoices with items
# ------------------------------------------------------------------------------------------------


def _item_invoice(key: str, item_code: str | None, quantity: int = 3, amount_cents: int = 5997,
                  charges: bool = False) -> LedgerDocument:
    header = {"ledger": "exact", "document_key": key, "document_kind": "sales_invoice", "document_date": "2026-10-15",
              "currency": "USD", "contact_key": "WALMART-MKT", "contact_name": "Walmart Marketplace Customers",
              "contact_email": None, "related_key": None, "source_ids": key, "exchange_rate": None}
    line = {"line_no": 1, "category": "product", "description": "Widget", "sku": item_code, "item_code": item_code,
            "quantity": quantity, "account": "8000", "counter_account": None, "tax_code": "0",
            "amount_cents": amount_cents, "tax_cents": 0, "cost_center": "WM", "tracking_option": "Walmart"}
    lines = [line]
    if charges:  # shipping and facilitator tax: no product, so no item of their own
        lines += [{**line, "line_no": 2, "category": "shipping", "description": "Shipping: Widget", "item_code": None,
                   "quantity": 1, "account": "8010", "amount_cents": 599},
                  {**line, "line_no": 3, "category": "facilitator_tax", "description": "Marketplace facilitator tax (TX)",
                   "sku": None, "item_code": None, "quantity": 1, "account": "1650", "amount_cents": 544,
                   "cost_center": None}]
    return LedgerDocument(key=key, kind="sales_invoice", ledger="exact", header=header, lines=tuple(lines))


def test_stock_tracked_items_need_a_charge_item_for_lines_that_are_not_products():
    with pytest.raises(ValueError, match="charge_item"):
        parse_config(_mapping(stock_tracked_items=True, charge_item=None))


def test_stock_tracked_items_post_processed_sales_invoices(sandbox, client, store):
    config = parse_config(_mapping(stock_tracked_items=True))
    sku = seller_of(sandbox).skus[0].sku
    good, no_item, unknown = (_item_invoice("WM-1001", sku, charges=True), _item_invoice("WM-1002", None),
                              _item_invoice("WM-1003", "NO-SUCH-SKU"))
    state = exact_state(sandbox)

    report = PostingEngine(store, ExactAdapter(client, config)).post([good, no_item, unknown])

    assert set(report.posted) == {"WM-1001"}
    assert "needs an Exact item" in report.dead_lettered["WM-1002"]
    assert "item NO-SUCH-SKU does not exist in Exact" in report.dead_lettered["WM-1003"]
    (invoice,) = state.sales_invoices
    assert (invoice["YourRef"], invoice["Type"], invoice["Status"]) == ("WM-1001", 8020, 50)
    assert invoice["AmountFC"] == Decimal("71.40")
    lines = [(ln["ItemCode"], ln["Quantity"], ln["CostCenter"]) for ln in invoice["SalesInvoiceLines"]]
    # only the product moves stock: shipping and facilitator tax are on the non-stock charge item
    assert lines == [(sku, 3, "WM"), ("WM-CHARGES", 1, "WM"), ("WM-CHARGES", 1, None)]
    assert ExactAdapter(client, config).find_posted([good]) == {"WM-1001": invoice["InvoiceID"]}
    assert state.sales_entries == []


# ------------------------------------------------------------------------------------------------
# account codes
# ------------------------------------------------------------------------------------------------


def test_exact_account_codes_fit_in_18_characters_and_are_stable():
    assert exact_account_code("WALMART-MKT") == "WALMART-MKT"
    assert exact_account_code("WMC-5d7bc7cd4a95a65f") == "WM5d7bc7cd4a95a65f"
    long_key = "some-other-very-long-contact-key"
    assert exact_account_code(long_key) == exact_account_code(long_key)
    assert len(exact_account_code(long_key)) == 18 and exact_account_code(long_key).startswith("WM")


def test_a_foreign_currency_transfer_carries_its_recorded_base_amount():
    """Bank entries take no rate: each line says in AmountDC what the document recorded in the base currency."""
    created = []

    class Recording:  # the two calls a transfer makes, answered as Exact answers them
        division = 1

        def query(self, resource, **_):
            if resource.endswith("Journals"):
                return [{"Code": "21", "Type": 12, "GLAccountCode": "1250", "Description": "Walmart clearing"}]
            return [{"ID": "gl-1100", "Code": "1100", "Type": 12, "IsBlocked": False, "Description": "Bank"}]

        def create(self, resource, body):
            created.append((resource, body))
            return {"EntryID": "e-1"}

    config = parse_config({**_mapping(base_currency="EUR"), "rates": {"source": "fixed", "fixed": {"EUR": "0.92"}}})
    header = {"ledger": "exact", "document_key": "WM-SET-20261002-10032026-XFER", "document_kind": "transfer",
              "document_date": "2026-10-05", "currency": "USD", "exchange_rate": "0.92", "rate_source": "fixed",
              "related_key": None, "source_ids": "10032026"}
    line = {"line_no": 1, "category": "transfer", "description": "payout", "quantity": 1, "account": "1100",
            "counter_account": "1250", "tax_code": "0", "amount_cents": 10_000_000, "tax_cents": 0,
            "base_amount_cents": 9_200_000}
    document = LedgerDocument(key=header["document_key"], kind="transfer", ledger="exact", header=header, lines=(line,))
    ExactAdapter(Recording(), config)._post_transfer(document)
    [(resource, body)] = created
    assert resource.endswith("BankEntries")
    [posted] = body["BankEntryLines"]
    assert (posted["AmountFC"], posted["AmountDC"]) == (Decimal("-100000.00"), Decimal("-92000.00"))
    unconverted = LedgerDocument(key=document.key, kind="transfer", ledger="exact", header=header,
                                 lines=({**line, "base_amount_cents": None},))
    with pytest.raises(Exception, match="base amounts"):
        ExactAdapter(Recording(), config)._post_transfer(unconverted)


def test_a_foreign_currency_entry_line_states_base_amounts_that_add_up_to_the_recorded_one():
    # 0.01 + 0.01 VAT at 0.5: Exact rounding each apart would book 0.01 + 0.01, the document recorded 0.01
    config = parse_config({**_mapping(base_currency="EUR"), "rates": {"source": "fixed", "fixed": {"EUR": "0.5"}}})
    header = {"document_key": "WM-1", "currency": "USD", "exchange_rate": "0.5"}
    document = LedgerDocument(key="WM-1", kind="sales_invoice", ledger="exact", header=header, lines=())
    line = {"amount_cents": 1, "tax_cents": 1, "base_amount_cents": 1}
    amounts = ExactAdapter(None, config)._base_amounts(document, line)
    assert amounts == {"AmountDC": Decimal("0.01"), "VATAmountDC": Decimal("0.00")}
    assert ExactAdapter(None, config)._base_amounts(LedgerDocument(
        key="WM-2", kind="sales_invoice", ledger="exact", header={"currency": "USD"}, lines=()), line) == {}
