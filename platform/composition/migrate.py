"""Run Alembic migrations from code (``clb migrate`` and start-up), one instance at a time."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from clb.db import Pooling, create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant works; it only has to be the same for every instance of the platform.
MIGRATION_LOCK_ID = 740_212_001


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


async def migrate(
    database_url: str, revision: str = "head", *, pooling: Pooling = "session"
) -> None:
    engine = create_engine(database_url, pooling=pooling, statement_seconds=None)
    try:
        async with engine.begin() as connection:
            # Several app instances may start together; the lock makes them take turns. It
            # is the transaction's, like every migration step after it: all of it holds one
            # server connection, so it works through PgBouncer in transaction mode too.
            await connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})"))
            await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))
    finally:
        await engine.dispose()
