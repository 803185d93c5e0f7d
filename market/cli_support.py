"""What every `market` command checks before it acts: the configuration, the database, the key.

Each failure is one line on stderr and exit status 2, never a traceback, and a command that
only reads never creates: no empty database, no new signing key.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from market.common import clock
from market.home import sqlite_file
from market.settings import Settings, configuration_errors, get_settings

USAGE_ERROR = 2
SCHEMA_TABLE = "alembic_version"


class ConfigurationError(Exception):
    """A setting that makes the service unable to start, said in one sentence."""


def fail(message: str) -> NoReturn:
    typer.echo(f"market: {message}", err=True)
    raise typer.Exit(USAGE_ERROR)


def load_settings() -> Settings:
    try:
        settings = get_settings()
    except ValidationError as exc:
        for line in configuration_errors(exc):
            typer.echo(f"configuration error: {line}", err=True)
        raise typer.Exit(USAGE_ERROR) from None
    # Every command runs on the server's business time (demo time moved by `market clock`).
    clock.use_stored_offset(settings.demo_clock_file)
    return settings


def configuration_failure(exc: ConfigurationError) -> NoReturn:
    typer.echo(f"configuration error: {exc}", err=True)
    raise typer.Exit(USAGE_ERROR)


def _where(settings: Settings) -> str:
    return f"MARKET_HOME is {settings.home}"


def require_database(settings: Settings, database_url: str | None = None) -> str:
    """The database URL, once it is known to exist and to carry the schema; else exit 2."""
    url = database_url or settings.effective_database_url
    database_file = sqlite_file(url)
    if database_file is not None:
        _require_sqlite_schema(settings, database_file.resolve())
    elif url.startswith("postgresql"):
        _require_postgres_schema(url)
    return url


def _require_sqlite_schema(settings: Settings, path: Path) -> None:
    if not path.is_file():
        fail(
            f"no database at {path} ({_where(settings)}); start the service once (`market serve`) "
            "or run `market db upgrade`, or point MARKET_HOME at the server's data directory"
        )
    try:
        # Read-only: checking must never create or change the file.
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (SCHEMA_TABLE,)
            ).fetchone()
    except sqlite3.DatabaseError as exc:
        fail(f"{path} is not a readable SQLite database: {exc}")
    if not found:
        fail(f"the database at {path} has no schema; run `market db upgrade`")


def _require_postgres_schema(url: str) -> None:
    from market.db.session import make_engine

    shown = make_url(url).render_as_string(hide_password=True)

    async def has_schema() -> bool:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                return bool(await conn.run_sync(lambda c: inspect(c).has_table(SCHEMA_TABLE)))
        finally:
            await engine.dispose()

    try:
        found = asyncio.run(has_schema())
    except Exception as exc:  # any failure to connect is reported the same way, in one line
        fail(f"cannot reach the database at {shown}: {first_line(exc)}")
    if not found:
        fail(f"the database at {shown} has no schema; run `market db upgrade`")


def first_line(exc: BaseException) -> str:
    """The driver's own message, first line only (an error is reported in one line)."""
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0] if text.strip() else type(exc).__name__


def require_public_key(settings: Settings) -> str:
    """The exchange's public key; never generates a new key where none exists."""
    if not settings.has_signing_key():
        fail(
            f"no signing key at {settings.signing_key_file} ({_where(settings)}); the service creates "
            "it on its first start (`market serve`), or set MARKET_SIGNING_KEY"
        )
    return settings.exchange_public_key_b64()
