"""Database faults: a connection killed mid-order, a server restarted under load.

What a client must see: a 503 problem+json with Retry-After (never a hang, a bare 500 or a
traceback), no half-made order, an audit log that still verifies, and a service that recovers on
its own once the database is back.
"""

from __future__ import annotations

import asyncio
import base64
import math
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from market.app import create_app
from market.audit.models import AuditEntry
from market.audit.verify_db import verify_database
from market.catalog.models import Product
from market.common import clock
from market.db.migrate import upgrade
from market.idempotency.models import IdempotencyRecord
from market.orders.models import Order, Quote
from market.payments.models import Payment
from market.payments.provider import OfflineProvider, ProviderPayment
from tests.api import conftest as api_conftest
from tests.api import runtime_swaps as swaps
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api, Party
from tests.api.orders_factories import sealed_quote
from tests.api.private_postgres import PrivatePostgres, PrivatePostgresUnavailable, private_postgres

DB_UNAVAILABLE = "https://jilin-data-exchange.example/problems/database-unavailable"


def assert_database_unavailable(response: httpx.Response) -> None:
    """The answer a client can act on: 503, problem+json, a stable type and when to retry."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == DB_UNAVAILABLE and body["status"] == 503
    assert "Traceback" not in response.text
    assert int(response.headers["retry-after"]) >= 1


async def verified_audit_log(app: Any) -> int:
    """Sequence what is pending, sign a head and run the offline verifier over the database."""
    from tests.api.audit_factories import publish_now

    outcome = await publish_now(app)
    assert outcome.consistent, outcome.finding
    size = outcome.tree_size
    key = base64.b64encode(app.state.settings.exchange_signing_key().public_key().public_bytes_raw()).decode()
    report = await verify_database(app.state.settings.effective_database_url, key)
    assert report.ok, report
    assert report.entries == size
    return size


class BackendKiller(OfflineProvider):
    """Runs inside POST /v1/orders after the order row exists: the request's database backend is
    terminated from another connection, so the transaction can never commit."""

    def __init__(self, app: Any, sessions: list[AsyncSession], wait_until_gone: bool) -> None:
        super().__init__()
        self.app, self.sessions, self.wait_until_gone = app, sessions, wait_until_gone
        self.killed_pid: int | None = None
        self.seen_inside: dict[str, int] = {}

    async def create_payment(self, **kwargs: Any) -> ProviderPayment:
        order_id = uuid.UUID(kwargs["order_id"])
        session = next(
            s
            for s in self.sessions
            if any(isinstance(o, Order) and o.id == order_id for o in [*s.identity_map.values(), *s.new])
        )
        await session.flush()  # the order.created audit entry too, so both are on the server
        self.seen_inside = {
            "orders": await session.scalar(
                select(func.count()).select_from(Order).where(Order.id == order_id)
            )
            or 0,
            "order.created": await session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.subject_id == str(order_id), AuditEntry.action == "order.created")
            )
            or 0,
        }
        self.killed_pid = await session.scalar(text("SELECT pg_backend_pid()"))
        # With a timeout PostgreSQL waits until the backend has really gone (false if it has
        # not after 5 s). Polling pg_stat_activity instead would spin forever: within one
        # transaction it is a snapshot, and shows the backend alive for as long as it lasts.
        wait_ms = 5000 if self.wait_until_gone else 0
        async with self.app.state.engine.connect() as other:
            assert await other.scalar(
                text("SELECT pg_terminate_backend(:pid, :wait_ms)"),
                {"pid": self.killed_pid, "wait_ms": wait_ms},
            )
        return await super().create_payment(**kwargs)


def recording(maker: Callable[[], AsyncSession], sessions: list[AsyncSession]) -> Callable[[], AsyncSession]:
    def make() -> AsyncSession:
        session = maker()
        sessions.append(session)
        return session

    return make


@pytest.mark.postgres_only
@pytest.mark.parametrize("wait_until_gone", [True, False], ids=["backend-gone", "racing-the-kill"])
async def test_connection_killed_mid_order_answers_503_and_leaves_nothing(
    api: Api, client: httpx.AsyncClient, app: Any, backend: str, wait_until_gone: bool
) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    product = await listed_product(app, seller.participant_id)
    quote = await sealed_quote(app, product["product_id"], buyer.participant_id)
    entries_before = await verified_audit_log(app)
    headers = {**buyer.headers, "Idempotency-Key": "db-fault-0001-order"}

    sessions: list[AsyncSession] = []
    killer = BackendKiller(app, sessions, wait_until_gone)
    # As a real client sees it: a server fault is an HTTP answer, never an exception in the caller.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with (
        swaps.payment_provider(app, killer),
        swaps.sessionmaker(app, recording(app.state.sessionmaker, sessions)),
    ):
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as real_client:
            failed = await real_client.post("/v1/orders", json={"quote_id": quote}, headers=headers)

    # The kill happened inside the transaction, after the order row and its audit entry were written.
    assert killer.killed_pid is not None
    assert killer.seen_inside == {"orders": 1, "order.created": 1}
    assert_database_unavailable(failed)

    async with app.state.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Order)) == 0
        assert await s.scalar(select(func.count()).select_from(Payment)) == 0
        assert await s.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
        row = await s.get(Product, uuid.UUID(product["product_id"]))
        assert row is not None and row.sold_count == 0
        stored_quote = await s.get(Quote, uuid.UUID(quote))
        assert stored_quote is not None and stored_quote.status != "ordered"
        assert await s.scalar(select(func.count()).select_from(AuditEntry)) == entries_before
    assert await verified_audit_log(app) == entries_before

    # The same key and quote go through on the same app: nothing half-done blocks the retry, and
    # the pool gave the retry a live connection.
    retry = await client.post("/v1/orders", json={"quote_id": quote}, headers=headers)
    assert retry.status_code == 201, retry.text
    order_id = retry.json()["id"]
    async with app.state.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Order)) == 1
        row = await s.get(Product, uuid.UUID(product["product_id"]))
        assert row is not None and row.sold_count == 1
        created = await s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.subject_id == order_id, AuditEntry.action == "order.created")
        )
        assert created == 1
    assert await verified_audit_log(app) > entries_before


# PostgreSQL restarted under load -----------------------------------------------------------------

CLIENTS = 4  # concurrent buyers
ORDERS_PER_CLIENT = 8  # bounded load: 32 purchases (plus a probe), in process, no network
HELD_BACK = 2  # each buyer's last orders wait for the restarted server, so the load spans it
STOP_AFTER = CLIENTS * 2  # orders answered 201 before the server is stopped
REQUEST_TIMEOUT = 10.0  # a request slower than this is a hang
OUTAGE_SECONDS = 0.8
LOAD_DEADLINE = 25.0


@dataclass
class Outcome:
    quote: str
    status: int
    started: float
    finished: float
    order_id: str | None = None
    problem: str = ""


@dataclass
class Timeline:
    outcomes: list[Outcome] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    enough_sold: asyncio.Event = field(default_factory=asyncio.Event)
    server_back: asyncio.Event = field(default_factory=asyncio.Event)
    stopped_at: float = math.inf
    back_at: float = math.inf

    def created(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == 201]

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        if outcome.problem:
            self.anomalies.append(outcome.problem)
        if len(self.created()) >= STOP_AFTER or self.anomalies:
            self.enough_sold.set()


async def post_order(client: httpx.AsyncClient, party: Party, quote: str, key: str) -> Outcome:
    """One purchase as a client sees it; anything but 201 or a proper 503 is a problem."""
    started = time.monotonic()
    headers = {**party.headers, "Idempotency-Key": key}
    try:
        r = await asyncio.wait_for(
            client.post("/v1/orders", json={"quote_id": quote}, headers=headers), REQUEST_TIMEOUT
        )
    except TimeoutError:
        return Outcome(quote, 0, started, time.monotonic(), problem=f"no answer in {REQUEST_TIMEOUT} s")
    outcome = Outcome(quote, r.status_code, started, time.monotonic())
    if r.status_code == 201:
        outcome.order_id = r.json()["id"]
    else:
        try:
            assert_database_unavailable(r)
        except (AssertionError, KeyError, ValueError) as exc:
            outcome.problem = f"{r.status_code} {r.headers.get('content-type')}: {r.text[:300]} ({exc})"
    return outcome


async def buyer_load(client: httpx.AsyncClient, party: Party, quotes: list[str], timeline: Timeline) -> None:
    """Buy every quote; on 503 retry with the same Idempotency-Key after a short pause."""
    for i, quote in enumerate(quotes):
        if i >= len(quotes) - HELD_BACK:
            await timeline.server_back.wait()
        for _attempt in range(200):
            outcome = await post_order(client, party, quote, f"restart-load-{quote}")
            timeline.add(outcome)
            if outcome.problem:
                return
            if outcome.status == 201:
                break
            await asyncio.sleep(0.05)  # a real client honours Retry-After; a test need not wait 1 s
        else:
            timeline.anomalies.append(f"quote {quote} never went through")
            return


async def restart_in_the_middle(
    server: PrivatePostgres, client: httpx.AsyncClient, prober: Party, quote: str, timeline: Timeline
) -> list[Outcome]:
    """Stop the server once orders flow (cutting off those in flight), probe the outage, start it
    again, then place one order on the same app."""
    await timeline.enough_sold.wait()
    timeline.stopped_at = time.monotonic()
    await asyncio.to_thread(server.stop, "fast")
    try:
        probes = [await post_order(client, prober, quote, "restart-probe-0001")]
        ready = await client.get("/readyz")
        assert ready.status_code == 503, ready.text
        await asyncio.sleep(OUTAGE_SECONDS)  # the buyers keep retrying against the stopped server
        probes.append(await post_order(client, prober, quote, "restart-probe-0001"))
    finally:
        await asyncio.to_thread(server.start)
        timeline.back_at = time.monotonic()
        timeline.server_back.set()
    probes.append(await post_order(client, prober, quote, "restart-probe-0001"))
    return probes


async def test_postgres_restart_under_load_loses_no_order_and_recovers() -> None:
    try:
        with private_postgres() as server:
            await restart_under_load(server)
    except PrivatePostgresUnavailable as exc:
        pytest.skip(str(exc))


async def restart_under_load(server: PrivatePostgres) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="market-restart-"))
    await asyncio.to_thread(upgrade, server.url)  # as the conftest migrates its databases
    settings = api_conftest.test_settings(server.url, data_dir)
    app = create_app(settings)
    clock.reset()
    try:
        async with client_of(app) as client:
            api = Api(client, app)
            seller = await api.org()
            product = (await listed_product(app, seller.participant_id))["product_id"]
            buyers = [await api.org(roles=("buyer",)) for _ in range(CLIENTS + 1)]
            quotes = {
                b.participant_id: [
                    await sealed_quote(app, product, b.participant_id) for _ in range(ORDERS_PER_CLIENT)
                ]
                for b in buyers
            }
            prober = buyers.pop()
            probe_quotes = quotes[prober.participant_id]
            entries_before = await verified_audit_log(app)

            timeline = Timeline()
            async with asyncio.timeout(LOAD_DEADLINE), asyncio.TaskGroup() as load:
                for b in buyers:
                    load.create_task(buyer_load(client, b, quotes[b.participant_id], timeline))
                restart = load.create_task(
                    restart_in_the_middle(server, client, prober, probe_quotes[0], timeline)
                )
            probes = restart.result()

        # Every answer was a 201 or a clear 503 (problem+json, stable type, Retry-After), none hung.
        assert not timeline.anomalies, timeline.anomalies
        down, still_down, back = probes
        assert down.status == 503 and still_down.status == 503
        assert max(down.finished - down.started, still_down.finished - still_down.started) < 2.0
        assert any(o.status == 503 for o in timeline.outcomes), "no buyer met the outage"
        assert any(o.finished < timeline.stopped_at for o in timeline.created())
        # Once the server is back the same app instance sells again, at the first attempt.
        assert back.status == 201, back
        after = [o for o in timeline.outcomes if o.started > timeline.back_at]
        assert len(after) >= CLIENTS * HELD_BACK and all(o.status == 201 for o in after)

        # No committed order lost, none doubled: each quote has exactly the order its 201 named.
        answered = {o.quote: o.order_id for o in [*timeline.created(), back]}
        assert len(answered) == CLIENTS * ORDERS_PER_CLIENT + 1
        async with app.state.sessionmaker() as s:
            stored = {str(q): str(i) for q, i in (await s.execute(select(Order.quote_id, Order.id))).all()}
            assert stored == answered
            row = await s.get(Product, uuid.UUID(product))
            assert row is not None and row.sold_count == len(stored)
            created_entries = await s.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "order.created")
            )
            assert created_entries == len(stored)
        assert await verified_audit_log(app) > entries_before + len(stored)

        await refused_while_shutting_down(server, settings, prober, probe_quotes[1])
    finally:
        clock.reset()
        await app.state.engine.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)


async def refused_while_shutting_down(
    server: PrivatePostgres, settings: Any, buyer: Party, quote: str
) -> None:
    """A smart shutdown keeps open sessions but refuses new ones ("the database system is shutting
    down"): an instance started meanwhile, with no pooled connection, answers 503, not 500."""
    session_kept_open = await server.connect()
    fresh = create_app(settings)
    try:
        await asyncio.to_thread(server.stop, "smart", False)
        for _ in range(250):  # until the postmaster turns new sessions away
            try:
                await (await server.connect()).close()
            except asyncpg.CannotConnectNowError:
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the server never began its shutdown")
        async with client_of(fresh) as client:
            refused = await client.post(
                "/v1/orders",
                json={"quote_id": quote},
                headers={**buyer.headers, "Idempotency-Key": "shutdown-1"},
            )
        assert_database_unavailable(refused)
        assert (
            await session_kept_open.fetchval("SELECT count(*) FROM orders") == CLIENTS * ORDERS_PER_CLIENT + 1
        )
    finally:
        await fresh.state.engine.dispose()
        await session_kept_open.close()


def client_of(app: Any) -> httpx.AsyncClient:
    # As a real client sees it: a server fault is an HTTP answer, never an exception in the caller.
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://test"
    )
