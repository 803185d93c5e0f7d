"""Issue 18, finding 1: rate limits. Sign-in per IP and per account (backoff, then a lock that
holds even for the right password, and an alert when the account is staff), sign-up, the public
catalogue / register / tree head, objections per objector per registration, API-key creation.
Each over-limit answer is 429 problem+json with Retry-After, and each limit recovers once its
moving window has moved on. Limits are settings; these tests make them small.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from market.alerts.models import RiskAlert
from market.participants.models import Participant
from market.ratelimits import RATE_LIMITER, RateLimiter, open_storage
from tests.api import runtime_swaps as swaps
from tests.api.factories import PASSWORD, Api, row_count, valid_credit_code
from tests.api.test_registry_lifecycle import apply_and_approve

PROBLEM = "application/problem+json"


@contextmanager
def limited(app: Any, **rules: Any) -> Iterator[RateLimiter]:
    """Rate limits on, with `rules`, counted afresh (a new in-memory store)."""
    limiter = RateLimiter(open_storage("memory://"))
    with swaps.port(app, RATE_LIMITER, limiter), swaps.settings(app, rate_limits_enabled=True, **rules):
        yield limiter


def assert_429(r: Any, code: str = "rate-limited") -> int:
    assert r.status_code == 429, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["type"].endswith("/" + code), r.json()
    wait = int(r.headers["Retry-After"])
    assert wait >= 1
    return wait


async def login(client: Any, email: str, password: str, ip: str | None = None) -> Any:
    headers = {"X-Forwarded-For": ip} if ip else {}
    return await client.post(
        "/v1/auth/token", data={"username": email, "password": password}, headers=headers
    )


async def test_login_per_ip_limit_and_recovery(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    with limited(app, rate_limit_login_ip="3 per 2 seconds", trusted_proxies="127.0.0.1"):
        for _ in range(3):
            assert (await login(client, seller.email, PASSWORD, "203.0.113.7")).status_code == 200
        assert_429(await login(client, seller.email, PASSWORD, "203.0.113.7"))
        # Another address is counted on its own.
        assert (await login(client, seller.email, PASSWORD, "203.0.113.8")).status_code == 200
        await asyncio.sleep(2.1)
        assert (await login(client, seller.email, PASSWORD, "203.0.113.7")).status_code == 200


async def test_wrong_passwords_back_off_then_lock_even_the_right_one(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    rules = {"rate_limit_login_failures": "2 per 1 second", "rate_limit_login_lock": "4 per 6 seconds"}
    with limited(app, **rules):
        for _ in range(2):
            assert (await login(client, seller.email, "wrong password 123")).status_code == 401
        assert_429(await login(client, seller.email, PASSWORD), "login-backoff")  # backoff
        await asyncio.sleep(1.1)
        assert (await login(client, seller.email, "wrong password 123")).status_code == 401
        assert_429(await login(client, seller.email, "wrong password 123"), "account-locked")
        await asyncio.sleep(1.1)  # the backoff has passed, the lock has not
        assert_429(await login(client, seller.email, PASSWORD), "account-locked")
        # Other accounts sign in as usual.
        other = await api.org()
        assert (await login(client, other.email, PASSWORD)).status_code == 200
        await asyncio.sleep(5.0)
        assert (await login(client, seller.email, PASSWORD)).status_code == 200
    assert await row_count(app, RiskAlert) == 0  # not staff: no alert


async def test_three_hundred_wrong_passwords_then_the_right_one_is_refused(
    api: Api, client: Any, app: Any
) -> None:
    seller = await api.org()
    with limited(app):  # the shipped defaults
        answers = [(await login(client, seller.email, f"guess {i:04d}xx")).status_code for i in range(300)]
        assert answers.count(401) <= 20 and answers[-1] == 429
        assert (await login(client, seller.email, PASSWORD)).status_code == 429


async def test_a_locked_staff_account_raises_an_alert(api: Api, client: Any, app: Any) -> None:
    operator = await api.staff("operator")
    email = f"target{uuid.uuid4().hex[:6]}@exchange.example.cn"
    from market.participants import service
    from market.participants.schemas import StaffCreate

    async with app.state.sessionmaker() as session, session.begin():
        await service.create_staff(
            session, StaffCreate(email=email, password=PASSWORD, display_name="t", role="auditor"), actor="t"
        )
    with limited(app, rate_limit_login_failures="10/minute", rate_limit_login_lock="3/minute"):
        for _ in range(2):
            assert (await login(client, email, "not the password 1")).status_code == 401
        assert_429(await login(client, email, "not the password 1"), "account-locked")
    alerts = (await client.get("/v1/alerts", headers=operator)).json()["items"]
    assert [a["rule"] for a in alerts] == ["staff-sign-in-locked"], alerts


def signup_body() -> dict[str, Any]:
    n = uuid.uuid4().hex[:8]
    return {
        "kind": "organisation",
        "name": f"Org {n}",
        "credit_code": valid_credit_code(),
        "roles": ["buyer"],
        "user": {"email": f"u{n}@o{n}.example.cn", "password": PASSWORD, "display_name": "U"},
    }


async def test_sign_up_per_ip_limit_and_recovery(client: Any, app: Any) -> None:
    with limited(app, rate_limit_signup_ip="2 per 2 seconds"):
        for _ in range(2):
            assert (await client.post("/v1/participants", json=signup_body())).status_code == 201
        before = await row_count(app, Participant)
        assert_429(await client.post("/v1/participants", json=signup_body()))
        assert await row_count(app, Participant) == before
        await asyncio.sleep(2.1)
        assert (await client.post("/v1/participants", json=signup_body())).status_code == 201


async def test_public_reads_share_a_per_ip_limit(client: Any, app: Any) -> None:
    with limited(app, rate_limit_public_ip="3 per 2 seconds", trusted_proxies="127.0.0.1"):
        me = {"X-Forwarded-For": "198.51.100.1"}
        assert (await client.get("/v1/catalog", headers=me)).status_code == 200
        assert (await client.get("/v1/registry/JL-0000", headers=me)).status_code == 404
        assert (await client.get("/v1/audit/tree-head", headers=me)).status_code < 429
        assert_429(await client.get("/v1/catalog?limit=200", headers=me))
        assert_429(await client.get("/v1/catalog.jsonld", headers=me))
        other = {"X-Forwarded-For": "198.51.100.2"}
        assert (await client.get("/v1/catalog", headers=other)).status_code == 200
        await asyncio.sleep(2.1)
        assert (await client.get("/v1/catalog", headers=me)).status_code == 200


async def test_objections_per_objector_per_registration(api: Api, client: Any, app: Any) -> None:
    seller, rival, bystander = await api.org(), await api.org(), await api.org()
    operator = await api.staff("operator")
    reg = await apply_and_approve(api, seller, operator)
    second = await apply_and_approve(api, seller, operator)
    body = {"kind": "wrong_data", "grounds": "the data is not theirs"}
    with limited(app, rate_limit_objections="2 per 2 seconds"):
        url = f"/v1/registrations/{reg['id']}/objections"
        for _ in range(2):
            r = await client.post(url, json=body, headers=rival.headers)
            assert r.status_code in (201, 409), r.text
        assert_429(await client.post(url, json=body, headers=rival.headers))
        # Another objector, or the same one on another registration, is not held back.
        assert (await client.post(url, json=body, headers=bystander.headers)).status_code in (201, 409)
        other_url = f"/v1/registrations/{second['id']}/objections"
        assert (await client.post(other_url, json=body, headers=rival.headers)).status_code == 201
        await asyncio.sleep(2.1)
        assert (await client.post(url, json=body, headers=rival.headers)).status_code != 429


async def test_api_key_creation_per_participant(api: Api, client: Any, app: Any) -> None:
    seller, other = await api.org(), await api.org()
    with limited(app, rate_limit_api_keys="2 per 2 seconds"):
        for i in range(2):
            r = await client.post(
                "/v1/api-keys", json={"name": f"k{i}", "roles": ["seller"]}, headers=seller.headers
            )
            assert r.status_code == 201, r.text
        assert_429(
            await client.post(
                "/v1/api-keys", json={"name": "k3", "roles": ["seller"]}, headers=seller.headers
            )
        )
        made = await client.post(
            "/v1/api-keys", json={"name": "o", "roles": ["seller"]}, headers=other.headers
        )
        assert made.status_code == 201
        await asyncio.sleep(2.1)
        again = await client.post(
            "/v1/api-keys", json={"name": "k4", "roles": ["seller"]}, headers=seller.headers
        )
        assert again.status_code == 201


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_answers(), reason="no Redis on 127.0.0.1:6379")
async def test_replicas_sharing_redis_count_the_same_hits(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("storage of the limiter only; once is enough")
    prefix = uuid.uuid4().hex
    first = RateLimiter(open_storage("redis://127.0.0.1:6379/15"))
    second = RateLimiter(open_storage("redis://127.0.0.1:6379/15"))
    await first.check("2/minute", prefix)
    await second.check("2/minute", prefix)
    with pytest.raises(Exception, match="Rate limit"):
        await first.check("2/minute", prefix)
