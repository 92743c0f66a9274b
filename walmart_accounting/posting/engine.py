"""The exactly-once protocol: claim each document in the store, resolve unknown outcomes in the ledger, post, record."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Mapping, Protocol, Sequence

from walmart_accounting.connectors.errors import ApiError, AuthError, ForbiddenError, TransportError
from walmart_accounting.domain.documents import DocumentKind
from walmart_accounting.posting.documents import LedgerDocument
from walmart_accounting.store.store import DEFAULT_LEASE, Claim, ClaimOutcome, Store

log = logging.getLogger("walmart_accounting.posting")

# Documents others refer to go first: a payment needs its invoice or credit note, a transfer its payments.
# Every DocumentKind has a place (the engine's tests check it).
POSTING_ORDER: tuple[DocumentKind, ...] = (
    DocumentKind.SALES_INVOICE, DocumentKind.CREDIT_NOTE, DocumentKind.FEE_BILL, DocumentKind.PAYMENT,
    DocumentKind.TRANSFER, DocumentKind.STOCK_ADJUSTMENT, DocumentKind.SALES_ORDER, DocumentKind.SHIPMENT,
)


@dataclass(frozen=True)
class PostResult:
    """The ledger's answer for one document of a batch."""

    key: str
    ok: bool
    external_id: str | None = None
    error: str | None = None
    correlation_id: str | None = None
    # Not rejected, just not postable yet (e.g. the invoice a payment pays is not in the ledger yet).
    retry_later: bool = False
    # The exchange rate the ledger applied itself (rates.source: ledger), base units per document unit.
    applied_rate: str | None = None


class LedgerAdapter(Protocol):
    """What the engine needs from a ledger: find documents already there, and post a batch of one kind."""

    ledger: str
    batch_size: int

    def find_posted(self, documents: Sequence[LedgerDocument]) -> dict[str, str]:
        """Document key -> the ledger's id, for the documents the ledger already holds (by reference/YourRef)."""

    def post_batch(self, documents: Sequence[LedgerDocument]) -> list[PostResult]:
        """Post documents of one kind; one result per document, in order. Raises TransportError when the outcome is unknown."""


@dataclass
class PostingReport:
    """What one posting pass did, per document key."""

    ledger: str
    posted: dict[str, str] = field(default_factory=dict)
    already_posted: dict[str, str] = field(default_factory=dict)
    found_in_ledger: dict[str, str] = field(default_factory=dict)
    dead_lettered: dict[str, str] = field(default_factory=dict)
    changed_after_posting: list[str] = field(default_factory=list)
    in_flight_elsewhere: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    waiting: dict[str, str] = field(default_factory=dict)  # documents whose related document is not posted yet

    def counts(self) -> dict[str, int]:
        return {
            "posted": len(self.posted), "already_posted": len(self.already_posted),
            "found_in_ledger": len(self.found_in_ledger), "dead_lettered": len(self.dead_lettered),
            "changed_after_posting": len(self.changed_after_posting),
            "in_flight_elsewhere": len(self.in_flight_elsewhere), "failed": len(self.failed),
            "waiting": len(self.waiting),
        }

    def only(self, keys: set[str]) -> "PostingReport":
        """The part of the report about `keys` (one partition's documents of a range run)."""
        pick = lambda found: {k: v for k, v in found.items() if k in keys}  # noqa: E731
        return PostingReport(self.ledger, pick(self.posted), pick(self.already_posted), pick(self.found_in_ledger),
                             pick(self.dead_lettered), [k for k in self.changed_after_posting if k in keys],
                             [k for k in self.in_flight_elsewhere if k in keys], pick(self.failed), pick(self.waiting))

    def merge(self, other: "PostingReport") -> None:
        self.posted.update(other.posted)
        self.already_posted.update(other.already_posted)
        self.found_in_ledger.update(other.found_in_ledger)
        self.dead_lettered.update(other.dead_lettered)
        self.changed_after_posting += other.changed_after_posting
        self.in_flight_elsewhere += other.in_flight_elsewhere
        self.failed.update(other.failed)
        self.waiting.update(other.waiting)


