"""Shared fixtures: an isolated DAGSTER_HOME per test, and scratch PostgreSQL databases on the local server."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_ADMIN_URL = os.environ.get(
    "WALMART_ACCOUNTING_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("WALMART_ACCOUNTING_REQUIRE_POSTGRES") == "1"

_ISOLATED_VARS = (
    "WALMART_ACCOUNTING_CONFIG",
    "WALMART_ACCOUNTING_DB_URL",
    "WALMART_ACCOUNTING_SECRET_KEY",
)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Every test gets its own DAGSTER_HOME and none of the developer's configuration."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for name in _ISOLATED_VARS:
        monkeypatch.delenv(name, raising=False)
    return home


def _postgres_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # the reason is shown in the skip or failure message
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


@pytest.fixture(scope="session")
def postgres_server():
    """The admin URL of the local PostgreSQL server; skips without it, fails in CI."""
    problem = _postgres_available()
    if problem:
        message = f"PostgreSQL not reachable at {make_url(PG_ADMIN_URL).render_as_string(hide_password=True)}: {problem}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    return PG_ADMIN_URL


@pytest.fixture
def postgres_database(postgres_server):
    """A fresh database on the local server for one test, dropped afterwards."""
    name = f"wa_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_server).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """The same store tests on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return request.getfixturevalue("postgres_database")
