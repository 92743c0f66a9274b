"""One database URL for the integration's state: SQLite under DAGSTER_HOME by default, PostgreSQL in production."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

DB_URL_ENV_VAR = "WALMART_ACCOUNTING_DB_URL"
SQLITE_FILE_NAME = "walmart_accounting.sqlite"


def state_dir() -> Path:
    """Where local state lives: $DAGSTER_HOME, else ./.dagster_home (what `make dev` uses)."""
    home = os.environ.get("DAGSTER_HOME")
    path = Path(home) if home else Path.cwd() / ".dagster_home"
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    """$WALMART_ACCOUNTING_DB_URL, else a SQLite file under the state directory."""
    url = os.environ.get(DB_URL_ENV_VAR)
    if url:
        return url
    return f"sqlite:///{state_dir() / SQLITE_FILE_NAME}"


def redacted(url: str) -> str:
    """The URL with any password masked, for logs and errors."""
    return make_url(url).render_as_string(hide_password=True)


def make_engine(url: str | None = None) -> Engine:
    """An engine whose transactions are safe under concurrent writers on both backends."""
    url = url or database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30})
        _serialize_sqlite_writers(engine)
        return engine
    if parsed.drivername == "postgresql":
        # A plain postgresql:// URL (the README's, Dagster's) would make SQLAlchemy 2.1 pick psycopg 3;
        # psycopg2 is the driver installed, and the one Dagster's storage needs too.
        url = parsed.set(drivername="postgresql+psycopg2")
    return create_engine(url, pool_pre_ping=True)


def _serialize_sqlite_writers(engine: Engine) -> None:
    # pysqlite's implicit BEGIN starts a deferred transaction; two of them that both read and then
    # write fail with "database is locked" no matter the timeout. BEGIN IMMEDIATE takes the write
    # lock up front, so concurrent transactions queue (busy timeout) instead of failing.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
