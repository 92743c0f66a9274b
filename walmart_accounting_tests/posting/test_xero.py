"""The Xero adapter through the posting engine, over real HTTP against the Xero sandbox: a settlement's
worth of documents posted exactly once, the clearing account netting to zero, crashes and dropped
responses resolved by looking in Xero, and per-document rejections dead-lettered while the rest posts."""

from __future__ import annotations

import copy
import dataclasses
import json
from decimal import Decimal

import pytest
import requests
from cryptography.fernet import Fernet

from walmart_accounting.cli.connect import connect_flow
from walmart_accounting.connectors.http import RetryPolicy
from walmart_accounting.connectors.tokens import MemoryTokenStore
from walmart_accounting.connectors.xero import XeroClient
from walmart_accounting.domain.config import load_default_config, parse_config
from walmart_accounting.posting.documents import LedgerDocument, documents_from_frame
from walmart_accounting.posting.engine import PostingEngine
from walmart_accounting.posting.xero import XeroAdapter, xero_currency_rate
from walmart_accounting.sandbox.seller import SyntheticSeller
from walmart_accounting.sandbox.server import SandboxOptions, SandboxServer
from walmart_accounting.store.store import Store
from walmart_accounting.transform import documents as transform
from walmart_accounting.transform.walmart import order_frames, return_frame, return_order_map, settlement_frame

FAST = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.02)
CONFIG = load_default_config()
INVOICES_PATH = "/api/api.xro/2.0/Invoices"
PAYMENTS_PATH = "/api/api.xro/2.0/Payments"


# ------------------------------------------------------------------------------------------------
# documents from the synthetic seller
# ------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class World:
    invoices: dict[str, LedgerDocument]
    credit_notes: dict[str, LedgerDocument]
    settlements: dict[str, list[LedgerDocument]]  # report date -> payments, fee bill, transfer
    payouts: dict[str, int]

    def settlement(self, report: str) -> dict[str, list[LedgerDocument]]:
        """One settlement's worth: the invoices and credit notes it pays, and its own documents."""
        docs = self.settlements[report]
        pays = [d for d in docs if d.kind == "payment"]
        related = [d.header["related_key"] for d in pays]
        return {
            "sales_invoice": [self.invoices[k] for k in related if k in self.invoices],
            "credit_note": [self.credit_notes[k] for k in related if k in self.credit_notes],
            "payment": pays,
            "fee_bill": [d for d in docs if d.kind == "fee_bill"],
            "transfer": [d for d in docs if d.kind == "transfer"],
        }


@pytest.fixture(scope="module")
def world() -> World:
    seller = SyntheticSeller(seed=7)
    lines, refunds = order_frames(seller.orders)
    returns = return_frame(seller.returns)
    invoices = transform.sales_invoices(lines.valid, CONFIG, "xero")
    credits = transform.credit_notes(returns.valid, refunds.valid, lines.valid, CONFIG, "xero")
    assert invoices.rejects.empty and credits.rejects.empty
    mapping = return_order_map(refunds.valid, returns.valid)
    settlements, payouts = {}, {}
    for settlement in seller.settlements:
        frame = settlement_frame(settlement.report_date, settlement.rows, mapping)
        result = transform.settlement_documents(frame.valid, CONFIG, "xero", refunds.valid)
        assert result.rejects.empty
        settlements[settlement.report_date] = documents_from_frame(result.documents)
        payouts[settlement.report_date] = settlement.total_payable_cents
    return World({d.key: d for d in documents_from_frame(invoices.documents)},
                 {d.key: d for d in documents_from_frame(credits.documents)}, settlements, payouts)


# ------------------------------------------------------------------------------------------------
# sandbox, client, store, engine
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def sandbox():
    server = SandboxServer(SandboxOptions(seed=11))
    with server:
        yield server


