"""Alembic environment: the Telecare models, on the configured database."""

from alembic import context

from telecare.db import make_engine
from telecare.models import Base
from telecare.settings import load_settings

# An arbitrary constant naming "Telecare's schema migration" among advisory locks.
MIGRATION_LOCK = 7_240_011_001
config = context.config
url = config.attributes.get("database_url") or load_settings().database_url


def run_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several processes upgrading at once (one per systemd unit, say) take turns:
            # the next one finds the schema current and does nothing. Released at commit.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
