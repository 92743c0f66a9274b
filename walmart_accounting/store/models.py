"""Tables of the integration's own state: posting ledger, dead letters, audit trail, webhook inbox, cursors, credentials."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stored as naive UTC on every backend, returned timezone-aware, so comparisons agree on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class PostingStatus:
    IN_FLIGHT = "in_flight"  # claimed; the post may or may not have reached the ledger
    POSTED = "posted"
    FAILED = "failed"  # a known failure that may be retried
    WAITING = "waiting"  # not postable yet: a document it refers to is not in the ledger yet
    DEAD_LETTERED = "dead_lettered"  # needs a person: rejected, or changed after posting

    ALL = (IN_FLIGHT, POSTED, FAILED, WAITING, DEAD_LETTERED)


class Posting(Base):
    """One document in one ledger: the exactly-once record."""

    __tablename__ = "posting_ledger"
    __table_args__ = (UniqueConstraint("document_key", "ledger", name="uq_posting_ledger_key_ledger"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    document_key: Mapped[str] = mapped_column(String(128), nullable=False)
    ledger: Mapped[str] = mapped_column(String(16), nullable=False)
    document_kind: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    payload_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    posted_payload_hash: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claim_token: Mapped[str | None] = mapped_column(String(36))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome_unknown: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A waiting document: the partition and posting asset whose run posts it, and since when it waits.
    partition_key: Mapped[str | None] = mapped_column(String(64))
    asset: Mapped[str | None] = mapped_column(String(128))
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DeadLetterStatus:
    OPEN = "open"
    REDRIVEN = "redriven"  # handed back for another attempt
    RESOLVED = "resolved"  # the retry succeeded or a person closed it

    ALL = (OPEN, REDRIVEN, RESOLVED)


class DeadLetter(Base):
    """A record that could not be processed, kept with its reason until it is re-driven."""

    __tablename__ = "dead_letters"
    __table_args__ = (UniqueConstraint("source", "record_key", name="uq_dead_letters_source_record"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64), nullable=False)
    record_key: Mapped[str] = mapped_column(String(256), nullable=False)
    partition_key: Mapped[str | None] = mapped_column(String(64))
    record: Mapped[str] = mapped_column(Text, nullable=False)  # JSON
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    occurrences: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    redrive_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)


class AuditEvent(Base):
    """One attempt or state change, append-only, for `walmart-accounting audit KEY`."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_key", "document_key", "ledger"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    document_key: Mapped[str] = mapped_column(String(128), nullable=False)
    ledger: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    request_id: Mapped[str | None] = mapped_column(String(64))
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(64))
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


class InboxStatus:
    PENDING = "pending"
    PROCESSED = "processed"
    FAILED = "failed"


class WebhookEvent(Base):
    """A webhook delivery, stored once per (source, event id) before anything acts on it."""

    __tablename__ = "webhook_inbox"
    __table_args__ = (UniqueConstraint("source", "event_id", name="uq_webhook_inbox_source_event"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    event_id: Mapped[str] = mapped_column(String(128), nullable=False)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SyncCursor(Base):
    """Where an incremental read last stopped (e.g. orders lastModified high-water mark)."""

    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)


class Credential(Base):
    """OAuth tokens and secrets, Fernet-encrypted; `version` increments on every write."""

    __tablename__ = "credentials"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)