def connected_xero_client(sandbox) -> XeroClient:
    """A Xero client on the sandbox's clock, consent given, with fast retries."""
    env, options = sandbox.env(), sandbox.options
    xero = XeroClient(env["XERO_CLIENT_ID"], env["XERO_CLIENT_SECRET"], MemoryTokenStore(),
                      api_url=env["XERO_API_URL"], identity_url=env["XERO_IDENTITY_URL"],
                      authorize_url=env["XERO_AUTHORIZE_URL"], clock=options.clock.now, sleep=options.clock.advance,
                      retry=FAST)
    connect_flow(xero, 0, lambda url: requests.get(url, timeout=10), timeout_s=10)
    return xero


@pytest.fixture
def client(sandbox) -> XeroClient:
    return connected_xero_client(sandbox)


@pytest.fixture
def store(tmp_path, monkeypatch) -> Store:
    monkeypatch.setenv("WALMART_ACCOUNTING_SECRET_KEY", Fernet.generate_key().decode())
    opened = Store.open(f"sqlite:///{tmp_path}/s.sqlite", migrate=True)
    yield opened
    opened.dispose()


@pytest.fixture
def adapter(client) -> XeroAdapter:
    return XeroAdapter(client, CONFIG)


@pytest.fixture
def engine(store, adapter) -> PostingEngine:
    return PostingEngine(store, adapter)


def xero_writes(sandbox) -> int:
    return sum(n for (api, method, path), n in sandbox.options.requests.counts.items()
               if api == "xero" and method in ("PUT", "POST") and "/api.xro/" in path)


def money(cents: int) -> Decimal:
    return Decimal(cents) / 100


def count(state, kind: str, key: str) -> int:
    return state.count_by_reference(kind, key)


def mark_crashed(store: Store, documents: list[LedgerDocument]) -> None:
    """What a worker that died after its post reached Xero leaves behind: a failed claim, outcome unknown."""
    for document in documents:
        claim = store.claim_posting(document.key, "xero", document.kind, document.payload_hash)
        store.record_failed(claim, "worker died mid-post", outcome_unknown=True)


def with_lines(document: LedgerDocument, *lines: dict, **header) -> LedgerDocument:
    return dataclasses.replace(document, lines=tuple(lines) or document.lines, header={**document.header, **header})


# ------------------------------------------------------------------------------------------------
# a settlement end to end
# ------------------------------------------------------------------------------------------------


