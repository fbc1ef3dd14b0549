"""Shared fixtures: one migrated database per run, one rolled-back transaction per test.

Every test runs on SQLite; set TELECARE_TEST_DATABASE_URL (any SQLAlchemy URL) to run the
same tests on PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from telecare.db import make_engine
from telecare.migrate import upgrade
from telecare.settings import DatabaseSettings, EnrolmentSettings, Settings

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def pytest_report_header(config):
    return f"telecare database: {_test_database_url('<tmp>/test.db')}"


def pytest_collection_modifyitems(config, items):
    """A test marked own_sqlite runs the same whatever the test database: run it once."""
    if _test_database_url("").startswith("sqlite"):
        return
    once = pytest.mark.skip(reason="runs on a SQLite file of its own (the demo, the Milan-day "
                                   "bench), whatever the test database: the SQLite pass runs it")
    for item in items:
        if "own_sqlite" in item.keywords:
            item.add_marker(once)


def _test_database_url(sqlite_path: str) -> str:
    return os.environ.get("TELECARE_TEST_DATABASE_URL") or f"sqlite:///{sqlite_path}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = _test_database_url(str(tmp_path_factory.mktemp("db") / "test.db"))
    if url.startswith("sqlite"):
        yield url
        return
    # A private database per run on the given server, so parallel runs never meet.
    with _private_database(url) as private_url:
        yield private_url


@contextmanager
def _private_database(server_url: str):
    server = make_url(server_url)
    name = f"telecare_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(server.render_as_string(hide_password=False)).execution_options(
        isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url) -> Engine:
    """A database built by the migrations themselves."""
    engine = make_engine(database_url)
    upgrade(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A SQLite file migrated once per run, copied for each test that needs one of its own:
    running the migrations for each such test cost about half a second apiece."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    upgrade(f"sqlite:///{path}")
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # all in the main file, none in -wal
    connection.close()
    return path


@pytest.fixture
def server_database(database_url, tmp_path, request):
    """A migrated database of its own, for a real server or process that commits for real."""
    if database_url.startswith("sqlite"):
        path = tmp_path / "server.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        yield f"sqlite:///{path}"
        return
    with _private_database(database_url) as url:
        upgrade(url)
        yield url


@pytest.fixture
def connection(engine):
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def session_factory(connection) -> sessionmaker[Session]:
    """Sessions joined to the test's transaction: their commits become savepoints."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                        expire_on_commit=False)


@pytest.fixture
def session(session_factory) -> Session:
    with session_factory() as session:
        yield session


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database=DatabaseSettings(url=database_url),
        enrolment=EnrolmentSettings(minimum_age=80, phone_region="IT", languages=["it", "en"]),
    )


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("the shared reference data is not beside this checkout")
    return SHARED_DATA


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing():
    """Real argon2, with the cheapest parameters: the production cost is for attackers only."""
    import argon2
    from argon2.profiles import CHEAPEST

    from telecare import users

    production = users._hasher
    users._hasher = argon2.PasswordHasher.from_parameters(CHEAPEST)
    yield
    users._hasher = production