class PostingEngine:
    """Posts documents to one ledger so that no retry, re-run or crash posts one twice or loses one."""

    def __init__(self, store: Store, adapter: LedgerAdapter, lease: timedelta = DEFAULT_LEASE, asset: str | None = None):
        self.store = store
        self.adapter = adapter
        self.lease = lease  # how long a claim blocks others before a crashed worker's claim is taken over
        self.ledger = adapter.ledger
        self.source = f"posting:{adapter.ledger}"
        self.asset = asset  # the posting asset, named in dead letters so a re-drive knows what to re-run
        self.partitions: Mapping[str, str] = {}

    def post(self, documents: Sequence[LedgerDocument], partitions: Mapping[str, str] | None = None) -> PostingReport:
        """Claim, resolve, post and record every document, kind by kind in POSTING_ORDER.

        `partitions` names each document's partition (document key -> partition key), kept with its dead letter.
        """
        self.partitions = partitions or {}
        report = PostingReport(self.ledger)
        by_kind: dict[DocumentKind, list[LedgerDocument]] = {}
        for document in documents:
            if document.ledger != self.ledger:
                raise ValueError(f"{document.key} is for {document.ledger}, not {self.ledger}")
            by_kind.setdefault(document.kind, []).append(document)
        for kind in sorted(by_kind, key=POSTING_ORDER.index):
            batch = by_kind[kind]
            if kind is DocumentKind.TRANSFER:
                batch = self._transfers_ready(batch, documents, report)
            report.merge(self._post_kind(batch))
        return report

    def _transfers_ready(self, transfers: list[LedgerDocument], documents: Sequence[LedgerDocument],
                         report: PostingReport) -> list[LedgerDocument]:
        """The transfers whose settlement posted whole; the others are recorded as waiting for it.

        A settlement is booked as a whole: moving the payout to the bank while a payment or the fee bill is
        not in the ledger leaves the clearing account off by exactly that document.
        """
        done = {**report.posted, **report.already_posted, **report.found_in_ledger}
        unposted: dict[str, list[str]] = {}
        for document in documents:
            settlement = document.header.get("settlement_key")
            if settlement and document.kind is not DocumentKind.TRANSFER and document.key not in done:
                unposted.setdefault(str(settlement), []).append(document.key)
        ready = []
        for transfer in transfers:
            missing = sorted(unposted.get(str(transfer.header.get("settlement_key")), []))
            if not missing:
                ready.append(transfer)
                continue
            reason = (f"waiting for {len(missing)} document(s) of settlement {transfer.header.get('settlement_key')} "
                      f"to post first: {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}")
            claim = self.store.claim_posting(transfer.key, self.ledger, transfer.kind.value, transfer.payload_hash,
                                             lease=self.lease)
            if claim.outcome is not ClaimOutcome.CLAIMED:  # posted, in flight elsewhere, dead-lettered: reported as usual
                ready.append(transfer)
                continue
            # An earlier attempt may have reached the ledger (crash, timeout): then it is there, not waiting.
            found = self.adapter.find_posted([transfer]) if claim.outcome_unknown else {}
            if transfer.key in found:
                self._found(transfer, claim, found[transfer.key], report)
                continue
            self.store.record_waiting(claim, reason, self.partitions.get(transfer.key), self.asset)
            self.store.audit(transfer.key, "post", "waiting", self.ledger, detail=reason)
            report.waiting[transfer.key] = reason
        return ready

    def _post_kind(self, documents: list[LedgerDocument]) -> PostingReport:
        report = PostingReport(self.ledger)
        claimed: list[tuple[LedgerDocument, Claim]] = []
        for document in documents:
            claim = self.store.claim_posting(document.key, self.ledger, document.kind.value, document.payload_hash,
                                             lease=self.lease)
            if claim.outcome is ClaimOutcome.CLAIMED:
                claimed.append((document, claim))
            elif claim.outcome is ClaimOutcome.ALREADY_POSTED:
                report.already_posted[document.key] = claim.external_id or ""
            elif claim.outcome is ClaimOutcome.CHANGED_AFTER_POSTING:
                self._changed(document, claim)
                report.changed_after_posting.append(document.key)
            elif claim.outcome is ClaimOutcome.IN_FLIGHT_ELSEWHERE:
                report.in_flight_elsewhere.append(document.key)
            else:  # dead-lettered earlier: waits for `dead-letters retry`
                report.dead_lettered.setdefault(document.key, "dead-lettered earlier; waiting for a retry")
        unknown = [(d, c) for d, c in claimed if c.outcome_unknown]
        if unknown:
            # An earlier attempt may have reached the ledger (crash, dropped connection): look before posting again.
            found = self.adapter.find_posted([d for d, _ in unknown])
            for document, claim in unknown:
                if document.key in found:
                    self._found(document, claim, found[document.key], report)
            claimed = [(d, c) for d, c in claimed if d.key not in report.found_in_ledger]
        size = max(1, self.adapter.batch_size)
        for start in range(0, len(claimed), size):
            batch = claimed[start:start + size]
            self._post_batch(batch, report)
        return report

    def _post_batch(self, batch: list[tuple[LedgerDocument, Claim]], report: PostingReport) -> None:
        documents = [d for d, _ in batch]
        for document, _ in batch:
            self.store.audit(document.key, "post", "attempt", self.ledger, payload_hash=document.payload_hash)
        try:
            results = self.adapter.post_batch(documents)
        except (AuthError, ForbiddenError) as exc:
            for document, claim in batch:
                self.store.record_failed(claim, str(exc), outcome_unknown=False)
                self.store.audit(document.key, "post", "failed", self.ledger, correlation_id=exc.correlation_id, detail=str(exc))
            raise  # credentials or consent: stop the run, the message says what to do
        except ApiError as exc:
            unknown = isinstance(exc, TransportError) and exc.outcome_unknown or exc.retryable
            for document, claim in batch:
                self.store.record_failed(claim, str(exc), outcome_unknown=unknown)
                self.store.audit(document.key, "post", "failed_unknown" if unknown else "failed", self.ledger,
                                 correlation_id=exc.correlation_id, detail=str(exc))
                report.failed[document.key] = str(exc)
            return
        if len(results) != len(batch):
            raise RuntimeError(f"{self.ledger} adapter returned {len(results)} results for {len(batch)} documents")
        for (document, claim), result in zip(batch, results, strict=True):
            if result.key != document.key:
                raise RuntimeError(f"{self.ledger} adapter answered {result.key} for {document.key}")
            if result.ok and result.external_id:
                self.store.record_posted(claim, result.external_id, document.payload_hash,
                                         self.partitions.get(document.key), self.asset)
                self.store.audit(document.key, "post", "posted", self.ledger, correlation_id=result.correlation_id,
                                 external_id=result.external_id, payload_hash=document.payload_hash,
                                 detail=document.as_record())
                report.posted[document.key] = result.external_id
                if result.applied_rate:
                    self.store.audit(document.key, "rate", "applied", self.ledger, external_id=result.external_id,
                                     detail={"exchange_rate": result.applied_rate, "rate_source": "ledger",
                                             "currency": document.header.get("currency")})
                if claim.attempts > 1:  # an earlier attempt may have left a dead letter: it is resolved now
                    self.store.resolve_dead_letter(self.source, document.key)
            elif result.retry_later:
                self.store.record_waiting(claim, result.error or "not postable yet", self.partitions.get(document.key),
                                          self.asset)
                self.store.audit(document.key, "post", "waiting", self.ledger, detail=result.error)
                report.waiting[document.key] = result.error or "not postable yet"
            else:
                reason = result.error or "rejected by the ledger without a message"
                self.store.record_dead_lettered(claim, reason)
                self.store.dead_letter(self.source, document.key, self._dead_letter_record(document), reason,
                                       self.partitions.get(document.key))
                self.store.audit(document.key, "post", "rejected", self.ledger, correlation_id=result.correlation_id,
                                 payload_hash=document.payload_hash, detail=reason)
                report.dead_lettered[document.key] = reason

    def _found(self, document: LedgerDocument, claim: Claim, external_id: str, report: PostingReport) -> None:
        """An earlier attempt did reach the ledger: record it as posted, never post it again."""
        self.store.record_posted(claim, external_id, document.payload_hash, self.partitions.get(document.key),
                                 self.asset)
        self.store.audit(document.key, "resolve", "found_in_ledger", self.ledger, external_id=external_id,
                         payload_hash=document.payload_hash)
        report.found_in_ledger[document.key] = external_id

    def _dead_letter_record(self, document: LedgerDocument) -> dict:
        return {**document.as_record(), **({"asset": self.asset} if self.asset else {})}

    def _changed(self, document: LedgerDocument, claim: Claim) -> None:
        reason = (f"changed after posting: {document.key} is in {self.ledger} as {claim.external_id} with content "
                  f"{claim.posted_payload_hash[:12] if claim.posted_payload_hash else '?'}, now {document.payload_hash[:12]}; "
                  "not re-posted")
        posted_version = next((e.detail for e in reversed(self.store.audit_trail(document.key))
                               if e.ledger == self.ledger and e.status in ("posted", "found_in_ledger") and e.detail), None)
        self.store.dead_letter(self.source, f"{document.key}#changed", {
            "posted": {"external_id": claim.external_id, "payload_hash": claim.posted_payload_hash,
                       "document": json.loads(posted_version) if posted_version else None},
            "now": {"payload_hash": document.payload_hash, "document": document.as_record()},
            **({"asset": self.asset} if self.asset else {}),
        }, reason, self.partitions.get(document.key))
        self.store.audit(document.key, "post", "changed_after_posting", self.ledger, external_id=claim.external_id,
                         payload_hash=document.payload_hash, detail=reason)


def summarize(reports: Sequence[PostingReport]) -> Counter:
    total: Counter = Counter()
    for report in reports:
        total.update(report.counts())
    return total
