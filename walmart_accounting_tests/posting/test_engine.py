"""The exactly-once protocol on SQLite and PostgreSQL, with a ledger that can fail in every way a real one does."""

import json
import threading
import time

import pytest
from cryptography.fernet import Fernet

from walmart_accounting.connectors.errors import AuthError, ServerError, TransportError
from walmart_accounting.domain.documents import DocumentKind
from walmart_accounting.posting.documents import LedgerDocument
from walmart_accounting.posting.engine import POSTING_ORDER, PostingEngine, PostResult
from walmart_accounting.store.store import Store


class FakeLedger:
    """Holds documents by key; can commit-then-drop, reject, or be slow, and counts every create."""

    ledger = "xero"
    batch_size = 2

    def __init__(self):
        self.held: dict[str, str] = {}
        self.creates: dict[str, int] = {}
        self.reject: set[str] = set()
        self.drop_after_commit = False
        self.slow_s = 0.0
        self.lock = threading.Lock()

    def find_posted(self, documents):
        return {d.key: self.held[d.key] for d in documents if d.key in self.held}

    def post_batch(self, documents):
        time.sleep(self.slow_s)
        results = []
        with self.lock:
            for d in documents:
                if d.key in self.reject:
                    results.append(PostResult(d.key, False, error=f"Account code '9999' is not a valid code ({d.key})"))
                    continue
                if d.kind == "payment" and d.header["related_key"] not in self.held:
                    results.append(PostResult(d.key, False, error="invoice not posted yet", retry_later=True))
                    continue
                self.creates[d.key] = self.creates.get(d.key, 0) + 1
                self.held[d.key] = f"id-{d.key}"
                results.append(PostResult(d.key, True, external_id=f"id-{d.key}"))
        if self.drop_after_commit:
            raise TransportError("xero", "ChunkedEncodingError after 0.1 s", outcome_unknown=True)
        return results


def doc(key: str, kind: str = "sales_invoice", amount: int = 1999, related: str | None = None,
        settlement: str | None = None) -> LedgerDocument:
    header = {"ledger": "xero", "document_key": key, "document_kind": kind, "document_date": "2026-10-15",
              "currency": "USD", "related_key": related, "settlement_key": settlement}
    lines = ({"line_no": 1, "category": "product", "description": "Widget", "account": "4000", "tax_code": "NONE",
              "amount_cents": amount, "tax_cents": 0, "quantity": 1},)
    return LedgerDocument(key=key, kind=kind, ledger="xero", header=header, lines=lines)


@pytest.fixture
def store(database_url, monkeypatch):
    monkeypatch.setenv("WALMART_ACCOUNTING_SECRET_KEY", Fernet.generate_key().decode())
    store = Store.open(database_url, migrate=True)
    yield store
    store.dispose()


def test_posts_once_and_a_second_pass_posts_nothing(store):
    ledger = FakeLedger()
    docs = [doc(f"WM-{i}") for i in range(5)]
    first = PostingEngine(store, ledger).post(docs)
    assert len(first.posted) == 5
    second = PostingEngine(store, ledger).post(docs)
    assert second.posted == {} and len(second.already_posted) == 5
    assert set(ledger.creates.values()) == {1}
    assert [e.status for e in store.audit_trail("WM-0")] == ["attempt", "posted"]


def test_a_rejected_document_is_dead_lettered_and_its_neighbours_post(store):
    ledger = FakeLedger()
    ledger.reject.add("WM-2")
    report = PostingEngine(store, ledger).post([doc(f"WM-{i}") for i in range(4)])
    assert set(report.posted) == {"WM-0", "WM-1", "WM-3"}
    assert "not a valid code" in report.dead_lettered["WM-2"]
    letter = [d for d in store.dead_letters() if d.record_key == "WM-2"][0]
    assert letter.source == "posting:xero" and json.loads(letter.record)["header"]["document_key"] == "WM-2"
    # fixed (the ledger accepts it now) and released: the next pass posts it once
    ledger.reject.clear()
    assert store.release_for_retry("WM-2", "xero")
    again = PostingEngine(store, ledger).post([doc(f"WM-{i}") for i in range(4)])
    assert set(again.posted) == {"WM-2"} and ledger.creates["WM-2"] == 1


def test_commit_then_drop_is_resolved_by_lookup_not_reposted(store):
    ledger = FakeLedger()
    ledger.drop_after_commit = True
    docs = [doc("WM-7"), doc("WM-8")]
    first = PostingEngine(store, ledger).post(docs)
    assert set(first.failed) == {"WM-7", "WM-8"}
    ledger.drop_after_commit = False
    second = PostingEngine(store, ledger).post(docs)
    assert set(second.found_in_ledger) == {"WM-7", "WM-8"} and second.posted == {}
    assert ledger.creates == {"WM-7": 1, "WM-8": 1}


def test_a_crash_between_post_and_record_is_resolved_on_the_next_run(store):
    ledger = FakeLedger()
    claim = store.claim_posting("WM-9", "xero", "sales_invoice", doc("WM-9").payload_hash)
    ledger.held["WM-9"] = "id-WM-9"  # it reached the ledger, then the worker died before recording
    store.record_failed(claim, "worker killed", outcome_unknown=True)
    report = PostingEngine(store, ledger).post([doc("WM-9")])
    assert report.found_in_ledger == {"WM-9": "id-WM-9"} and ledger.creates == {}


def test_concurrent_runs_post_each_document_once(store):
    ledger = FakeLedger()
    ledger.slow_s = 0.2
    docs = [doc(f"WM-{i}") for i in range(6)]
    barrier = threading.Barrier(3)
    reports = []

    def run():
        barrier.wait()
        reports.append(PostingEngine(store, ledger).post(docs))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(ledger.creates.values()) == {1} and len(ledger.creates) == 6
    assert sum(len(r.posted) for r in reports) == 6


