"""The store's operations: claim and record postings exactly once, dead letters, audit, inbox, cursors and encrypted credentials."""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, Iterable, Iterator

from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from walmart_accounting.store.crypto import Cipher
from walmart_accounting.store.db import make_engine, state_dir
from walmart_accounting.store.migrate import ensure_current, upgrade
from walmart_accounting.store.models import (
    AuditEvent,
    Credential,
    DeadLetter,
    DeadLetterStatus,
    InboxStatus,
    Posting,
    PostingStatus,
    SyncCursor,
    WebhookEvent,
    utcnow,
)

DEFAULT_LEASE = timedelta(minutes=10)


class ClaimOutcome(StrEnum):
    CLAIMED = "claimed"  # yours to post; check `outcome_unknown` before posting
    ALREADY_POSTED = "already_posted"
    CHANGED_AFTER_POSTING = "changed_after_posting"  # posted with a different payload hash
    IN_FLIGHT_ELSEWHERE = "in_flight_elsewhere"  # another worker holds a live claim
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    document_key: str
    ledger: str
    token: str | None = None
    attempts: int = 0
    # True when an earlier attempt may have reached the ledger (crash, dropped connection):
    # the caller must look the document up in the ledger before posting again.
    outcome_unknown: bool = False
    external_id: str | None = None
    posted_payload_hash: str | None = None


class StoreError(RuntimeError):
    """A store operation that found the state other than it must be (e.g. a lost claim)."""


def _insert(engine: Engine, table):
    if engine.dialect.name == "postgresql":
        return postgresql.insert(table)
    if engine.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise StoreError(f"unsupported database backend {engine.dialect.name!r}; use SQLite or PostgreSQL")