def test_a_settlement_posts_exactly_once_and_the_clearing_account_nets_to_zero(world, sandbox, engine):
    report = "10032026"  # the second settlement: order payments, refunds of credit notes, fees, payout
    docs = world.settlement(report)
    assert docs["credit_note"] and any(d.lines[0]["category"] == "refund" for d in docs["payment"])
    state = sandbox.app.state.xero
    before_transfer = docs["sales_invoice"] + docs["credit_note"] + docs["payment"] + docs["fee_bill"]

    first = engine.post(before_transfer)
    assert first.dead_lettered == {} and first.waiting == {} and first.failed == {}
    assert set(first.posted) == {d.key for d in before_transfer}
    # Before the transfer the clearing account holds exactly the payout: paid orders - refunds - fees.
    assert state.account_balance("1250") == money(world.payouts[report])

    transfer = engine.post(docs["transfer"])
    assert set(transfer.posted) == {docs["transfer"][0].key}
    # Invariant 3 of ACCOUNTING.md: once the transfer is posted the clearing account nets to zero,
    # and the bank received the payout.
    assert state.account_balance("1250") == Decimal("0.00")
    assert state.account_balance("1000") == money(world.payouts[report])

    # Each document exactly once, under its key.
    for document in docs["sales_invoice"] + docs["fee_bill"]:
        assert count(state, "invoices", document.key) == 1, document.key
    for document in docs["credit_note"]:
        assert count(state, "credit_notes", document.key) == 1, document.key
    for document in docs["payment"]:
        assert count(state, "payments", document.key) == 1, document.key
    assert count(state, "payments", docs["fee_bill"][0].key + "-PAY") == 1
    assert count(state, "bank_transfers", docs["transfer"][0].key) == 1

    # Amounts to the cent: every invoice's Xero total is the document's, and every paid one is PAID.
    by_number = {i["InvoiceNumber"]: i for i in state.invoices.values()}
    for document in docs["sales_invoice"]:
        invoice = by_number[document.key]
        assert invoice["Total"] == money(document.total_cents) and invoice["Type"] == "ACCREC"
        assert invoice["Status"] == "PAID" and invoice["Reference"] == document.key
    bill = by_number[docs["fee_bill"][0].key]
    assert bill["Type"] == "ACCPAY" and bill["Total"] == money(docs["fee_bill"][0].total_cents)
    assert bill["Status"] == "PAID"
    credit_numbers = {c["CreditNoteNumber"]: c for c in state.credit_notes.values()}
    for document in docs["credit_note"]:
        credit = credit_numbers[document.key]
        invoice = by_number.get(document.header["related_key"])
        if invoice is not None:  # same contact as its invoice
            assert credit["ContactID"] == invoice["ContactID"]
    # per_customer contacts: one per customer key, names unique
    numbers = [c.get("ContactNumber") for c in state.contacts.values()]
    assert len(numbers) == len(set(numbers))
    names = [c["Name"].lower() for c in state.contacts.values()]
    assert len(names) == len(set(names))

    # A second pass posts nothing new and writes nothing to Xero.
    writes = xero_writes(sandbox)
    again = engine.post(before_transfer + docs["transfer"])
    assert again.counts()["posted"] == 0 and again.counts()["found_in_ledger"] == 0
    assert set(again.already_posted) == {d.key for d in before_transfer + docs["transfer"]}
    assert xero_writes(sandbox) == writes
    assert state.account_balance("1250") == Decimal("0.00")


# ------------------------------------------------------------------------------------------------
# unknown outcomes
# ------------------------------------------------------------------------------------------------


def test_a_dropped_response_is_found_in_xero_and_never_posted_twice(world, sandbox, engine):
    state = sandbox.app.state.xero
    invoices = list(world.invoices.values())[:12]
    # Every attempt (the client's retries included) commits in Xero, then loses the answer.
    sandbox.options.faults.add("xero", "drop_after_commit", method="PUT", path_prefix=INVOICES_PATH, times=10)

    first = engine.post(invoices)
    assert set(first.failed) == {d.key for d in invoices} and not first.posted
    assert all(count(state, "invoices", d.key) == 1 for d in invoices)  # they did reach Xero

    sandbox.options.faults.clear()
    second = engine.post(invoices)
    assert set(second.found_in_ledger) == {d.key for d in invoices} and not second.posted
    ids = {i["InvoiceNumber"]: i["InvoiceID"] for i in state.invoices.values()}
    assert second.found_in_ledger == {d.key: ids[d.key] for d in invoices}
    assert all(count(state, "invoices", d.key) == 1 for d in invoices)
    assert set(engine.post(invoices).already_posted) == {d.key for d in invoices}


def test_after_a_crash_every_kind_is_found_by_its_key(world, sandbox, store, adapter, engine):
    state = sandbox.app.state.xero
    docs = world.settlement("10032026")
    refunds = [d for d in docs["payment"] if d.lines[0]["category"] == "refund"][:2]
    credits = [world.credit_notes[d.header["related_key"]] for d in refunds]
    payments = [d for d in docs["payment"] if d.lines[0]["category"] == "payment"][:3]
    invoices = [world.invoices[d.header["related_key"]] for d in payments]
    groups = [invoices, credits, payments + refunds, docs["fee_bill"], docs["transfer"]]
    everything = [d for group in groups for d in group]
    # A worker posted all of it, then died before recording anything.
    for group in groups:
        assert all(r.ok for r in adapter.post_batch(group))
    mark_crashed(store, everything)

    writes = xero_writes(sandbox)
    report = engine.post(everything)
    assert set(report.found_in_ledger) == {d.key for d in everything}
    assert not report.posted and not report.dead_lettered
    assert xero_writes(sandbox) == writes  # looked up, nothing created again
    for document in invoices + docs["fee_bill"]:
        assert count(state, "invoices", document.key) == 1
    for document in credits:
        assert count(state, "credit_notes", document.key) == 1
    for document in payments + refunds:
        assert count(state, "payments", document.key) == 1
    assert count(state, "payments", docs["fee_bill"][0].key + "-PAY") == 1
    assert count(state, "bank_transfers", docs["transfer"][0].key) == 1


