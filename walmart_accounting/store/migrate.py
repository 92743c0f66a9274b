"""Alembic migrations run from code: `walmart-accounting db upgrade` brings a database to head, `Store.open` checks it is there."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from walmart_accounting.store.db import make_engine

MIGRATIONS = Path(__file__).parent / "migrations"
# Our own version table: Dagster's storage keeps its migrations in `alembic_version`, and one database
# (one server) for both is what most teams run.
VERSION_TABLE = "walmart_accounting_alembic_version"
_SHARED_VERSION_TABLE = "alembic_version"


def alembic_config(engine: Engine | None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    config.attributes["version_table"] = VERSION_TABLE
    return config


def upgrade(engine: Engine | str | None = None, revision: str = "head") -> None:
    """Apply migrations up to `revision` (head by default)."""
    if not isinstance(engine, Engine):
        engine = make_engine(engine)
    _adopt_shared_version(engine)
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()


def _adopt_shared_version(engine: Engine) -> None:
    """Move our revision out of `alembic_version`, where versions before this one kept it, into our own table.

    Only revisions of this project move; Dagster's stay. An `alembic_version` left empty is dropped, so
    Dagster's storage can create and stamp its own.
    """
    ours = {rev.revision for rev in ScriptDirectory.from_config(alembic_config(None)).walk_revisions()}
    names = inspect(engine).get_table_names()
    if _SHARED_VERSION_TABLE not in names or VERSION_TABLE in names:
        return
    with engine.begin() as connection:
        found = [r for (r,) in connection.execute(text(f"SELECT version_num FROM {_SHARED_VERSION_TABLE}")) if r in ours]
        if not found:
            return
        MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).stamp(
            ScriptDirectory.from_config(alembic_config(None)), found[0])
        connection.execute(text(f"DELETE FROM {_SHARED_VERSION_TABLE} WHERE version_num = :v"), {"v": found[0]})
        if connection.execute(text(f"SELECT count(*) FROM {_SHARED_VERSION_TABLE}")).scalar() == 0:
            connection.execute(text(f"DROP TABLE {_SHARED_VERSION_TABLE}"))


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
