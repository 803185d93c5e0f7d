"""Tokens and API keys: strict verification, shown-once keys, revocation."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from market.keyring import ACCESS_TOKENS, current_key
from tests.api.conftest import TEST_JWT_SECRET
from tests.api.factories import Api

_KEYS: dict[str, tuple[str, bytes]] = {}


def forge(claims: dict[str, Any], key: str | bytes | None = None, alg: str = "HS256") -> str:
    """A token as the service would sign it (its access-token key and key id), unless `key`."""
    kid, signing = _KEYS["current"]
    return jwt.encode(claims, signing if key is None else key, algorithm=alg, headers={"kid": kid})


@pytest.fixture(autouse=True)
def _service_key(app: Any) -> None:
    _KEYS["current"] = current_key(app.state.runtime.settings, ACCESS_TOKENS)


def good_claims(user_id: str, pid: str, **over: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": user_id,
        "pid": pid,
        "roles": ["buyer", "seller"],
        "iss": "jilin-data-exchange",
        "aud": "jilin-data-exchange-api",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "ver": 0,
        "pver": 0,
    }
    claims.update(over)
    return claims


async def test_wrong_password_is_401(api: Api, client: Any) -> None:
    party = await api.org()
    r = await client.post("/v1/auth/token", data={"username": party.email, "password": "wrong-password-x"})
    assert r.status_code == 401
    assert r.json()["type"].endswith("/unauthenticated")


async def test_forged_tokens_are_refused(api: Api, client: Any) -> None:
    party = await api.org()
    url = f"/v1/participants/{party.participant_id}"
    valid = forge(good_claims(party.user_id, party.participant_id))
    assert (await client.get(url, headers={"Authorization": f"Bearer {valid}"})).status_code == 200
    now = int(time.time())
    header_none = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    import json as _json

    payload = jwt.utils.base64url_encode(
        _json.dumps(good_claims(party.user_id, party.participant_id)).encode()
    ).decode()
    bad_tokens = {
        "alg none": f"{header_none}.{payload}.",
        "expired": forge(
            good_claims(party.user_id, party.participant_id, exp=now - 10, iat=now - 700, nbf=now - 700)
        ),
        "not yet valid": forge(good_claims(party.user_id, party.participant_id, nbf=now + 600)),
        "wrong audience": forge(good_claims(party.user_id, party.participant_id, aud="someone-else")),
        "wrong issuer": forge(good_claims(party.user_id, party.participant_id, iss="evil")),
        "other key": forge(good_claims(party.user_id, party.participant_id), key="another-secret-" * 4),
        # The shipped default secret (issue 18, finding 4): it signs nothing any more.
        "default secret": forge(good_claims(party.user_id, party.participant_id), key=TEST_JWT_SECRET),
        "no key id": jwt.encode(good_claims(party.user_id, party.participant_id), _KEYS["current"][1]),
        "old version": forge(good_claims(party.user_id, party.participant_id, ver=-1)),
        "tampered": valid[:-4] + ("AAAA" if not valid.endswith("AAAA") else "BBBB"),
        "unknown role": forge(good_claims(party.user_id, party.participant_id, roles=["god"])),
        "HS512": forge(good_claims(party.user_id, party.participant_id), alg="HS512"),
    }
    for name, token in bad_tokens.items():
        r = await client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, name
        assert r.headers["content-type"] == "application/problem+json", name


async def test_api_key_shown_once_hashed_and_revocable(api: Api, client: Any) -> None:
    buyer = await api.org(roles=("buyer",))
    created = await client.post("/v1/api-keys", json={"name": "etl"}, headers=buyer.headers)
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert key.startswith("mk_")
    listed = await client.get("/v1/api-keys", headers=buyer.headers)
    assert [k["name"] for k in listed.json()] == ["etl"]
    assert "key" not in listed.json()[0]
    me = await client.get(f"/v1/participants/{buyer.participant_id}", headers={"X-API-Key": key})
    assert me.status_code == 200
    other = await api.org()
    assert (
        await client.get(f"/v1/participants/{other.participant_id}", headers={"X-API-Key": key})
    ).status_code == 404
    assert (
        await client.delete(f"/v1/api-keys/{created.json()['id']}", headers=other.headers)
    ).status_code == 404
    assert (
        await client.delete(f"/v1/api-keys/{created.json()['id']}", headers=buyer.headers)
    ).status_code == 204
    revoked = await client.get(f"/v1/participants/{buyer.participant_id}", headers={"X-API-Key": key})
    assert revoked.status_code == 401


@pytest.mark.parametrize("key", ["nonsense", "mk_deadbeef_wrong", "mk_a_b_c"])
async def test_bad_api_keys_are_401(api: Api, client: Any, key: str) -> None:
    party = await api.org()
    r = await client.get(f"/v1/participants/{party.participant_id}", headers={"X-API-Key": key})
    assert r.status_code == 401


async def test_api_key_cannot_exceed_creator_roles(api: Api, client: Any) -> None:
    buyer = await api.org(roles=("buyer",))
    r = await client.post("/v1/api-keys", json={"name": "x", "roles": ["seller"]}, headers=buyer.headers)
    assert r.status_code == 403
