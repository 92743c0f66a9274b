"""Alembic migrations run from code: `walmart-accounting db upgrade` brings a database to head, `Store.open` checks it is there."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from walmart_accounting.store.db import make_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine | None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine | str | None = None, revision: str = "head") -> None:
    """Apply migrations up to `revision` (head by default)."""
    if not isinstance(engine, Engine):
        engine = make_engine(engine)
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@cache
def head_revision() -> str:
    """The revision this code needs."""
    return ScriptDirectory.from_config(alembic_config(None)).get_current_head()


class StoreSchemaError(RuntimeError):
    """The integration's database is not at the schema this code needs."""


def ensure_current(engine: Engine) -> None:
    """Raise StoreSchemaError unless the database is at head: what to run is in the message."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise StoreSchemaError(
            f"the integration's database at {engine.url.render_as_string(hide_password=True)} is at schema "
            f"revision {current or 'none (empty)'}, this code needs {head}: run `walmart-accounting db upgrade`")