def test_a_bill_whose_payment_failed_is_reused_and_paid_once(world, sandbox, engine):
    state = sandbox.app.state.xero
    bill = world.settlement("09192026")["fee_bill"][0]
    sandbox.options.faults.add("xero", "status_503", method="PUT", path_prefix=PAYMENTS_PATH, times=10)

    first = engine.post([bill])
    assert set(first.failed) == {bill.key}  # the bill is in Xero, unpaid; the outcome is unknown
    assert count(state, "invoices", bill.key) == 1 and count(state, "payments", bill.key + "-PAY") == 0

    sandbox.options.faults.clear()
    second = engine.post([bill])  # not "found": an unpaid bill is not finished; the same bill gets paid
    assert set(second.posted) == {bill.key}
    assert count(state, "invoices", bill.key) == 1 and count(state, "payments", bill.key + "-PAY") == 1
    stored = next(i for i in state.invoices.values() if i["InvoiceNumber"] == bill.key)
    assert second.posted[bill.key] == stored["InvoiceID"] and stored["Status"] == "PAID"
    assert state.account_balance("1250") == -money(bill.total_cents)


# ------------------------------------------------------------------------------------------------
# rejections, waiting, special cases
# ------------------------------------------------------------------------------------------------


def test_an_unknown_account_is_dead_lettered_with_xeros_message_while_the_batch_posts(world, sandbox, store, engine):
    state = sandbox.app.state.xero
    invoices = list(world.invoices.values())[20:26]
    bad = invoices[2]
    broken = with_lines(bad, {**bad.lines[0], "account": "9999"}, *bad.lines[1:])
    batch = invoices[:2] + [broken] + invoices[3:]

    report = engine.post(batch)
    assert set(report.dead_lettered) == {bad.key}
    assert "Account code '9999' is not a valid code" in report.dead_lettered[bad.key]
    assert set(report.posted) == {d.key for d in batch if d.key != bad.key}
    assert count(state, "invoices", bad.key) == 0
    letters = [dl for dl in store.dead_letters() if dl.record_key == bad.key]
    assert letters and "9999" in letters[0].reason


def test_a_payment_waits_for_its_invoice(world, sandbox, engine):
    state = sandbox.app.state.xero
    payments = [d for d in world.settlements["09192026"] if d.kind == "payment"][:3]
    invoices = [world.invoices[d.header["related_key"]] for d in payments]

    early = engine.post(payments)
    assert set(early.waiting) == {d.key for d in payments} and not early.dead_lettered
    assert "not in Xero yet" in early.waiting[payments[0].key]
    assert all(count(state, "payments", d.key) == 0 for d in payments)

    engine.post(invoices)
    later = engine.post(payments)
    assert set(later.posted) == {d.key for d in payments}
    assert state.account_balance("1250") == money(sum(d.lines[0]["amount_cents"] for d in payments))