class Store:
    """The integration's state behind one SQLAlchemy engine."""

    def __init__(self, engine: Engine, cipher: Cipher | None = None):
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._cipher = cipher

    @classmethod
    def open(cls, url: str | None = None, migrate: bool = False) -> "Store":
        """Open the store at `url` (default: $WALMART_ACCOUNTING_DB_URL); its schema must be current.

        Migrations are `walmart-accounting db upgrade`, once per release; `migrate=True` applies them here
        (the demo, `make dev` and tests, whose databases are new). A schema behind the code raises
        StoreSchemaError saying so, instead of failing later on a missing table.
        """
        engine = make_engine(url)
        if migrate:
            upgrade(engine)
        else:
            try:
                ensure_current(engine)
            except Exception:
                engine.dispose()
                raise
        return cls(engine)

    @property
    def cipher(self) -> Cipher:
        if self._cipher is None:
            self._cipher = Cipher.from_environment(state_dir())
        return self._cipher

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

    # -- posting ledger -------------------------------------------------------------------------

    def claim_posting(
        self,
        document_key: str,
        ledger: str,
        document_kind: str,
        payload_hash: str,
        lease: timedelta = DEFAULT_LEASE,
    ) -> Claim:
        """Claim a document for posting to a ledger; safe when many workers race for the same key."""
        now = utcnow()
        token = str(uuid.uuid4())
        with self.session() as session:
            inserted = session.execute(
                _insert(self.engine, Posting)
                .values(
                    document_key=document_key,
                    ledger=ledger,
                    document_kind=document_kind,
                    status=PostingStatus.IN_FLIGHT,
                    payload_hash=payload_hash,
                    attempts=1,
                    claim_token=token,
                    claimed_until=(now + lease),
                    outcome_unknown=0,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["document_key", "ledger"])
            )
            if inserted.rowcount == 1:
                return Claim(ClaimOutcome.CLAIMED, document_key, ledger, token=token, attempts=1)

        # The row exists: take it over only if its last attempt failed or its lease ran out. The
        # conditional UPDATE is the compare-and-set; exactly one racing worker sees rowcount 1.
        with self.session() as session:
            row = session.execute(
                select(Posting).where(Posting.document_key == document_key, Posting.ledger == ledger)
            ).scalar_one()
            if row.status == PostingStatus.POSTED:
                outcome = (
                    ClaimOutcome.ALREADY_POSTED
                    if row.posted_payload_hash == payload_hash
                    else ClaimOutcome.CHANGED_AFTER_POSTING
                )
                return Claim(
                    outcome, document_key, ledger, attempts=row.attempts, external_id=row.external_id,
                    posted_payload_hash=row.posted_payload_hash,
                )
            if row.status == PostingStatus.DEAD_LETTERED:
                return Claim(ClaimOutcome.DEAD_LETTERED, document_key, ledger, attempts=row.attempts)
            if row.status == PostingStatus.IN_FLIGHT and row.claimed_until and row.claimed_until > now:
                return Claim(ClaimOutcome.IN_FLIGHT_ELSEWHERE, document_key, ledger, attempts=row.attempts)
            # An expired in-flight claim means a worker died mid-post: the ledger may have it.
            unknown = row.status == PostingStatus.IN_FLIGHT or bool(row.outcome_unknown)
            taken = session.execute(
                update(Posting)
                .where(
                    Posting.id == row.id,
                    Posting.status == row.status,
                    Posting.attempts == row.attempts,
                )
                .values(
                    status=PostingStatus.IN_FLIGHT,
                    payload_hash=payload_hash,
                    attempts=row.attempts + 1,
                    claim_token=token,
                    claimed_until=now + lease,
                    outcome_unknown=1 if unknown else 0,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:
                return Claim(ClaimOutcome.IN_FLIGHT_ELSEWHERE, document_key, ledger, attempts=row.attempts + 1)
            return Claim(
                ClaimOutcome.CLAIMED, document_key, ledger, token=token, attempts=row.attempts + 1,
                outcome_unknown=unknown, external_id=row.external_id,
            )

    def _finish(self, claim: Claim, **values: Any) -> None:
        if claim.token is None:
            raise StoreError(f"{claim.document_key}/{claim.ledger}: not a claim held by this worker")
        with self.session() as session:
            result = session.execute(
                update(Posting)
                .where(
                    Posting.document_key == claim.document_key,
                    Posting.ledger == claim.ledger,
                    Posting.claim_token == claim.token,
                    Posting.status == PostingStatus.IN_FLIGHT,
                )
                .values(claim_token=None, claimed_until=None, updated_at=utcnow(), **values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                raise StoreError(
                    f"{claim.document_key}/{claim.ledger}: the claim was lost (its lease expired and "
                    "another worker took it over); the outcome is recorded by that worker"
                )

    def record_posted(self, claim: Claim, external_id: str, payload_hash: str, partition_key: str | None = None,
                      asset: str | None = None) -> None:
        """The ledger accepted the document: record its id so no one posts it again (and where it came from)."""
        where = {k: v for k, v in (("partition_key", partition_key), ("asset", asset)) if v is not None}
        self._finish(
            claim, status=PostingStatus.POSTED, external_id=external_id, posted_payload_hash=payload_hash,
            last_error=None, outcome_unknown=0, posted_at=utcnow(), waiting_since=None, **where,
        )

    def record_failed(self, claim: Claim, error: str, outcome_unknown: bool) -> None:
        """A retryable failure; `outcome_unknown` when the ledger may have applied it (timeout, dropped connection)."""
        self._finish(claim, status=PostingStatus.FAILED, last_error=error, outcome_unknown=1 if outcome_unknown else 0)

    def record_waiting(self, claim: Claim, reason: str, partition_key: str | None = None,
                       asset: str | None = None) -> None:
        """Not postable yet (what it refers to is not in the ledger): the run of `asset` for `partition_key` posts it."""
        self._finish(claim, status=PostingStatus.WAITING, last_error=reason, outcome_unknown=0,
                     partition_key=partition_key, asset=asset,
                     waiting_since=func.coalesce(Posting.waiting_since, utcnow()))

    def record_dead_lettered(self, claim: Claim, error: str) -> None:
        """A failure that needs a person (rejected by the ledger, or changed after posting)."""
        self._finish(claim, status=PostingStatus.DEAD_LETTERED, last_error=error, outcome_unknown=0, waiting_since=None)

    def release_for_retry(self, document_key: str, ledger: str) -> bool:
        """Make a dead-lettered posting claimable again (after the config or data was fixed)."""
        with self.session() as session:
            result = session.execute(
                update(Posting)
                .where(
                    Posting.document_key == document_key,
                    Posting.ledger == ledger,
                    Posting.status == PostingStatus.DEAD_LETTERED,
                )
                .values(status=PostingStatus.FAILED, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1

    def posting(self, document_key: str, ledger: str) -> Posting | None:
        with self.session() as session:
            return session.execute(
                select(Posting).where(Posting.document_key == document_key, Posting.ledger == ledger)
            ).scalar_one_or_none()

    def postings(self, ledger: str | None = None, status: str | None = None) -> list[Posting]:
        query = select(Posting).order_by(Posting.id)
        if ledger:
            query = query.where(Posting.ledger == ledger)
        if status:
            query = query.where(Posting.status == status)
        with self.session() as session:
            return list(session.execute(query).scalars())

    # -- dead letters ---------------------------------------------------------------------------

    def dead_letter(
        self, source: str, record_key: str, record: Any, reason: str, partition_key: str | None = None
    ) -> int:
        """Keep a bad record with its reason; the same record failing again updates it, never duplicates it."""
        now = utcnow()
        text = record if isinstance(record, str) else json.dumps(record, sort_keys=True, default=str)
        with self.session() as session:
            stmt = _insert(self.engine, DeadLetter).values(
                source=source, record_key=record_key, partition_key=partition_key, record=text,
                reason=reason, status=DeadLetterStatus.OPEN, occurrences=1, redrive_count=0,
                created_at=now, updated_at=now,
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=["source", "record_key"],
                set_={
                    "record": stmt.excluded.record,
                    "reason": stmt.excluded.reason,
                    "partition_key": stmt.excluded.partition_key,
                    "status": DeadLetterStatus.OPEN,
                    "occurrences": DeadLetter.occurrences + 1,
                    "updated_at": stmt.excluded.updated_at,
                },
            )
            session.execute(stmt)
            return session.execute(
                select(DeadLetter.id).where(DeadLetter.source == source, DeadLetter.record_key == record_key)
            ).scalar_one()

    def dead_letters(self, status: str | None = DeadLetterStatus.OPEN, source: str | None = None,
                     after_id: int = 0) -> list[DeadLetter]:
        query = select(DeadLetter).where(DeadLetter.id > after_id).order_by(DeadLetter.id)
        if status:
            query = query.where(DeadLetter.status == status)
        if source:
            query = query.where(DeadLetter.source == source)
        with self.session() as session:
            return list(session.execute(query).scalars())

    def get_dead_letter(self, dead_letter_id: int) -> DeadLetter | None:
        with self.session() as session:
            return session.get(DeadLetter, dead_letter_id)

    def mark_redriven(self, dead_letter_id: int) -> DeadLetter:
        """Hand a dead letter back for another attempt and count the re-drive."""
        with self.session() as session:
            row = session.get(DeadLetter, dead_letter_id, with_for_update=True)
            if row is None:
                raise StoreError(f"no dead letter with id {dead_letter_id}")
            row.status = DeadLetterStatus.REDRIVEN
            row.redrive_count += 1
            return row

    def resolve_dead_letter(self, source: str, record_key: str) -> bool:
        """Close a dead letter once its record went through."""
        with self.session() as session:
            result = session.execute(
                update(DeadLetter)
                .where(DeadLetter.source == source, DeadLetter.record_key == record_key,
                       DeadLetter.status != DeadLetterStatus.RESOLVED)
                .values(status=DeadLetterStatus.RESOLVED, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1

    def resolve_dead_letters(self, source: str, record_keys: Iterable[str]) -> int:
        """Close the open or re-driven dead letters of `source` whose records went through; how many were closed."""
        keys = sorted(set(record_keys))
        closed = 0
        with self.session() as session:
            for start in range(0, len(keys), 500):  # bounded IN lists
                closed += session.execute(
                    update(DeadLetter)
                    .where(DeadLetter.source == source, DeadLetter.record_key.in_(keys[start:start + 500]),
                           DeadLetter.status != DeadLetterStatus.RESOLVED)
                    .values(status=DeadLetterStatus.RESOLVED, updated_at=utcnow())
                    .execution_options(synchronize_session=False)
                ).rowcount
        return closed

    # -- audit ----------------------------------------------------------------------------------

    def audit(
        self, document_key: str, action: str, status: str, ledger: str | None = None, *,
        request_id: str | None = None, correlation_id: str | None = None, external_id: str | None = None,
        payload_hash: str | None = None, detail: Any = None,
    ) -> None:
        """Append one audit event."""
        text = None if detail is None else (detail if isinstance(detail, str) else json.dumps(detail, default=str))
        with self.session() as session:
            session.add(AuditEvent(
                document_key=document_key, ledger=ledger, action=action, status=status, request_id=request_id,
                correlation_id=correlation_id, external_id=external_id, payload_hash=payload_hash, detail=text,
            ))

    def audit_trail(self, document_key: str) -> list[AuditEvent]:
        with self.session() as session:
            return list(session.execute(
                select(AuditEvent).where(AuditEvent.document_key == document_key).order_by(AuditEvent.id)
            ).scalars())

    # -- webhook inbox --------------------------------------------------------------------------

    def receive_webhook(self, source: str, event_id: str, event_type: str, payload: str) -> bool:
        """Store a delivery once; returns False for a duplicate (already in the inbox)."""
        with self.session() as session:
            result = session.execute(
                _insert(self.engine, WebhookEvent)
                .values(source=source, event_id=event_id, event_type=event_type, payload=payload,
                        status=InboxStatus.PENDING, attempts=0, received_at=utcnow())
                .on_conflict_do_nothing(index_elements=["source", "event_id"])
            )
            return result.rowcount == 1

    def pending_webhooks(self, source: str | None = None, limit: int = 500) -> list[WebhookEvent]:
        query = select(WebhookEvent).where(WebhookEvent.status == InboxStatus.PENDING).order_by(WebhookEvent.id).limit(limit)
        if source:
            query = query.where(WebhookEvent.source == source)
        with self.session() as session:
            return list(session.execute(query).scalars())

    def webhooks_after(self, source: str, after_id: int, limit: int = 500) -> list[WebhookEvent]:
        """Inbox events of `source` stored after inbox id `after_id`, oldest first (a sensor's cursor is the id)."""
        query = (select(WebhookEvent).where(WebhookEvent.source == source, WebhookEvent.id > after_id)
                 .order_by(WebhookEvent.id).limit(limit))
        with self.session() as session:
            return list(session.execute(query).scalars())

    def finish_webhook(self, inbox_id: int, error: str | None = None) -> None:
        with self.session() as session:
            row = session.get(WebhookEvent, inbox_id)
            if row is None:
                raise StoreError(f"no webhook event with id {inbox_id}")
            row.attempts += 1
            row.status = InboxStatus.FAILED if error else InboxStatus.PROCESSED
            row.last_error = error
            row.processed_at = utcnow()

    # -- sync cursors ---------------------------------------------------------------------------

    def get_cursor(self, name: str) -> str | None:
        with self.session() as session:
            row = session.get(SyncCursor, name)
            return row.value if row else None

    def set_cursor(self, name: str, value: str) -> None:
        with self.session() as session:
            stmt = _insert(self.engine, SyncCursor).values(name=name, value=value, updated_at=utcnow())
            session.execute(stmt.on_conflict_do_update(
                index_elements=["name"], set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at}
            ))

    # -- credentials ----------------------------------------------------------------------------

    def save_credential(self, name: str, value: dict[str, Any]) -> None:
        """Encrypt and store a credential (token set, secret) under a name."""
        blob = self.cipher.encrypt(json.dumps(value, sort_keys=True).encode("utf-8"))
        with self.session() as session:
            row = session.get(Credential, name, with_for_update=True)
            if row is None:
                session.add(Credential(name=name, ciphertext=blob, version=1))
            else:
                row.ciphertext = blob
                row.version += 1

    def load_credential(self, name: str) -> dict[str, Any] | None:
        with self.session() as session:
            row = session.get(Credential, name)
            if row is None:
                return None
            return json.loads(self.cipher.decrypt(row.ciphertext, name))

    @contextmanager
    def locked_credential(self, name: str) -> Iterator["LockedCredential"]:
        """Hold a credential's row lock while reading and replacing it (token refresh with re-read).

        On PostgreSQL the row is locked FOR UPDATE; on SQLite the transaction takes the write lock
        at BEGIN. Another process refreshing at the same time waits, then reads the new value.
        """
        with self.session() as session:
            row = session.get(Credential, name, with_for_update=True)
            current = None if row is None else json.loads(self.cipher.decrypt(row.ciphertext, name))
            handle = LockedCredential(name, current)
            yield handle
            if handle.replacement is not None:
                blob = self.cipher.encrypt(json.dumps(handle.replacement, sort_keys=True).encode("utf-8"))
                if row is None:
                    session.add(Credential(name=name, ciphertext=blob, version=1))
                else:
                    row.ciphertext = blob
                    row.version += 1

    def credential_names(self) -> list[str]:
        with self.session() as session:
            return list(session.execute(select(Credential.name).order_by(Credential.name)).scalars())

    def counts(self) -> dict[str, int]:
        """Row counts by table and status, for reports and the demo summary."""
        with self.session() as session:
            out: dict[str, int] = {}
            for status, n in session.execute(select(Posting.status, func.count()).group_by(Posting.status)):
                out[f"postings.{status}"] = n
            for status, n in session.execute(select(DeadLetter.status, func.count()).group_by(DeadLetter.status)):
                out[f"dead_letters.{status}"] = n
            return out


class LockedCredential:
    """A credential read under lock; call replace() to store a new value when the lock is released."""

    def __init__(self, name: str, value: dict[str, Any] | None):
        self.name = name
        self.value = value
        self.replacement: dict[str, Any] | None = None

    def replace(self, value: dict[str, Any]) -> None:
        self.replacement = value
