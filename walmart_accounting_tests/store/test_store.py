"""The store on SQLite and PostgreSQL alike: exactly-once claims, dead letters, audit, inbox, cursors, migrations."""

import multiprocessing
import threading
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from walmart_accounting.store import migrate
from walmart_accounting.store.db import make_engine
from walmart_accounting.store.migrate import StoreSchemaError, current_revision
from walmart_accounting.store.models import Base, DeadLetterStatus, PostingStatus
from walmart_accounting.store.store import ClaimOutcome, Store, StoreError


@pytest.fixture
def store(database_url):
    store = Store.open(database_url, migrate=True)
    yield store
    store.dispose()


def test_migrations_reach_head_and_match_the_models(store):
    assert current_revision(store.engine) == "0002"
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": migrate.VERSION_TABLE}), Base.metadata)
    assert diff == []


def test_opening_twice_is_harmless(database_url):
    Store.open(database_url, migrate=True).dispose()
    again = Store.open(database_url, migrate=True)
    assert current_revision(again.engine) == "0002"
    again.dispose()


def test_a_store_behind_the_code_says_to_run_db_upgrade_and_is_left_alone(database_url):
    with pytest.raises(StoreSchemaError, match="run `walmart-accounting db upgrade`") as raised:
        Store.open(database_url)
    assert "none (empty)" in str(raised.value) and "0002" in str(raised.value)
    engine = make_engine(database_url)
    assert current_revision(engine) is None, "opening never migrates"
    engine.dispose()
    Store.open(database_url, migrate=True).dispose()
    Store.open(database_url).dispose()  # current now: opens


def test_claim_post_record_then_never_again(store):
    claim = store.claim_posting("WM-1001", "xero", "sales_invoice", "hash-a")
    assert claim.outcome is ClaimOutcome.CLAIMED and not claim.outcome_unknown
    assert store.claim_posting("WM-1001", "xero", "sales_invoice", "hash-a").outcome is ClaimOutcome.IN_FLIGHT_ELSEWHERE
    store.record_posted(claim, "inv-guid-1", "hash-a")
    again = store.claim_posting("WM-1001", "xero", "sales_invoice", "hash-a")
    assert again.outcome is ClaimOutcome.ALREADY_POSTED and again.external_id == "inv-guid-1"
    changed = store.claim_posting("WM-1001", "xero", "sales_invoice", "hash-b")
    assert changed.outcome is ClaimOutcome.CHANGED_AFTER_POSTING and changed.posted_payload_hash == "hash-a"
    # the same key in the other ledger is a separate posting
    assert store.claim_posting("WM-1001", "exact", "sales_invoice", "hash-a").outcome is ClaimOutcome.CLAIMED
    row = store.posting("WM-1001", "xero")
    assert (row.status, row.external_id, row.attempts) == (PostingStatus.POSTED, "inv-guid-1", 1)


def test_expired_claim_is_taken_over_with_outcome_unknown(store):
    first = store.claim_posting("WM-2002", "xero", "sales_invoice", "h", lease=timedelta(seconds=-1))
    second = store.claim_posting("WM-2002", "xero", "sales_invoice", "h")
    assert second.outcome is ClaimOutcome.CLAIMED
    assert second.outcome_unknown, "a crashed worker's post may have reached the ledger: look it up first"
    assert second.attempts == 2
    with pytest.raises(StoreError, match="claim was lost"):
        store.record_posted(first, "x", "h")
    store.record_posted(second, "inv-2", "h")
    assert store.posting("WM-2002", "xero").external_id == "inv-2"


def test_failures_retry_and_dead_letters_wait_for_a_person(store):
    claim = store.claim_posting("WM-3003", "exact", "sales_invoice", "h")
    store.record_failed(claim, "503 from Exact", outcome_unknown=False)
    retry = store.claim_posting("WM-3003", "exact", "sales_invoice", "h")
    assert retry.outcome is ClaimOutcome.CLAIMED and not retry.outcome_unknown and retry.attempts == 2
    store.record_failed(retry, "read timed out", outcome_unknown=True)
    third = store.claim_posting("WM-3003", "exact", "sales_invoice", "h")
    assert third.outcome_unknown
    store.record_dead_lettered(third, "GL account 9999 does not exist")
    assert store.claim_posting("WM-3003", "exact", "sales_invoice", "h").outcome is ClaimOutcome.DEAD_LETTERED
    assert store.release_for_retry("WM-3003", "exact")
    assert store.claim_posting("WM-3003", "exact", "sales_invoice", "h").outcome is ClaimOutcome.CLAIMED


def _race(store: Store, key: str, n: int) -> list[ClaimOutcome]:
    barrier = threading.Barrier(n)
    outcomes: list[ClaimOutcome] = []
    lock = threading.Lock()

    def worker():
        barrier.wait()
        outcome = store.claim_posting(key, "xero", "sales_invoice", "h").outcome
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_concurrent_claims_of_a_new_posting_exactly_one_wins(store):
    outcomes = _race(store, "WM-4004", 8)
    assert outcomes.count(ClaimOutcome.CLAIMED) == 1
    assert outcomes.count(ClaimOutcome.IN_FLIGHT_ELSEWHERE) == 7