def test_a_negative_fee_bill_is_a_supplier_credit_refunded_into_clearing(world, sandbox, engine):
    state = sandbox.app.state.xero
    bill = world.settlement("09192026")["fee_bill"][0]
    line = dict(bill.lines[0])
    reimbursement = {**line, "line_no": 2, "description": "WFS lost inventory reimbursement", "account": "6020",
                     "amount_cents": -2500}
    negative = with_lines(bill, {**line, "amount_cents": 1000}, reimbursement)
    assert negative.total_cents == -1500

    report = engine.post([negative])
    assert set(report.posted) == {bill.key}
    credit = next(c for c in state.credit_notes.values() if c["CreditNoteNumber"] == bill.key)
    assert credit["Type"] == "ACCPAYCREDIT" and credit["Total"] == Decimal("15.00") and credit["Status"] == "PAID"
    assert report.posted[bill.key] == credit["CreditNoteID"]
    assert count(state, "invoices", bill.key) == 0 and count(state, "payments", bill.key + "-PAY") == 1
    assert state.account_balance("1250") == Decimal("15.00")  # Walmart paid the seller
    assert set(engine.post([negative]).already_posted) == {bill.key}


def test_lines_keep_amounts_exact_and_names_are_made_unique(world, sandbox, engine):
    state = sandbox.app.state.xero
    first, second = list(world.invoices.values())[40:42]
    line = {**first.lines[0], "quantity": 3, "amount_cents": 1000, "tax_cents": 115, "tax_code": "TAX001",
            "description": "Three mugs", "item_code": "WM-SKU-0001"}
    even = {**first.lines[0], "line_no": 2, "quantity": 2, "amount_cents": 1998, "tax_cents": 0,
            "description": "Two bowls", "tracking_category": "Sales Channel", "tracking_option": "Walmart"}
    odd = with_lines(first, line, even, contact_name="Pat Lee")
    twin = with_lines(second, contact_name="Pat Lee")  # another customer with the same name
    assert odd.header["contact_key"] != twin.header["contact_key"]

    report = engine.post([odd, twin])
    assert set(report.posted) == {odd.key, twin.key}
    invoice = next(i for i in state.invoices.values() if i["InvoiceNumber"] == odd.key)
    lines = invoice["LineItems"]
    # 10.00 for 3 is not a whole number of cents: one unit of the line total, the quantity in the text
    assert (lines[0]["Quantity"], lines[0]["UnitAmount"], lines[0]["LineAmount"]) == (1, Decimal("10"), Decimal("10"))
    assert "(quantity 3)" in lines[0]["Description"] and lines[0]["ItemCode"] == "WM-SKU-0001"
    assert lines[0]["TaxAmount"] == Decimal("1.15") and lines[0]["TaxType"] == "TAX001"  # not recomputed (11.5 %)
    assert (lines[1]["Quantity"], lines[1]["UnitAmount"], lines[1]["LineAmount"]) == (2, Decimal("9.99"),
                                                                                      Decimal("19.98"))
    assert lines[1]["Tracking"][0]["Option"] == "Walmart"
    assert invoice["Total"] == money(odd.total_cents)
    names = {c["ContactNumber"]: c["Name"] for c in state.contacts.values() if c.get("ContactNumber")}
    assert names[odd.header["contact_key"]] == "Pat Lee"
    assert names[twin.header["contact_key"]] == f"Pat Lee ({twin.header['contact_key']})"


def test_the_marketplace_strategy_books_every_customer_to_one_contact(world, sandbox, store, client):
    data = copy.deepcopy(CONFIG.model_dump(mode="json"))
    data["contacts"]["strategy"] = "marketplace"
    config = parse_config(data)
    engine = PostingEngine(store, XeroAdapter(client, config))
    invoices = list(world.invoices.values())[50:55]
    assert len({d.header["contact_key"] for d in invoices}) > 1

    report = engine.post(invoices)
    assert set(report.posted) == {d.key for d in invoices}
    state = sandbox.app.state.xero
    contacts = {i["ContactID"] for i in state.invoices.values()}
    assert len(contacts) == 1
    contact = state.contacts[contacts.pop()]
    assert (contact["ContactNumber"], contact["Name"]) == ("WALMART-MKT", "Walmart Marketplace Customers")


