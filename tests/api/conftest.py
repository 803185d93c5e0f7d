"""Every API test runs twice: on an SQLite file and on PostgreSQL.

PostgreSQL comes from MARKET_TEST_DATABASE_URL; without it, from testcontainers when a Docker
engine answers; otherwise its tests are skipped with the reason shown. With
MARKET_REQUIRE_POSTGRES=1 (set by .ci/run) a missing PostgreSQL fails the run instead.
Each run creates its own database (dropped at the end), so runs never see each other's data.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from market.app import create_app
from market.common import clock
from market.db.base import Base
from market.db.migrate import upgrade
from market.registry.models import CalendarYear
from market.settings import Settings
from tests.api.factories import Api
from tests.api.registry_factories import years_confirmed_for_tests

TEST_SIGNING_KEY = base64.b64encode(bytes(range(32))).decode()
TEST_JWT_SECRET = "test-jwt-secret-that-is-long-enough-0123456789"
TEST_YEARS_SOURCE = "tests: years past the calendar package, weekends only"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("postgres_only") and "backend" in getattr(item, "fixturenames", ()):
            callspec = getattr(item, "callspec", None)
            if callspec and callspec.params.get("backend_app") == "sqlite":
                item.add_marker(pytest.mark.skip(reason="PostgreSQL-only test (locking/concurrency)"))


def _docker_postgres() -> Iterator[str] | None:
    try:
        import docker

        docker.from_env().ping()
    except Exception:
        return None
    from testcontainers.postgres import PostgresContainer

    def _gen() -> Iterator[str]:
        with PostgresContainer("postgres:16-alpine", driver="asyncpg") as pg:
            yield pg.get_connection_url()

    return _gen()


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    url = os.environ.get("MARKET_TEST_DATABASE_URL")
    if url:
        yield url
        return
    container = _docker_postgres()
    if container is not None:
        yield from container
        return
    reason = "PostgreSQL tests skipped: MARKET_TEST_DATABASE_URL unset and no Docker engine answers"
    if os.environ.get("MARKET_REQUIRE_POSTGRES") == "1":
        pytest.fail(reason + " (MARKET_REQUIRE_POSTGRES=1)")
    pytest.skip(reason)


async def _create_database(server_url: str) -> tuple[str, str]:
    import asyncpg

    url = make_url(server_url).set(drivername="postgresql+asyncpg")
    name = f"market_test_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(
        user=url.username,
        password=url.password,
        host=url.host,
        port=url.port or 5432,
        database=url.database,
    )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False), name


async def _drop_database(server_url: str, name: str) -> None:
    import asyncpg

    url = make_url(server_url)
    conn = await asyncpg.connect(
        user=url.username,
        password=url.password,
        host=url.host,
        port=url.port or 5432,
        database=url.database,
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def test_settings(database_url: str, data_dir: Path) -> Settings:
    return Settings(
        mode="test",
        database_url=database_url,
        data_dir=data_dir,
        jwt_secret=TEST_JWT_SECRET,
        signing_key=TEST_SIGNING_KEY,
        log_json=False,
        stripe_webhook_secret="whsec_test_secret",
        stripe_api_key="sk_test_123",
        # A run of the audit publisher's job is one round that signs whenever the tree grew
        # (tests run it when they choose; its shifts and interval are tested on their own).
        audit_head_interval_seconds=0,
        # Tests sign up and log in far more often than a person would; the rate limits' own
        # tests switch them on (tests/api/test_rate_limits.py).
        rate_limits_enabled=False,
    )


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def backend_app(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="market-test-"))
    dropper = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{data_dir / 'test.db'}"
    else:
        server = request.getfixturevalue("postgres_server_url")
        url, name = await _create_database(server)
        dropper = (server, name)
    # Alembic drives its own event loop, so it runs in a worker thread.
    import asyncio

    await asyncio.to_thread(upgrade, url)
    app = create_app(test_settings(url, data_dir))
    app.state.backend = request.param
    try:
        yield app
    finally:
        await app.state.engine.dispose()
        if dropper:
            await _drop_database(*dropper)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def backend(backend_app: Any) -> str:
    return str(backend_app.state.backend)


PROCRASTINATE_TABLES = (  # children first
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)


async def _wipe(app: Any) -> None:
    """Every table emptied and every PostgreSQL sequence back at its start, before each test.

    DELETE, children first, not TRUNCATE: a TRUNCATE gives each of the hundred-odd tables and
    indexes a new file, a third of a second per test on PostgreSQL, where a DELETE of the few
    rows a test wrote costs milliseconds (the whole suite was minutes slower)."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with app.state.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            sequences = await conn.execute(
                text("SELECT schemaname, sequencename, start_value FROM pg_sequences")
            )
            wipe = [f"DELETE FROM {table}" for table in [*tables, *PROCRASTINATE_TABLES]]
            wipe += [f"SELECT setval('{schema}.{name}', {start}, false)" for schema, name, start in sequences]
            # One round trip: asyncpg sends a statement without arguments as a simple query,
            # which may hold several.
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            await driver.execute(";\n".join(wipe))
        else:
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))


async def confirm_years_past_the_calendar(app: Any) -> None:
    """Tests move the business clock weeks ahead, so deadlines reach past the last year the
    holiday calendar package knows: confirm the next years as an operator would (weekends only).
    Tests of the refusal itself delete these rows first."""
    async with app.state.sessionmaker() as session, session.begin():
        for year in years_confirmed_for_tests():
            session.add(
                CalendarYear(
                    year=year, source=TEST_YEARS_SOURCE, confirmed_by="tests", created_at=clock.now()
                )
            )


@pytest.fixture
async def app(backend_app: Any) -> AsyncIterator[Any]:
    await _wipe(backend_app)
    clock.reset()
    await confirm_years_past_the_calendar(backend_app)
    yield backend_app
    clock.reset()


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
def api(client: httpx.AsyncClient, app: Any) -> Api:
    return Api(client, app)
