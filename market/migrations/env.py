"""Alembic environment: async engines, metadata from every feature."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import event, pool, text
from sqlalchemy.engine import Connection

from market import all_models  # noqa: F401  (registers every table)
from market.db.base import Base
from market.db.migrate import ours
from market.db.session import make_engine

config = context.config
target_metadata = Base.metadata


MIGRATION_LOCK = 7_262_018  # two processes upgrading one PostgreSQL database take turns


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=ours,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        context.run_migrations()


def _sqlite_without_foreign_keys(engine: Any) -> None:
    """SQLite alters a table by copying it and dropping the old one, which a foreign key to it
    refuses; checks are off while migrating (as SQLite's own ALTER TABLE procedure says) and
    every reference is verified afterwards."""

    @event.listens_for(engine.sync_engine, "connect")
    def _off(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.close()


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration left rows referencing nothing: {broken[:5]}")


async def _run_async(url: str) -> None:
    engine = make_engine(url, poolclass=pool.NullPool)
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        _sqlite_without_foreign_keys(engine)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        if sqlite:
            await connection.run_sync(_check_foreign_keys)
    await engine.dispose()


def run() -> None:
    url: Any = config.get_main_option("sqlalchemy.url")
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_async(url))


run()