@pytest.mark.parametrize("allocate", [False, True])
def test_credit_notes_are_allocated_only_on_request(world, sandbox, store, client, allocate):
    """A return refunded in the settlement that also pays its order: the settlement pays the invoice in full
    and refunds the credit note, so allocating the credit note too would make both payments overpay."""
    state = sandbox.app.state.xero
    payments = world.settlements["10032026"]
    paid = {d.header["related_key"]: d for d in payments if d.kind == "payment"}
    refund = next(d for d in paid.values() if d.header["related_key"] in world.credit_notes
                  and world.credit_notes[d.header["related_key"]].header["related_key"] in paid)
    credit = world.credit_notes[refund.header["related_key"]]
    invoice = world.invoices[credit.header["related_key"]]
    sale = paid[invoice.key]
    engine = PostingEngine(store, XeroAdapter(client, CONFIG, allocate_credit_notes=allocate))

    report = engine.post([invoice, credit, sale, refund])
    stored = next(i for i in state.invoices.values() if i["InvoiceNumber"] == invoice.key)
    # the credit note is found by its number and names the invoice it reverses, for an analyst to follow
    note = next(c for c in state.credit_notes.values() if c["CreditNoteNumber"] == credit.key)
    assert note["Reference"] == invoice.key
    if not allocate:  # the default: both payments go through the clearing account, which nets sale - refund
        assert set(report.posted) == {invoice.key, credit.key, sale.key, refund.key}
        assert stored["AmountCredited"] == 0 and stored["Status"] == "PAID"
        assert state.account_balance("1250") == money(sale.lines[0]["amount_cents"] + refund.lines[0]["amount_cents"])
    else:  # allocated while the invoice was unpaid: Xero then refuses the settlement's two payments
        assert stored["AmountCredited"] == money(min(credit.total_cents, invoice.total_cents))
        assert set(report.dead_lettered) == {sale.key, refund.key}
        assert "exceeds the amount outstanding" in report.dead_lettered[sale.key]


def test_payloads_carry_decimals_never_floats():
    assert xero_currency_rate(None) is None
    assert xero_currency_rate("0.8") == Decimal("1.250000")
    adapter = XeroAdapter(client=None, config=CONFIG)  # payload building needs no connection
    item = adapter._line({"line_no": 1, "description": "x", "quantity": 4, "amount_cents": -1000, "tax_cents": 0,
                          "account": "4020", "tax_code": "NONE"}, "USD")
    assert item["Quantity"] == 4 and item["UnitAmount"] == Decimal("-2.50") and item["LineAmount"] == Decimal("-10.00")
    assert not any(isinstance(v, float) for v in item.values())


def test_two_runs_posting_the_same_settlement_at_once_post_each_document_once(world, sandbox, store, client):
    import threading

    report = sorted(world.settlements)[0]
    parts = world.settlement(report)
    documents = [d for kind in ("sales_invoice", "credit_note", "fee_bill", "payment", "transfer") for d in parts[kind]]
    barrier, reports, errors = threading.Barrier(2), [], []

    def run():
        barrier.wait()
        try:
            reports.append(PostingEngine(store, XeroAdapter(client, CONFIG)).post(documents))
        except Exception as exc:  # asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # whatever one run skipped as in flight elsewhere, a later pass completes; nothing is ever doubled
    PostingEngine(store, XeroAdapter(client, CONFIG)).post(documents)
    state = sandbox.app.state.xero
    for d in documents:
        kind = {"sales_invoice": "invoices", "credit_note": "credit_notes", "payment": "payments",
                "fee_bill": "invoices", "transfer": "bank_transfers"}[d.kind]
        assert count(state, kind, d.key) == 1, d.key
    assert state.account_balance("1250") == 0


