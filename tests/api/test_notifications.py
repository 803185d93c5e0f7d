"""Notifications: written with the change they report, delivered to the participant's webhook
endpoints signed per Standard Webhooks, retried with backoff, logged, replayed, disabled after
repeated failure, and readable as a feed of one's own events."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text

from market.common import clock
from market.jobs import enqueue
from market.jobs.models import EmbeddedJob
from market.notifications.jobs import deliver_notifications
from market.notifications.models import NotificationEvent
from market.notifications.outbox import notify
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api, Party
from tests.api.jobs import drain, run
from tests.api.orders_factories import sealed_quote
from tests.api.runtime_swaps import as_production
from tests.api.webhook_receiver import webhook_receiver


async def endpoint(api: Api, party: Party, url: str, **body: Any) -> dict[str, Any]:
    r = await api.client.post("/v1/webhook-endpoints", json={"url": url, **body}, headers=party.headers)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def paid_order(api: Api, app: Any, seller: Party, buyer: Party) -> str:
    operator = await api.staff("operator")
    product = await listed_product(app, seller.participant_id)
    quote = await sealed_quote(app, product["product_id"], buyer.participant_id)
    placed = await api.client.post(
        "/v1/orders",
        json={"quote_id": quote},
        headers={**buyer.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status_code == 201, placed.text
    paid = await api.client.post(f"/v1/payments/{placed.json()['id']}/confirmation", headers=operator)
    assert paid.status_code == 200, paid.text
    return str(placed.json()["id"])


async def test_signed_deliveries_a_retry_after_500_and_the_feed(api: Api, client: Any, app: Any) -> None:
    seller, buyer, stranger = await api.org(), await api.org(roles=("buyer",)), await api.org()
    with webhook_receiver() as receiver:
        receiver.script = [500]  # the receiver's first answer is an error
        hook = await endpoint(api, buyer, receiver.url, event_types=["order.paid", "licence.issued"])
        assert hook["secret"].startswith("whsec_")
        order_id = await paid_order(api, app, seller, buyer)
        await drain(app)  # the delivery job, enqueued by the payment's transaction
        first = {json.loads(r.body)["type"]: r for r in receiver.requests}
        assert set(first) == {"order.paid", "licence.issued"}
        log = (
            await client.get(f"/v1/webhook-endpoints/{hook['id']}/deliveries", headers=buyer.headers)
        ).json()
        failed = [d for d in log if d["last_status_code"] == 500]
        assert len(failed) == 1 and failed[0]["status"] == "pending" and failed[0]["next_attempt_at"]
        clock.advance(timedelta(seconds=10))  # past the first backoff (5 s)
        assert await run(app, deliver_notifications) == 1
        assert len(receiver.requests) == 3
        retried = receiver.requests[-1]
        assert retried.headers["webhook-id"] == failed[0]["event_id"]  # the same id: deduplicable
        # Every request verifies with the endpoint's secret, and with no other.
        assert len(receiver.verified(hook["secret"])) == 3
        assert receiver.verified("whsec_" + "A" * 44) == []
        paid = json.loads(first["order.paid"].body)
        assert paid["data"]["subject_id"] == order_id and paid["data"]["status"] == "paid"
        log = (
            await client.get(f"/v1/webhook-endpoints/{hook['id']}/deliveries", headers=buyer.headers)
        ).json()
        assert {d["status"] for d in log} == {"delivered"}
        retried_log = next(d for d in log if d["id"] == failed[0]["id"])
        assert [a["status_code"] for a in retried_log["log"]] == [500, 200]
    # The feed: the buyer's own events, in order, paged with ?after=.
    feed = (await client.get("/v1/events?limit=1", headers=buyer.headers)).json()
    rest = (await client.get(f"/v1/events?after={feed['next_after']}", headers=buyer.headers)).json()
    types = [e["type"] for e in feed["items"] + rest["items"]]
    assert types == ["order.paid", "licence.issued"]
    assert [e["type"] for e in (await client.get("/v1/events", headers=seller.headers)).json()["items"]] == [
        "order.paid",
        "licence.issued",
    ]
    assert (await client.get("/v1/events", headers=stranger.headers)).json()["items"] == []


async def test_endpoints_are_validated_shown_once_and_deleted(api: Api, client: Any, app: Any) -> None:
    buyer, other = await api.org(), await api.org()
    for url, field in [
        ("ftp://hooks.example.cn/x", "scheme"),
        ("https://user:pw@hooks.example.cn/x", "credentials"),
        ("https:///nohost", "no host"),
        ("https://hooks.example.cn:99999/x", "port"),
    ]:
        r = await client.post("/v1/webhook-endpoints", json={"url": url}, headers=buyer.headers)
        assert r.status_code == 422 and r.json()["errors"][0] == {"field": "body.url", "reason": field}, (
            r.text
        )
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"url": "http://127.0.0.1:9/hook", "description": "ours"}
    made = await client.post("/v1/webhook-endpoints", json=body, headers={**buyer.headers, **key})
    assert made.status_code == 201 and made.json()["secret"].startswith("whsec_")
    again = await client.post("/v1/webhook-endpoints", json=body, headers={**buyer.headers, **key})
    assert again.status_code == 409 and "secret" not in again.text.replace("secret was shown", "")
    listed = (await client.get("/v1/webhook-endpoints", headers=buyer.headers)).json()
    assert [e["id"] for e in listed] == [made.json()["id"]] and "secret" not in listed[0]
    assert (
        await client.get(f"/v1/webhook-endpoints/{made.json()['id']}", headers=other.headers)
    ).status_code == 404
    assert (
        await client.delete(f"/v1/webhook-endpoints/{made.json()['id']}", headers=other.headers)
    ).status_code == 404
    assert (
        await client.delete(f"/v1/webhook-endpoints/{made.json()['id']}", headers=buyer.headers)
    ).status_code == 204
    assert (
        await client.get(f"/v1/webhook-endpoints/{made.json()['id']}", headers=buyer.headers)
    ).status_code == 404
    # In production, only public https targets.
    runtime = app.state.runtime
    embedded = runtime.settings
    runtime.settings = as_production(embedded)
    try:
        for url, reason in [
            ("http://hooks.example.cn/x", "scheme"),
            ("https://127.0.0.1/x", "loopback, private or reserved target"),
            ("https://10.1.2.3/x", "loopback, private or reserved target"),
            ("https://[::1]/x", "loopback, private or reserved target"),
            ("https://169.254.169.254/latest", "loopback, private or reserved target"),
            ("https://localhost/x", "loopback, private or reserved target"),
        ]:
            r = await client.post("/v1/webhook-endpoints", json={"url": url}, headers=buyer.headers)
            assert r.status_code == 422 and r.json()["errors"][0]["reason"] == reason, (url, r.text)
    finally:
        runtime.settings = embedded


async def test_repeated_failure_disables_the_endpoint_and_a_replay_sends_again(
    api: Api, client: Any, app: Any
) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    runtime = app.state.runtime
    defaults = runtime.settings
    runtime.settings = defaults.model_copy(
        update={"webhook_disable_after_failures": 3, "webhook_max_attempts": 2}
    )
    try:
        with webhook_receiver() as receiver:
            receiver.script = [503] * 4
            hook = await endpoint(api, buyer, receiver.url, event_types=["order.paid"])
            await paid_order(api, app, seller, buyer)
            await paid_order(api, app, seller, buyer)
            await drain(app)
            clock.advance(timedelta(minutes=5))
            await run(app, deliver_notifications)
            state = (await client.get(f"/v1/webhook-endpoints/{hook['id']}", headers=buyer.headers)).json()
            assert state["status"] == "disabled" and "3 failed deliveries" in state["status_reason"]
            log = (
                await client.get(f"/v1/webhook-endpoints/{hook['id']}/deliveries", headers=buyer.headers)
            ).json()
            failed = next(d for d in log if d["status"] == "failed")
            assert [a["status_code"] for a in failed["log"]] == [503, 503]
            replay = f"/v1/webhook-deliveries/{failed['id']}/replay"
            assert (await client.post(replay, headers=buyer.headers)).status_code == 409  # disabled
            enabled = await client.post(f"/v1/webhook-endpoints/{hook['id']}/enable", headers=buyer.headers)
            assert enabled.json()["status"] == "enabled"
            assert (await client.post(replay, headers=seller.headers)).status_code == 404
            assert (await client.post(replay, headers=buyer.headers)).status_code == 202
            await drain(app)
            log = (
                await client.get(f"/v1/webhook-endpoints/{hook['id']}/deliveries", headers=buyer.headers)
            ).json()
            replayed = next(d for d in log if d["id"] == failed["id"])
            assert replayed["status"] == "delivered" and replayed["log"][-1]["trigger"] == "replay"
            # The other one used up its attempts too: it stays failed until replayed as well.
            assert sorted(d["status"] for d in log) == ["delivered", "failed"]
    finally:
        runtime.settings = defaults


async def queued_jobs(app: Any) -> int:
    async with app.state.sessionmaker() as s:
        if s.get_bind().dialect.name == "postgresql":
            return int(await s.scalar(text("SELECT count(*) FROM procrastinate_jobs")) or 0)
        return int(await s.scalar(select(func.count()).select_from(EmbeddedJob)) or 0)


async def test_a_rolled_back_change_leaves_no_event_and_no_job(api: Api, app: Any) -> None:
    buyer = await api.org()
    async with app.state.sessionmaker() as session:
        async with session.begin():
            await notify(session, "order.paid", to=[uuid.UUID(buyer.participant_id)], subject=("order", "x"))
            await enqueue(session, deliver_notifications)
            await session.flush()
            await session.rollback()
    async with app.state.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(NotificationEvent)) == 0
    assert await queued_jobs(app) == 0
    async with app.state.sessionmaker() as session, session.begin():
        await notify(session, "order.paid", to=[uuid.UUID(buyer.participant_id)], subject=("order", "x"))
    assert await queued_jobs(app) == 1  # committed: the event and its delivery job
