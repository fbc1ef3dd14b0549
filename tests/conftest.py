"""Shared fixtures: one migrated database per run, one rolled-back transaction per test.

Every test runs on SQLite; set TELECARE_TEST_DATABASE_URL (any SQLAlchemy URL) to run the
same tests on PostgreSQL.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from telecare.db import make_engine
from telecare.migrate import upgrade
from telecare.models import Base
from telecare.settings import DatabaseSettings, EnrolmentSettings, Settings

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def pytest_report_header(config):
    return f"telecare database: {_test_database_url('<tmp>/test.db')}"


def _test_database_url(sqlite_path: str) -> str:
    return os.environ.get("TELECARE_TEST_DATABASE_URL") or f"sqlite:///{sqlite_path}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return _test_database_url(str(tmp_path_factory.mktemp("db") / "test.db"))


@pytest.fixture(scope="session")
def engine(database_url) -> Engine:
    """A database built by the migrations themselves, emptied first if it is a shared server."""
    engine = make_engine(database_url)
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            Base.metadata.drop_all(connection)
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(database_url)
    yield engine
    engine.dispose()


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


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("the shared reference data is not beside this checkout")
    return SHARED_DATA