def test_a_negative_settlement_summary_is_a_credit_note_refunded_from_clearing(sandbox, store, client):
    """A payout below zero (fees and a chargeback above the period's sales) posts in full and clearing nets."""
    from walmart_accounting_tests.transform.documents.builders import settlement, srow

    rows = settlement([
        srow("Sale", 1000, "Product Price", "Purchase", po="6000030", line="1", state="TX"),
        srow("Sale", -150, "Commission on Product", "Purchase", po="6000030", line="1", state="TX"),
        srow("Service Fee", -12000, "SEM Marketing Fee", "Walmart Product Advertising"),
        srow("Dispute Settlement", -1500, None, "Chargeback"),
    ])
    result = transform.settlement_summary(rows, CONFIG, "xero")
    assert result.rejects.empty
    documents = documents_from_frame(result.documents)
    (summary,) = [d for d in documents if d.kind == "sales_invoice"]
    assert summary.total_cents == -12650
    engine = PostingEngine(store, XeroAdapter(client, CONFIG))

    report = engine.post(documents)
    assert set(report.posted) == {d.key for d in documents}, (report.dead_lettered, report.waiting)
    state = sandbox.app.state.xero
    credit = next(c for c in state.credit_notes.values() if c["CreditNoteNumber"] == summary.key)
    assert credit["Type"] == "ACCRECCREDIT" and credit["Total"] == Decimal("126.50") and credit["Status"] == "PAID"
    assert count(state, "invoices", summary.key) == 0
    assert state.account_balance("1250") == 0  # the refund and the transfer from the bank net the clearing account
    # the fees reach the P&L: on a credit note a positive line debits its account (an expense, here)
    lines = {ln["AccountCode"]: ln["LineAmount"] for ln in credit["LineItems"]}
    assert lines == {"4000": Decimal("-10.00"), "6000": Decimal("1.50"), "6030": Decimal("120.00"),
                     "6090": Decimal("15.00")}
    assert set(engine.post(documents).already_posted) == {d.key for d in documents}


def test_with_rates_from_the_ledger_xero_applies_its_daily_rate_and_the_rate_used_is_recorded(sandbox, store, client):
    state = sandbox.app.state.xero
    state.base_currency, state.currencies = "EUR", {"EUR", "USD"}  # a euro organisation selling on Walmart US
    state.fx_rates["USD"] = Decimal("1.090000")  # Xero's daily rate: USD per EUR
    data = load_default_config().model_dump(mode="json")
    data["rates"] = {"source": "ledger"}
    data["ledgers"]["xero"]["base_currency"] = "EUR"
    data["ledgers"]["exact"]["enabled"] = False  # Exact needs fixed rates (its bank entries take none)
    config = parse_config(data)
    lines = frame_of_one_invoice()
    converted = transform.convert_currency(transform.sales_invoices(lines, config, "xero").documents, config, "xero", None)
    assert converted.rejects.empty  # nothing dead-lettered for want of a rate: the ledger supplies it
    [document] = documents_from_frame(converted.documents)
    assert document.header["rate_source"] == "ledger" and document.header["exchange_rate"] is None

    report = PostingEngine(store, XeroAdapter(client, config)).post([document])
    assert set(report.posted) == {document.key}
    invoice = next(i for i in state.invoices.values() if i["InvoiceNumber"] == document.key)
    assert invoice["CurrencyCode"] == "USD" and invoice["CurrencyRate"] == Decimal("1.090000")
    [applied] = [e for e in store.audit_trail(document.key) if e.action == "rate"]
    assert json.loads(applied.detail) == {"exchange_rate": "0.9174311927", "rate_source": "ledger", "currency": "USD"}


def frame_of_one_invoice():
    from walmart_accounting.schemas.walmart import OrderLine
    from walmart_accounting_tests.transform.documents.builders import frame, order_line

    return frame(OrderLine, [order_line(po="7700001", ship_to_state="TX", product_cents=2500, product_tax_cents=206)])