def test_a_document_changed_after_posting_is_not_reposted(store):
    ledger = FakeLedger()
    PostingEngine(store, ledger).post([doc("WM-5", amount=1999)])
    report = PostingEngine(store, ledger).post([doc("WM-5", amount=2499)])
    assert report.changed_after_posting == ["WM-5"] and ledger.creates["WM-5"] == 1
    letter = [d for d in store.dead_letters() if d.record_key == "WM-5#changed"][0]
    both = json.loads(letter.record)
    assert both["posted"]["document"]["lines"][0]["amount_cents"] == 1999
    assert both["now"]["document"]["lines"][0]["amount_cents"] == 2499


def test_a_payment_waits_for_its_invoice(store):
    ledger = FakeLedger()
    payment = doc("WM-SET-20261023-10242026-P-11", kind="payment", related="WM-11")
    first = PostingEngine(store, ledger).post([payment])
    assert "WM-SET-20261023-10242026-P-11" in first.waiting and store.dead_letters() == []
    PostingEngine(store, ledger).post([doc("WM-11")])
    second = PostingEngine(store, ledger).post([payment])
    assert list(second.posted) == ["WM-SET-20261023-10242026-P-11"]


def test_a_settlement_posts_whole_its_transfer_waits_for_its_payments(store):
    ledger = FakeLedger()
    settlement = "WM-SET-20261023-10242026"
    payments = [doc(f"{settlement}-P-{n}", kind="payment", related=f"WM-{n}", settlement=settlement) for n in (11, 12)]
    transfer = doc(f"{settlement}-XFER", kind="transfer", settlement=settlement)
    other = doc("WM-SET-20261030-10312026-XFER", kind="transfer", settlement="WM-SET-20261030-10312026")
    PostingEngine(store, ledger).post([doc("WM-11")])  # WM-12's invoice is not in the ledger yet

    first = PostingEngine(store, ledger).post([*payments, transfer, other])
    assert set(first.posted) == {payments[0].key, other.key}, "another settlement's transfer is not held up"
    assert set(first.waiting) == {payments[1].key, transfer.key}
    assert payments[1].key in first.waiting[transfer.key] and transfer.key not in ledger.creates
    assert [store.posting(k, "xero").status for k in (payments[1].key, transfer.key)] == ["waiting", "waiting"]
    assert store.dead_letters() == []

    PostingEngine(store, ledger).post([doc("WM-12")])
    second = PostingEngine(store, ledger).post([*payments, transfer, other])
    assert set(second.posted) == {payments[1].key, transfer.key} and not second.waiting
    assert ledger.creates[transfer.key] == 1


def test_a_transfer_that_reached_the_ledger_before_a_crash_is_found_not_held(store):
    ledger = FakeLedger()
    settlement = "WM-SET-20261023-10242026"
    transfer = doc(f"{settlement}-XFER", kind="transfer", settlement=settlement)
    ledger.drop_after_commit = True
    PostingEngine(store, ledger).post([transfer])  # created, then the connection dropped: outcome unknown
    ledger.drop_after_commit = False
    payment = doc(f"{settlement}-P-13", kind="payment", related="WM-13", settlement=settlement)
    report = PostingEngine(store, ledger).post([payment, transfer])
    assert set(report.found_in_ledger) == {transfer.key} and set(report.waiting) == {payment.key}
    assert ledger.creates[transfer.key] == 1


def test_server_errors_leave_the_claim_retryable_and_auth_errors_stop_the_run(store):
    class Failing(FakeLedger):
        def __init__(self, exc):
            super().__init__()
            self.exc = exc

        def post_batch(self, documents):
            raise self.exc

    report = PostingEngine(store, Failing(ServerError("xero", "boom", status=500))).post([doc("WM-30")])
    assert "WM-30" in report.failed
    with pytest.raises(AuthError):
        PostingEngine(store, Failing(AuthError("xero", "invalid_grant"))).post([doc("WM-31")])
    ok = PostingEngine(store, FakeLedger()).post([doc("WM-30"), doc("WM-31")])
    assert set(ok.posted) | set(ok.found_in_ledger) == {"WM-30", "WM-31"}


def test_invoices_are_posted_before_the_payments_that_pay_them(store):
    ledger = FakeLedger()
    payment = doc("WM-SET-20261023-10242026-P-12", kind="payment", related="WM-12")
    report = PostingEngine(store, ledger).post([payment, doc("WM-12")])  # payment key sorts first
    assert set(report.posted) == {"WM-12", "WM-SET-20261023-10242026-P-12"} and report.waiting == {}


def test_every_document_kind_has_one_place_in_the_posting_order():
    assert sorted(POSTING_ORDER) == sorted(DocumentKind) and len(set(POSTING_ORDER)) == len(POSTING_ORDER)
    # what a document refers to goes first
    assert POSTING_ORDER.index(DocumentKind.SALES_INVOICE) < POSTING_ORDER.index(DocumentKind.PAYMENT)
    assert POSTING_ORDER.index(DocumentKind.CREDIT_NOTE) < POSTING_ORDER.index(DocumentKind.PAYMENT)
    assert POSTING_ORDER.index(DocumentKind.PAYMENT) < POSTING_ORDER.index(DocumentKind.TRANSFER)


def test_the_store_records_the_kind_as_its_plain_string(store):
    PostingEngine(store, FakeLedger()).post([doc("WM-13", kind="credit_note")])
    [posting] = store.postings("xero")
    assert posting.document_kind == "credit_note" and type(posting.document_kind) is str
