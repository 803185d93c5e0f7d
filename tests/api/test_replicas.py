"""Two `market serve` replicas and `market worker`s on one PostgreSQL database, on loopback: a
publicity finalisation, a purchase and checkpoint publishing go through them, and every effect
happens exactly once; a worker killed mid-job has its job retried by another worker."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import signal
import tempfile
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from market.audit.macs import entry_keyring, session_info
from market.audit.verify_db import verify_database
from market.db.migrate import upgrade
from market.db.session import make_engine, make_sessionmaker
from market.participants import service as participants
from market.participants.schemas import StaffCreate
from market.settings import Settings
from tests.api.compliance_factories import operating_right
from tests.api.compliance_factories import registered_resource as inserted_resource
from tests.api.conftest import _create_database, _drop_database
from tests.api.factories import PASSWORD, VERIFIED_CHECKLIST, valid_credit_code
from tests.api.registry_factories import CHECKLIST
from tests.api.replica_processes import TEST_ROOT_SECRET, Cluster, schedules, until, wait_ready
from tests.api.test_catalog_products import product_body
from tests.api.webhook_receiver import webhook_receiver

pytestmark = [pytest.mark.multiprocess, pytest.mark.timeout(300)]

FAST = schedules(
    audit__publish_checkpoint="* * * * * */1",
    registry__finalise_due="* * * * * */1",
    notifications__deliver="* * * * * */2",
    jobs__retry_stalled="* * * * * */1",
)
WORKER = {
    "MARKET_JOB_SCHEDULES": FAST,
    "MARKET_WORKER_HEARTBEAT_SECONDS": "0.5",
    "MARKET_WORKER_STALLED_AFTER_SECONDS": "2",
    "MARKET_WEBHOOK_TIMEOUT_SECONDS": "2",
    # The publisher's shifts (and checkpoints) every 2 s, so the last step need not wait 10 s.
    "MARKET_AUDIT_HEAD_INTERVAL_SECONDS": "2",
}


async def sign_up(client: httpx.AsyncClient, roles: list[str]) -> dict[str, Any]:
    n = uuid.uuid4().hex[:8]
    body = {
        "kind": "organisation",
        "name": f"Org {n}",
        "credit_code": valid_credit_code(),
        "roles": roles,
        "user": {"email": f"u{n}@org{n}.example.cn", "password": PASSWORD, "display_name": n},
    }
    r = await client.post("/v1/participants", json=body)
    assert r.status_code == 201, r.text
    return {"id": r.json()["participant"]["id"], "email": body["user"]["email"]}  # type: ignore[index]


async def login(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    r = await client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def scalar(db: Any, sql: str, **params: Any) -> Any:
    async with db.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar()


@pytest.mark.postgres_only
async def test_two_replicas_and_workers_do_everything_exactly_once(postgres_server_url: str) -> None:
    url, name = await _create_database(postgres_server_url)
    data_dir = Path(tempfile.mkdtemp(prefix="market-replicas-"))
    await asyncio.to_thread(upgrade, url)
    cluster = Cluster(url, data_dir)
    db = make_engine(url)
    try:
        with webhook_receiver() as receiver:
            await _scenario(cluster, db, receiver)
    except BaseException:
        for log in ("a", "b", "w1", "w2", "w3"):
            if (data_dir / f"{log}.log").exists():
                print(f"--- {log} ---\n{cluster.log(log)[-4000:]}")
        raise
    finally:
        stopping = time.monotonic()
        cluster.stop_all()
        print(f"[replicas] stopped in {time.monotonic() - stopping:.1f}s")
        await db.dispose()
        await _drop_database(postgres_server_url, name)


def lap(what: str, started: list[float]) -> None:
    """Where the time goes (shown with -s): process start-up dominates on a loaded machine."""
    now = time.monotonic()
    print(f"[replicas] {what}: {now - started[0]:.1f}s")
    started[0] = now


async def _scenario(cluster: Cluster, db: Any, receiver: Any) -> None:
    t = [time.monotonic()]
    a_url, b_url = cluster.serve("a"), cluster.serve("b")
    w1 = cluster.worker("w1", **WORKER)
    # A worker whose clock runs 20 days ahead (MARKET_CLOCK_OFFSET, test only) finds the
    # publicity below over; it is stopped before the purchase, so it does nothing else.
    w2 = cluster.worker(
        "w2",
        **{
            **WORKER,
            "MARKET_CLOCK_OFFSET": "P20D",
            "MARKET_JOB_SCHEDULES": schedules(
                registry__finalise_due="* * * * * */1",
                audit__publish_checkpoint="",
                orders__expire_quotes="",
                notifications__deliver="",
                registry__objection_deadlines="",
            ),
        },
    )

    # The test writes as the cluster does: its audit entries carry the cluster's MAC.
    sessions = make_sessionmaker(db, session_info(Settings(mode="test", root_secret=TEST_ROOT_SECRET)))
    async with sessions() as session, session.begin():
        staff = StaffCreate(
            email="ops@exchange.example.cn", password=PASSWORD, display_name="ops", role="operator"
        )
        await participants.create_staff(session, staff, actor="test")
    await asyncio.gather(wait_ready(a_url), wait_ready(b_url))
    async with (
        httpx.AsyncClient(base_url=a_url, timeout=20) as a,
        httpx.AsyncClient(base_url=b_url, timeout=20) as b,
    ):
        lap("ready", t)
        seller, buyer = await sign_up(a, ["seller", "buyer"]), await sign_up(b, ["buyer"])
        seller_h, buyer_h = await login(b, seller["email"]), await login(a, buyer["email"])
        operator = await login(b, "ops@exchange.example.cn")
        for party in (seller, buyer):  # organisations list and buy once verified (issue 18)
            verified = await a.post(
                f"/v1/participants/{party['id']}/verification",
                json={"decision": "verify", "checklist": VERIFIED_CHECKLIST, "reason": "documents checked"},
                headers=operator,
            )
            assert verified.status_code == 200, verified.text
        hook = await a.post("/v1/webhook-endpoints", json={"url": receiver.url}, headers=buyer_h)
        assert hook.status_code == 201, hook.text
        secret = hook.json()["secret"]

        # 1. Publicity ends, with readers on both replicas: registered once, as of its end.
        resource = await a.post(
            "/v1/resources",
            headers=seller_h,
            json={"title": "长春客流", "category": "enterprise", "grade": "general", "lawful_source": "own"},
        )
        sample = b"day,flow\n1,100\n"
        up = await b.put(
            f"/v1/resources/{resource.json()['id']}/sample",
            content=sample,
            headers={**seller_h, "X-Expected-SHA256": hashlib.sha256(sample).hexdigest()},
        )
        assert up.status_code == 200, up.text
        applied = await a.post(
            "/v1/registrations",
            headers=seller_h,
            json={"resource_id": resource.json()["id"], "rights_evidence": "own collection"},
        )
        reg_id = applied.json()["id"]
        approved = await b.post(
            f"/v1/registrations/{reg_id}/decision",
            headers=operator,
            json={"decision": "approve", "checklist": CHECKLIST},
        )
        assert approved.json()["status"] == "publicity"

        async def registered() -> dict[str, Any] | None:
            reads = await asyncio.gather(
                *(c.get(f"/v1/registrations/{reg_id}", headers=seller_h) for c in (a, b, a, b))
            )
            assert all(r.status_code == 200 for r in reads)
            done = [r.json() for r in reads if r.json()["status"] == "registered"]
            return done[0] if done else None

        reg = await until(registered, 30, "the registration to be registered")
        w2.send_signal(signal.SIGTERM)
        await asyncio.to_thread(w2.wait, 20)
        assert reg["registered_at"] == approved.json()["publicity_ends_at"]
        assert reg["registration_number"].endswith("-R-000001")
        assert (
            await scalar(db, "SELECT count(*) FROM audit_entries WHERE action = 'registration.registered'")
            == 1
        )
        assert await scalar(db, "SELECT count(*) FROM right_grants WHERE kind = 'holding'") == 1

        lap("finalised", t)
        # 2. A purchase through both replicas; the worker tells the buyer, signed.
        factories = SimpleNamespace(state=SimpleNamespace(sessionmaker=sessions))
        for_sale = await inserted_resource(factories, seller["id"], title="客流日报")
        made = await a.post("/v1/products", json=product_body(for_sale["resource_id"]), headers=seller_h)
        assert made.status_code == 201, made.text
        await operating_right(factories, seller["id"], for_sale, made.json()["id"])
        assert (
            await b.post(f"/v1/products/{made.json()['id']}/listing", headers=seller_h)
        ).status_code == 200
        quote = await a.post(
            "/v1/quotes",
            headers=buyer_h,
            json={
                "product_id": made.json()["id"],
                "quantity": 1,
                "purpose": "risk_control",
                "scenario": "credit risk scoring",
            },
        )
        assert quote.status_code == 201, quote.text
        key = {"Idempotency-Key": uuid.uuid4().hex}
        orders = await asyncio.gather(
            a.post("/v1/orders", json={"quote_id": quote.json()["id"]}, headers={**buyer_h, **key}),
            b.post("/v1/orders", json={"quote_id": quote.json()["id"]}, headers={**buyer_h, **key}),
        )
        assert sorted(o.status_code for o in orders)[0] == 201, [o.text for o in orders]
        order_id = next(o.json()["id"] for o in orders if o.status_code == 201)
        confirmations = await asyncio.gather(
            a.post(f"/v1/payments/{order_id}/confirmation", headers=operator),
            b.post(f"/v1/payments/{order_id}/confirmation", headers=operator),
        )
        assert 200 in [c.status_code for c in confirmations], [c.text for c in confirmations]

        async def told() -> bool:
            return {json.loads(r.body)["type"] for r in receiver.verified(secret)} >= {
                "order.paid",
                "licence.issued",
            }

        await until(told, 20, "the buyer's webhooks")
        for action in ("order.created", "order.paid", "licence.issued"):
            assert await scalar(db, "SELECT count(*) FROM audit_entries WHERE action = :a", a=action) == 1
        assert await scalar(db, "SELECT count(*) FROM orders") == 1
        assert await scalar(db, "SELECT count(*) FROM licences") == 1

        lap("purchased", t)
        # 3. A worker killed mid-job: its delivery job is retried by another worker.
        receiver.hang_next.set()
        done = await b.post(f"/v1/orders/{order_id}/completion", headers=buyer_h)
        assert done.status_code == 200, done.text
        await until(lambda: asyncio.to_thread(receiver.hung.wait, 0.2), 20, "w1 to be mid-delivery")
        stuck = await scalar(
            db,
            "SELECT id FROM procrastinate_jobs "
            "WHERE status = 'doing' AND task_name = 'notifications.deliver'",
        )
        assert stuck is not None
        w1.send_signal(signal.SIGKILL)
        await asyncio.to_thread(w1.wait, 10)
        cluster.worker("w3", **WORKER)

        async def completed_told() -> bool:
            return any(
                json.loads(r.body)["type"] == "order.completed" and r.answered == 200
                for r in receiver.verified(secret)
            )

        await until(completed_told, 40, "the completion webhook after w1 died")
        assert await until(
            lambda: scalar(db, "SELECT status = 'succeeded' FROM procrastinate_jobs WHERE id = :i", i=stuck),
            20,
            "the stalled job to succeed on another worker",
        )
        started = await scalar(
            db, "SELECT count(*) FROM procrastinate_events WHERE job_id = :i AND type = 'started'", i=stuck
        )
        assert started == 2  # started on w1, killed, started again on w3
        completed = [r for r in receiver.requests if json.loads(r.body)["type"] == "order.completed"]
        assert len({r.headers["webhook-id"] for r in completed}) == 1  # one event, sent again
        assert [r.answered for r in completed].count(200) == 1

        lap("killed and retried", t)
        # 4. Checkpoints: every entry sequenced once, the same signed head on both replicas.
        entries = await scalar(db, "SELECT count(*) FROM audit_entries")

        async def published() -> bool:
            heads = [(await c.get("/v1/audit/tree-head")).json() for c in (a, b)]
            size_now = await scalar(db, "SELECT count(*) FROM audit_entries")
            return bool(heads[0] == heads[1] and heads[0].get("tree_size") == size_now)

        await until(published, 20, "a checkpoint covering the whole log")
        assert await scalar(db, "SELECT count(DISTINCT seq) FROM audit_entries") >= entries
        assert await scalar(db, "SELECT max(seq) + 1 = count(*) FROM audit_entries")
        key_b64 = (await a.get("/v1/audit/tree-head")).json()["public_key"]
        report = await verify_database(
            cluster.database_url, key_b64, mac_keys=entry_keyring(Settings(root_secret=TEST_ROOT_SECRET))
        )
        assert report.ok, report
        assert await scalar(db, "SELECT count(*) FROM audit_quarantine") == 0  # every writer held the key
        assert base64.b64decode(key_b64)
        lap("checkpoints", t)
