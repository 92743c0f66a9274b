"""The store's migrations beside Dagster's: a plain postgresql:// URL, one database for both, old version rows adopted."""

from __future__ import annotations

import dagster as dg
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from walmart_accounting.store import migrate
from walmart_accounting.store.store import Store


def _plain(url: str) -> str:
    """The URL as the README writes it: postgresql://, no driver named."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dg.asset
def heartbeat() -> int:
    return 1


def _materialize_on(url: str) -> bool:
    overrides = {"storage": {"postgres": {"postgres_url": url}}}
    with dg.instance_for_test(overrides=overrides) as instance:
        return dg.materialize([heartbeat], instance=instance).success


def test_a_plain_postgresql_url_opens_and_upgrades_the_store(postgres_database):
    url = _plain(postgres_database)
    assert url.startswith("postgresql://")
    store = Store.open(url, migrate=True)
    try:
        assert store.postings() == []
        assert migrate.current_revision(store.engine) == migrate.head_revision()
    finally:
        store.dispose()


def test_dagster_storage_and_the_store_share_one_database(postgres_database):
    # Dagster's storage gets the URL with its driver (deploy/dagster-postgres.yaml says why), the store the plain one
    dagster_url = make_url(postgres_database).set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    assert _materialize_on(dagster_url)  # Dagster first: its alembic_version is stamped with its own revision
    Store.open(_plain(postgres_database), migrate=True).dispose()  # ours goes in its own version table
    assert _materialize_on(dagster_url)  # Dagster still finds its revision
    Store.open(_plain(postgres_database)).dispose()  # ... and the store its own
    tables = set(inspect(create_engine(dagster_url)).get_table_names())
    assert {"alembic_version", migrate.VERSION_TABLE, "runs", "posting_ledger"} <= tables


def test_a_store_versioned_in_the_shared_table_is_adopted(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    old = migrate.alembic_config(engine)
    old.attributes["version_table"] = "alembic_version"  # where versions before this one kept the revision
    command.upgrade(old, "head")
    migrate.upgrade(engine)
    migrate.ensure_current(engine)  # nothing left to migrate, and the revision is in our own table
    tables = set(inspect(engine).get_table_names())
    assert migrate.VERSION_TABLE in tables and "alembic_version" not in tables
    with engine.connect() as connection:
        assert connection.execute(text(f"SELECT version_num FROM {migrate.VERSION_TABLE}")).scalar() == (
            migrate.head_revision())
