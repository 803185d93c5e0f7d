"""Files through the real API: a resource's revision uploaded in streamed chunks, finalised,
registered with its manifest hash as fingerprint, on a listed file product a buyer has paid."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from market.catalog.models import Product
from market.common import clock
from market.registry.jobs import finalise_due_registrations
from market.rights.models import RightGrantRow
from tests.api.factories import Api, Party
from tests.api.jobs import run
from tests.api.registry_factories import CHECKLIST, holding_grant_id, resource_body
from tests.api.settlement_factories import key, paid_order, product_on

MB = 1 << 20


def pattern_chunk(index: int, size: int = MB) -> bytes:
    """The `index`-th chunk of a deterministic file (different chunks differ)."""
    seed = hashlib.sha256(index.to_bytes(8, "big")).digest()
    return (seed * (size // len(seed) + 1))[:size]


async def chunks(total: int, size: int = MB) -> AsyncIterator[bytes]:
    """`total` bytes of pattern_chunk(0), pattern_chunk(1), ... (never more than a chunk held)."""
    sent, index = 0, 0
    while sent < total:
        chunk = pattern_chunk(index, size)[: total - sent]
        sent += len(chunk)
        index += 1
        yield chunk


def digest_of(total: int, size: int = MB) -> str:
    hasher, sent, index = hashlib.sha256(), 0, 0
    while sent < total:
        chunk = pattern_chunk(index, size)[: total - sent]
        hasher.update(chunk)
        sent += len(chunk)
        index += 1
    return hasher.hexdigest()


async def new_resource(api: Api, seller: Party) -> str:
    r = await api.client.post("/v1/resources", json=resource_body(), headers=seller.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def new_revision(api: Api, seller: Party, resource_id: str) -> str:
    r = await api.client.post(
        f"/v1/resources/{resource_id}/revisions", headers={**seller.headers, **key("rev")}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def upload(
    api: Api,
    seller: Party,
    resource_id: str,
    revision_id: str,
    name: str,
    content: Any,
    media_type: str = "text/csv",
) -> Any:
    return await api.client.put(
        f"/v1/resources/{resource_id}/revisions/{revision_id}/files",
        params={"name": name},
        content=content,
        headers={**seller.headers, "Content-Type": media_type},
    )


async def finalise(api: Api, seller: Party, resource_id: str, revision_id: str) -> dict[str, Any]:
    r = await api.client.post(
        f"/v1/resources/{resource_id}/revisions/{revision_id}/finalise", headers=seller.headers
    )
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def register(api: Api, seller: Party, operator: dict[str, str], resource_id: str) -> str:
    """Apply, approve, let publicity end: the resource is registered (its registration id)."""
    applied = await api.client.post(
        "/v1/registrations",
        headers=seller.headers,
        json={"resource_id": resource_id, "rights_evidence": "own collection, contracts on file"},
    )
    assert applied.status_code == 201, applied.text
    approved = await api.client.post(
        f"/v1/registrations/{applied.json()['id']}/decision",
        headers=operator,
        json={"decision": "approve", "checklist": CHECKLIST},
    )
    assert approved.status_code == 200, approved.text
    clock.advance(timedelta(days=30))
    await run(api.app, finalise_due_registrations)
    return str(applied.json()["id"])


async def file_product(api: Api, seller: Party, resource_id: str, **plan: Any) -> str:
    """A listed file product of the seller on the registered resource."""
    holding = await holding_grant_id(api, seller.headers, resource_id)
    product_id = await product_on(
        api.app, seller.participant_id, {"resource_id": resource_id, "holding_grant_id": holding}
    )
    async with api.app.state.sessionmaker() as session, session.begin():
        row = await session.get(Product, uuid.UUID(product_id))
        parent = await session.get(RightGrantRow, uuid.UUID(holding))
        assert row is not None and parent is not None
        row.delivery_mode = "file"
        if plan:
            row.price_plan = plan
        # The operating right starts with the holding right it hangs from (registered just now).
        operating = await session.scalar(select(RightGrantRow).where(RightGrantRow.subject_id == row.id))
        assert operating is not None
        operating.valid_from = parent.valid_from
    return product_id


@dataclass
class FileSale:
    seller: Party
    buyer: Party
    operator: dict[str, str]
    resource_id: str
    revision: dict[str, Any]
    product_id: str
    order: dict[str, Any]
    registration_id: str

    @property
    def licence_id(self) -> str:
        return str(self.order["licence_id"])


async def file_sale(api: Api, files: dict[str, Any], **plan: Any) -> FileSale:
    """A seller uploads `files` (name -> bytes or chunk iterator) as revision 1, registers the
    resource, lists it; a buyer buys it, paid."""
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    resource_id = await new_resource(api, seller)
    revision_id = await new_revision(api, seller, resource_id)
    for name, content in files.items():
        up = await upload(api, seller, resource_id, revision_id, name, content)
        assert up.status_code == 200, up.text
    revision = await finalise(api, seller, resource_id, revision_id)
    registration_id = await register(api, seller, operator, resource_id)
    product_id = await file_product(api, seller, resource_id, **plan)
    order = await paid_order(api, buyer, product_id, operator)
    return FileSale(seller, buyer, operator, resource_id, revision, product_id, order, registration_id)
