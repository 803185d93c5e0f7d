"""The jobs themselves, through the API where a user would see their effect: deadline warnings
in working days, quote expiry, the idempotency purge; and the embedded runner's retries and
shutdown."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from market.alerts.models import RiskAlert
from market.common import clock
from market.idempotency.jobs import purge_expired_idempotency_records
from market.idempotency.models import IdempotencyRecord
from market.jobs import Retry, enqueue, job
from market.jobs.embedded import EmbeddedRunner
from market.jobs.models import EmbeddedJob
from market.orders.jobs import expire_quotes
from market.registry.jobs import warn_objection_deadlines
from market.registry.workdays import add_working_days, load_calendar
from market.runtime import Runtime
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api, row_count
from tests.api.jobs import drain, run
from tests.api.orders_factories import sealed_quote
from tests.api.test_registry_lifecycle import apply_and_approve


async def operator_events(client: Any, operator: dict[str, str], kind: str) -> list[dict[str, Any]]:
    items = (await client.get("/v1/events", headers=operator)).json()["items"]
    return [e for e in items if e["type"] == kind]


async def test_objection_deadline_warnings_before_and_at_the_deadline(
    api: Api, client: Any, app: Any
) -> None:
    seller, rival, operator = await api.org(), await api.org(), await api.staff("operator")
    reg = await apply_and_approve(api, seller, operator)
    filed = await client.post(
        f"/v1/registrations/{reg['id']}/objections",
        headers=rival.headers,
        json={"kind": "wrong_data", "grounds": "the district names are wrong"},
    )
    due = filed.json()["due_at"]
    assert await run(app, warn_objection_deadlines) == 0  # 5 working days left: quiet
    # One working day before the deadline (Art. 30; 2020 Art. 12: 5 working days).
    day_before = add_working_days(clock.now(), 4, load_calendar())
    clock.advance(day_before - clock.now() - timedelta(hours=1))
    assert await run(app, warn_objection_deadlines) == 1
    assert await run(app, warn_objection_deadlines) == 0  # once only
    await drain(app)  # the feed shows events once the delivery job has sequenced them
    warned = await operator_events(client, operator, "objection.deadline_approaching")
    assert (
        len(warned) == 1
        and datetime.fromisoformat(warned[0]["data"]["due_at"]) == datetime.fromisoformat(due)
        and warned[0]["data"]["working_days_left"] == 1
    )
    assert await row_count(app, RiskAlert) == 0
    clock.advance(datetime.fromisoformat(due) + timedelta(hours=1) - clock.now())  # past it, still open
    assert await run(app, warn_objection_deadlines) == 2  # operators and the applicant
    assert await run(app, warn_objection_deadlines) == 0
    await drain(app)
    assert len(await operator_events(client, operator, "objection.overdue")) == 1
    alerts = (await client.get("/v1/alerts?rule=objection_overdue", headers=operator)).json()["items"]
    assert len(alerts) == 1 and alerts[0]["subject_id"] == reg["id"]
    mine = (await client.get("/v1/events", headers=seller.headers)).json()["items"]
    assert "objection.overdue" in [e["type"] for e in mine]


async def test_quotes_expire_and_an_expired_quote_is_not_ordered(api: Api, client: Any, app: Any) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    product = await listed_product(app, seller.participant_id)
    stale = await sealed_quote(app, product["product_id"], buyer.participant_id, ttl=timedelta(minutes=5))
    fresh = await sealed_quote(app, product["product_id"], buyer.participant_id, ttl=timedelta(hours=2))
    clock.advance(timedelta(minutes=10))
    assert await run(app, expire_quotes) == 1
    assert await run(app, expire_quotes) == 0
    assert (await client.get(f"/v1/quotes/{stale}", headers=buyer.headers)).json()["status"] == "expired"
    assert (await client.get(f"/v1/quotes/{fresh}", headers=buyer.headers)).json()["status"] == "open"
    auditor = await api.staff("auditor")
    entries = (await client.get(f"/v1/audit/entries?subject_id={stale}", headers=auditor)).json()["items"]
    assert [e["action"] for e in entries] == ["quote.expired"]
    refused = await client.post(
        "/v1/orders", json={"quote_id": stale}, headers={**buyer.headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert refused.status_code == 409


async def test_idempotency_records_are_purged_after_the_retention_window(
    api: Api, client: Any, app: Any
) -> None:
    party = await api.org()
    key = {"Idempotency-Key": uuid.uuid4().hex}
    made = await client.post("/v1/resources", json=_resource(), headers={**party.headers, **key})
    assert made.status_code == 201
    clock.advance(timedelta(hours=23))
    assert await run(app, purge_expired_idempotency_records) == 0
    replay = await client.post("/v1/resources", json=_resource(), headers={**party.headers, **key})
    assert replay.headers.get("Idempotent-Replayed") == "true"  # within 24 hours: replayed
    clock.advance(timedelta(hours=2))
    assert await run(app, purge_expired_idempotency_records) == 1
    assert await row_count(app, IdempotencyRecord) == 0


def _resource() -> dict[str, Any]:
    return {
        "title": "企业用电数据",
        "category": "enterprise",
        "grade": "general",
        "lawful_source": "our own meters",
    }


ATTEMPTS: dict[str, int] = {}


@job("test.flaky", retry=Retry(max_attempts=3, backoff_base_seconds=1), exclusive=False)
async def flaky(runtime: Runtime, name: str) -> int:
    """Fails on its first attempt, then succeeds."""
    ATTEMPTS[name] = ATTEMPTS.get(name, 0) + 1
    if ATTEMPTS[name] == 1:
        raise RuntimeError("first attempt fails")
    return 1


async def test_the_embedded_runner_retries_with_backoff_and_stops_cleanly(app: Any, backend: str) -> None:
    if backend != "sqlite":
        return  # the embedded runner is SQLite's; PostgreSQL's queue is procrastinate
    name = uuid.uuid4().hex
    async with app.state.sessionmaker() as session, session.begin():
        await enqueue(session, flaky, name=name)
    runner = EmbeddedRunner(app.state.runtime, [flaky], poll_seconds=0.05)
    runner.start()
    for _ in range(100):
        await asyncio.sleep(0.05)
        if ATTEMPTS.get(name) == 2:
            break
    await runner.stop()
    assert ATTEMPTS[name] == 2  # failed once, retried after its backoff, succeeded
    async with app.state.sessionmaker() as s:
        row = (await s.execute(select(EmbeddedJob).where(EmbeddedJob.task_name == "test.flaky"))).scalar_one()
        assert (row.status, row.attempts) == ("succeeded", 2) and "first attempt fails" in (row.error or "")
        assert (
            await s.scalar(select(func.count()).select_from(EmbeddedJob).where(EmbeddedJob.status == "doing"))
            == 0
        )
    assert runner._loop_task is not None and runner._loop_task.done() and not runner._running
