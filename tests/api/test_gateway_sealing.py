"""The gateway seals upstream secrets under the keyring's `UPSTREAM_SECRETS` key (issue 18,
finding 6: one root, a key per purpose, each with a key id), and what it sealed before under a
key of its own derivation still opens, so no seller has to set its secret again."""

from __future__ import annotations

import base64
import os
import uuid
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select

from market.common.keys import derive_key, key_id
from market.gateway.models import Upstream as UpstreamRow
from market.gateway.sealing import LEGACY_PURPOSE
from market.keyring import UPSTREAM_SECRETS, current_key, roots
from tests.api.factories import Api
from tests.api.gateway_factories import UPSTREAM_SECRET, bought_api, fake_upstream


def legacy_seal(root: bytes, product_id: uuid.UUID, secret: str) -> str:
    """How the gateway sealed before it used the keyring: a key derived for itself."""
    key, nonce = derive_key(root, LEGACY_PURPOSE), os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, secret.encode(), product_id.bytes)
    return f"{key_id(key)}.{base64.b64encode(nonce + sealed).decode()}"


async def stored_row(app: Any) -> UpstreamRow:
    async with app.state.sessionmaker() as s:
        row: UpstreamRow = (await s.execute(select(UpstreamRow))).scalar_one()
        return row


async def test_secrets_are_sealed_under_the_keyrings_upstream_key(api: Api, app: Any) -> None:
    await bought_api(api)
    kid, _ = current_key(app.state.runtime.settings, UPSTREAM_SECRETS)
    sealed = (await stored_row(app)).sealed_secret or ""
    assert sealed.startswith(f"{kid}.")


async def test_a_secret_sealed_the_old_way_still_reaches_the_upstream(
    api: Api, client: Any, app: Any
) -> None:
    b = await bought_api(api)
    root = roots(app.state.runtime.settings)[0]
    async with app.state.sessionmaker() as s, s.begin():
        row = (await s.execute(select(UpstreamRow))).scalar_one()
        row.sealed_secret = legacy_seal(root, row.product_id, "sk-sealed-before-the-keyring")
    with fake_upstream(app) as upstream:
        answered = await client.get(f"/gateway/{b.product_id}/rates", headers=b.auth)
    assert answered.status_code == 200, answered.text
    assert upstream.seen[0].headers["x-api-key"] == "sk-sealed-before-the-keyring"
    # Set again by its seller, it is sealed under the keyring's key.
    put = await client.put(
        f"/v1/products/{b.product_id}/upstream",
        json={
            "base_url": "http://upstream.example/api",
            "auth_header": "X-Api-Key",
            "auth_secret": UPSTREAM_SECRET,
        },
        headers=b.seller.headers,
    )
    assert put.status_code == 200, put.text
    kid, _ = current_key(app.state.runtime.settings, UPSTREAM_SECRETS)
    assert (await stored_row(app)).sealed_secret.startswith(f"{kid}.")  # type: ignore[union-attr]
