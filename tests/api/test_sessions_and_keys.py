"""Issue 18, findings 4, 5 and 6.

4: nothing in the source signs tokens: the embedded default's root secret is random, generated
   into its data directory, and production refuses a default or hand-made one.
5: short access tokens, refresh tokens that rotate (a reused one ends its family), logout, and a
   password change or blacklisting that ends every token and API key at once.
6: one root secret, a key per purpose with a key id: rotating the root keeps what was made
   before verifiable (an ID number registered before cannot register again), and the quote seal
   is an HMAC the database cannot recompute.
"""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
from pydantic import ValidationError
from sqlalchemy import update

from market.common.keys import derive_key, key_id
from market.keyring import ACCESS_TOKENS, IDENTITY_HASHES, QUOTE_SEALS, SIGNED_URLS, current_key, roots
from market.orders.models import Quote
from market.orders.quotes import digest_fields, quote_digest
from market.participants.models import Participant
from market.settings import DEFAULT_JWT_SECRET, Settings
from tests.api import runtime_swaps as swaps
from tests.api.compliance_factories import listed_product
from tests.api.factories import PASSWORD, Api, row_count
from tests.api.orders_factories import sealed_quote


async def tokens(client: Any, email: str, password: str = PASSWORD) -> dict[str, Any]:
    r = await client.post("/v1/auth/token", data={"username": email, "password": password})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


async def test_access_tokens_are_short_and_refresh_rotates(api: Api, client: Any) -> None:
    party = await api.org()
    first = await tokens(client, party.email)
    assert first["expires_in"] <= 900 and first["refresh_token"]
    renewed = await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert renewed.status_code == 200, renewed.text
    second = renewed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await client.get("/v1/auth/me", headers=bearer(second["access_token"]))).status_code == 200
    # The first refresh token was spent; presented again, it ends the whole family.
    replay = await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    stolen_family = await client.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert stolen_family.status_code == 401
    junk = await client.post("/v1/auth/refresh", json={"refresh_token": "rt_" + "x" * 40})
    assert junk.status_code == 401


async def test_logout_ends_access_and_refresh_tokens(api: Api, client: Any) -> None:
    party = await api.org()
    session = await tokens(client, party.email)
    other_device = await tokens(client, party.email)
    assert (await client.post("/v1/auth/logout", headers=bearer(session["access_token"]))).status_code == 204
    for access in (session["access_token"], other_device["access_token"]):
        assert (await client.get("/v1/auth/me", headers=bearer(access))).status_code == 401
    again = await client.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert again.status_code == 401
    assert (
        await client.get("/v1/auth/me", headers=bearer((await tokens(client, party.email))["access_token"]))
    ).status_code == 200


async def test_a_password_change_ends_tokens_and_the_users_api_keys(api: Api, client: Any) -> None:
    party = await api.org()
    key = await client.post("/v1/api-keys", json={"name": "etl", "roles": ["buyer"]}, headers=party.headers)
    assert key.status_code == 201
    api_key = {"X-API-Key": key.json()["key"]}
    assert (await client.get("/v1/auth/me", headers=api_key)).status_code == 200
    new = "a brand new passphrase 77"
    wrong = await client.post(
        "/v1/auth/password",
        json={"current_password": "not it at all", "new_password": new},
        headers=party.headers,
    )
    assert wrong.status_code == 401
    changed = await client.post(
        "/v1/auth/password", json={"current_password": PASSWORD, "new_password": new}, headers=party.headers
    )
    assert changed.status_code == 204, changed.text
    assert (await client.get("/v1/auth/me", headers=party.headers)).status_code == 401
    assert (await client.get("/v1/auth/me", headers=api_key)).status_code == 401
    assert (
        await client.post("/v1/auth/token", data={"username": party.email, "password": PASSWORD})
    ).status_code == 401
    assert (await tokens(client, party.email, new))["access_token"]


async def test_blacklisting_ends_every_token_and_api_key_of_the_participant(api: Api, client: Any) -> None:
    party, bystander = await api.org(), await api.org()
    operator = await api.staff("operator")
    refresh = (await tokens(client, party.email))["refresh_token"]
    key = await client.post("/v1/api-keys", json={"name": "etl", "roles": ["buyer"]}, headers=party.headers)
    api_key = {"X-API-Key": key.json()["key"]}
    r = await client.patch(
        f"/v1/participants/{party.participant_id}/credit",
        json={"status": "blacklisted", "reason": "court judgment for fraud"},
        headers=operator,
    )
    assert r.status_code == 200, r.text
    own = f"/v1/participants/{party.participant_id}"
    assert (await client.get(own, headers=party.headers)).status_code == 401
    assert (await client.get(own, headers=api_key)).status_code == 401
    assert (await client.post("/v1/auth/refresh", json={"refresh_token": refresh})).status_code in (401, 403)
    login = await client.post("/v1/auth/token", data={"username": party.email, "password": PASSWORD})
    assert login.status_code == 403 and login.json()["type"].endswith("/participant-blacklisted")
    # Nobody else is signed out.
    assert (
        await client.get(f"/v1/participants/{bystander.participant_id}", headers=bystander.headers)
    ).status_code == 200