def test_concurrent_takeover_of_a_failed_posting_exactly_one_wins(store):
    claim = store.claim_posting("WM-5005", "xero", "sales_invoice", "h")
    store.record_failed(claim, "boom", outcome_unknown=True)
    outcomes = _race(store, "WM-5005", 8)
    assert outcomes.count(ClaimOutcome.CLAIMED) == 1


def _claim_in_process(url, key, barrier, results):
    store = Store.open(url, migrate=False)
    barrier.wait()
    results.put(store.claim_posting(key, "exact", "sales_invoice", "h").outcome.value)
    store.dispose()


def test_concurrent_claims_from_separate_processes_exactly_one_wins(store, database_url):
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_claim_in_process, args=(database_url, "WM-6006", barrier, results)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    outcomes = [results.get(timeout=5) for _ in procs]
    assert outcomes.count("claimed") == 1, outcomes


def test_dead_letters_keep_the_record_and_never_duplicate(store):
    first = store.dead_letter("walmart_orders", "PO-1", {"purchaseOrderId": "PO-1", "qty": -1}, "negative quantity", "2026-09-08-10:00")
    second = store.dead_letter("walmart_orders", "PO-1", {"purchaseOrderId": "PO-1", "qty": -2}, "negative quantity again")
    store.dead_letter("walmart_orders", "PO-2", {"purchaseOrderId": "PO-2"}, "unmapped SKU X")
    assert first == second
    rows = store.dead_letters()
    assert [r.record_key for r in rows] == ["PO-1", "PO-2"]
    assert rows[0].occurrences == 2 and '"qty": -2' in rows[0].record and rows[0].reason == "negative quantity again"
    redriven = store.mark_redriven(first)
    assert (redriven.status, redriven.redrive_count) == (DeadLetterStatus.REDRIVEN, 1)
    assert [r.record_key for r in store.dead_letters()] == ["PO-2"]
    assert store.resolve_dead_letter("walmart_orders", "PO-1")
    assert store.get_dead_letter(first).status == DeadLetterStatus.RESOLVED
    # failing again after resolution reopens it
    store.dead_letter("walmart_orders", "PO-1", {"purchaseOrderId": "PO-1"}, "still bad")
    assert store.get_dead_letter(first).status == DeadLetterStatus.OPEN


def test_audit_trail_in_order(store):
    store.audit("WM-7", "post", "attempt", "xero", correlation_id="c-1", payload_hash="h")
    store.audit("WM-7", "post", "posted", "xero", external_id="inv-7", detail={"http_status": 200})
    trail = store.audit_trail("WM-7")
    assert [(e.status, e.external_id) for e in trail] == [("attempt", None), ("posted", "inv-7")]
    assert trail[1].detail == '{"http_status": 200}'


def test_webhook_inbox_takes_each_event_once(store):
    assert store.receive_webhook("walmart", "evt-1", "PO_CREATED", '{"po": 1}')
    assert not store.receive_webhook("walmart", "evt-1", "PO_CREATED", '{"po": 1}')
    assert store.receive_webhook("exact", "evt-1", "SalesEntries", "{}")
    pending = store.pending_webhooks("walmart")
    assert [p.event_id for p in pending] == ["evt-1"]
    store.finish_webhook(pending[0].id)
    assert store.pending_webhooks("walmart") == []


def test_cursors_upsert(store):
    assert store.get_cursor("walmart_orders.last_modified") is None
    store.set_cursor("walmart_orders.last_modified", "2026-09-01T00:00:00Z")
    store.set_cursor("walmart_orders.last_modified", "2026-09-02T00:00:00Z")
    assert store.get_cursor("walmart_orders.last_modified") == "2026-09-02T00:00:00Z"


def test_a_waiting_posting_keeps_where_it_comes_from_and_since_when_until_it_posts(store):
    claim = store.claim_posting("WM-SET-1-PAY", "xero", "payment", "h")
    store.record_waiting(claim, "its invoice is not in the ledger", "10312026", "xero_posted_settlement")
    first = store.posting("WM-SET-1-PAY", "xero")
    assert (first.status, first.partition_key, first.asset) == ("waiting", "10312026", "xero_posted_settlement")
    again = store.claim_posting("WM-SET-1-PAY", "xero", "payment", "h")
    store.record_waiting(again, "still not there", "10312026", "xero_posted_settlement")
    assert store.posting("WM-SET-1-PAY", "xero").waiting_since == first.waiting_since, "waits since the first time"
    store.record_posted(store.claim_posting("WM-SET-1-PAY", "xero", "payment", "h"), "pay-1", "h")
    assert store.posting("WM-SET-1-PAY", "xero").waiting_since is None


def test_a_store_of_the_first_release_upgrades_with_its_postings(database_url):
    from walmart_accounting.store.migrate import upgrade

    upgrade(database_url, "0001")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO posting_ledger (document_key, ledger, document_kind, status, payload_hash, attempts, "
            "outcome_unknown, created_at, updated_at) VALUES ('WM-1', 'xero', 'sales_invoice', 'posted', 'h', 1, 0, "
            "'2026-11-01 00:00:00', '2026-11-01 00:00:00')")
    engine.dispose()
    store = Store.open(database_url, migrate=True)
    assert current_revision(store.engine) == "0002"
    kept = store.posting("WM-1", "xero")
    assert kept.status == "posted" and kept.partition_key is None and kept.waiting_since is None
    store.dispose()