async def test_a_token_signed_with_the_shipped_default_secret_is_refused(
    api: Api, client: Any, app: Any
) -> None:
    operator_headers = await api.staff("operator")
    me = (await client.get("/v1/auth/me", headers=operator_headers)).json()
    now = int(time.time())
    claims = {
        "sub": me["user_id"],
        "pid": None,
        "roles": ["operator"],
        "iss": "jilin-data-exchange",
        "aud": "jilin-data-exchange-api",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "ver": 0,
        "pver": 0,
    }
    kid = current_key(app.state.runtime.settings, ACCESS_TOKENS)[0]
    for key in (DEFAULT_JWT_SECRET, app.state.runtime.settings.jwt_secret):
        forged = jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid})
        assert (await client.get("/v1/alerts", headers=bearer(forged))).status_code == 401


def test_embedded_root_secrets_are_random_per_data_directory(tmp_path: Path) -> None:
    one = Settings(mode="embedded", data_dir=tmp_path / "a").root_secrets()[0]
    two = Settings(mode="embedded", data_dir=tmp_path / "b").root_secrets()[0]
    assert one != two and len(one) >= 32
    assert (tmp_path / "a" / "root.key").stat().st_mode & 0o077 == 0  # owner only


@pytest.mark.parametrize(
    "secret", ["", base64.b64encode(b"\0" * 32).decode(), base64.b64encode(b"ab" * 20).decode()]
)
def test_production_refuses_a_missing_default_or_hand_made_root_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="MARKET_ROOT_SECRET"):
        Settings(
            mode="production",
            database_url="postgresql+asyncpg://db/x",
            jwt_secret="s" * 40,
            signing_key=base64.b64encode(bytes(range(32))).decode(),
            root_secret=secret,
        )


def test_each_purpose_has_its_own_key_and_key_id() -> None:
    root = secrets.token_bytes(32)
    keys = {p: derive_key(root, p) for p in (ACCESS_TOKENS, IDENTITY_HASHES, SIGNED_URLS, QUOTE_SEALS)}
    assert len(set(keys.values())) == 4
    assert len({key_id(k) for k in keys.values()}) == 4


def person(n: str, number: str) -> dict[str, Any]:
    return {
        "kind": "natural_person",
        "name": "王某",
        "identity_number": number,
        "roles": ["buyer"],
        "user": {"email": f"p{n}@person.example.cn", "password": PASSWORD, "display_name": "王"},
    }


async def test_rotating_the_root_keeps_old_tokens_and_identity_hashes(
    api: Api, client: Any, app: Any
) -> None:
    assert (await client.post("/v1/participants", json=person("1", "220102199001011234"))).status_code == 201
    before = await tokens(client, "p1@person.example.cn")
    old_root = base64.b64encode(roots(app.state.runtime.settings)[0]).decode()
    new_root = base64.b64encode(secrets.token_bytes(32)).decode()
    with swaps.settings(app, root_secret=new_root, retired_root_secrets=[old_root]):
        assert (
            current_key(app.state.runtime.settings, ACCESS_TOKENS)[0]
            != jwt.get_unverified_header(before["access_token"])["kid"]
        )
        registered = await row_count(app, Participant)
        again = await client.post("/v1/participants", json=person("2", "220102199001011234"))
        assert again.status_code == 201, again.text  # the uniform answer, but nothing is created
        assert await row_count(app, Participant) == registered
        assert (await client.get("/v1/auth/me", headers=bearer(before["access_token"]))).status_code == 200
        after = await tokens(client, "p1@person.example.cn")
        assert (await client.get("/v1/auth/me", headers=bearer(after["access_token"]))).status_code == 200
    # Retired no more: what only the dropped root verified stops verifying.
    with swaps.settings(app, root_secret=new_root, retired_root_secrets=[]):
        assert (await client.get("/v1/auth/me", headers=bearer(before["access_token"]))).status_code == 401


async def test_a_quote_rewritten_with_its_digest_recomputed_is_refused(
    api: Api, client: Any, app: Any
) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    product = await listed_product(app, seller.participant_id)
    quote_id = await sealed_quote(app, product["product_id"], buyer.participant_id, total_minor=10_000)
    async with app.state.sessionmaker() as s, s.begin():
        quote = await s.get(Quote, uuid.UUID(quote_id))
        assert quote is not None
        quote.total_minor = 1
        quote.body = {"lines": [{"code": "plan", "amount_minor": 1}]}
        await s.execute(
            update(Quote)
            .where(Quote.id == quote.id)
            .values(total_minor=1, body=quote.body, digest=quote_digest(digest_fields(quote)))
        )
    r = await client.post(
        "/v1/orders",
        json={"quote_id": quote_id},
        headers={**buyer.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 409 and r.json()["type"].endswith("/quote-altered"), r.text
