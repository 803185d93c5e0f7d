"""Revisions of a resource: uploads stream to the store with no database connection held,
limits answer 413, a finalised revision never changes, a changed one is delivered only after a
registration change, and the sweep removes what failed uploads left behind."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from market.common import clock
from market.revisions.jobs import sweep_orphans
from market.revisions.manifest import ManifestEntry, fingerprint
from market.revisions.models import RevisionFile
from market.storage import BLOB_STORE, content_key
from tests.api import runtime_swaps as swaps
from tests.api.factories import Api, row_count
from tests.api.files_factories import (
    file_sale,
    finalise,
    new_resource,
    new_revision,
    upload,
)
from tests.api.jobs import run
from tests.api.registry_factories import resource_body
from tests.api.settlement_factories import key, paid_order


async def test_a_slow_upload_holds_no_database_connection(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    resource_id = await new_resource(api, seller)
    revision_id = await new_revision(api, seller, resource_id)
    streaming = asyncio.Event()

    async def one_byte_a_second() -> AsyncIterator[bytes]:
        for byte in b"abc":
            yield bytes([byte])
            streaming.set()
            await asyncio.sleep(1)

    upload_task = asyncio.create_task(
        upload(api, seller, resource_id, revision_id, "slow.csv", one_byte_a_second())
    )
    await asyncio.wait_for(streaming.wait(), 10)
    # Mid-upload: no connection is checked out of the pool, and others read and write at once.
    assert app.state.engine.pool.checkedout() == 0
    started = time.monotonic()
    other = await api.org()
    created = await client.post("/v1/resources", json=resource_body(), headers=other.headers)
    assert created.status_code == 201
    assert (await client.get("/v1/catalog")).status_code == 200
    assert time.monotonic() - started < 2.5
    assert not upload_task.done()
    done = await upload_task
    assert done.status_code == 200, done.text
    assert done.json()["size"] == 3 and done.json()["sha256"] == hashlib.sha256(b"abc").hexdigest()


async def test_limits_answer_413_and_a_refused_or_aborted_upload_leaves_nothing(
    api: Api, client: Any, app: Any
) -> None:
    seller = await api.org()
    resource_id = await new_resource(api, seller)
    revision_id = await new_revision(api, seller, resource_id)

    async def streamed(data: bytes) -> AsyncIterator[bytes]:  # no Content-Length: caught in flight
        for i in range(0, len(data), 100):
            yield data[i : i + 100]

    with swaps.settings(app, max_revision_file_bytes=1000, max_revision_bytes=1500):
        declared = await upload(api, seller, resource_id, revision_id, "big.csv", b"x" * 1001)
        assert declared.status_code == 413, declared.text
        assert declared.headers["content-type"] == "application/problem+json"
        in_flight = await upload(api, seller, resource_id, revision_id, "big.csv", streamed(b"y" * 1001))
        assert in_flight.status_code == 413
        assert (await upload(api, seller, resource_id, revision_id, "a.csv", b"a" * 1000)).status_code == 200
        over = await upload(api, seller, resource_id, revision_id, "b.csv", streamed(b"b" * 600))
        assert over.status_code == 413 and "revision" in over.json()["detail"]
        # Replacing a file counts the new size, not both.
        assert (await upload(api, seller, resource_id, revision_id, "a.csv", b"c" * 900)).status_code == 200

    async def broken() -> AsyncIterator[bytes]:
        yield b"partial data"
        raise ConnectionResetError("the client went away")

    try:
        await upload(api, seller, resource_id, revision_id, "broken.csv", broken())
    except ConnectionResetError:
        pass
    names = [
        f["name"]
        for f in (
            await client.get(f"/v1/resources/{resource_id}/revisions/{revision_id}", headers=seller.headers)
        ).json()["files"]
    ]
    assert names == ["a.csv"]
    assert await row_count(app, RevisionFile) == 1

    # What is left in the store: the replaced a.csv content, and a stale staging object.
    store = app.state.runtime.port(BLOB_STORE)
    await store.put("staging/left-behind", b"half an upload")
    assert await store.head(content_key(hashlib.sha256(b"a" * 1000).hexdigest())) is not None
    assert await run(app, sweep_orphans) == 0  # nothing is old enough yet
    clock.advance(timedelta(hours=2))
    assert await run(app, sweep_orphans) >= 2
    assert await store.head("staging/left-behind") is None
    assert await store.head(content_key(hashlib.sha256(b"a" * 1000).hexdigest())) is None
    kept = await store.head(content_key(hashlib.sha256(b"c" * 900).hexdigest()))
    assert kept is not None  # still named by a.csv


async def test_a_finalised_revision_is_immutable_and_a_new_one_needs_a_registration_change(
    api: Api, client: Any, app: Any
) -> None:
    sale = await file_sale(api, {"v1.csv": b"id\n1\n"})
    seller, resource_id = sale.seller, sale.resource_id
    first = sale.revision
    refused = await upload(api, seller, resource_id, first["id"], "more.csv", b"id\n2\n")
    assert refused.status_code == 409, refused.text
    again = await client.post(
        f"/v1/resources/{resource_id}/revisions/{first['id']}/finalise", headers=seller.headers
    )
    assert again.status_code == 409

    second = await new_revision(api, seller, resource_id)
    assert (await upload(api, seller, resource_id, second, "v2.csv", b"id\n1\n2\n")).status_code == 200
    finalised = await finalise(api, seller, resource_id, second)
    assert finalised["number"] == 2 and finalised["registration"] == "pending"
    assert finalised["manifest_sha256"] == fingerprint(
        [ManifestEntry("v2.csv", "text/csv", 7, hashlib.sha256(b"id\n1\n2\n").hexdigest())]
    )

    # Not yet registered: a new buyer still gets revision 1, the registered data.
    newcomer = await api.org(roles=("buyer",))
    order = await paid_order(api, newcomer, sale.product_id, sale.operator)
    listed = (
        await client.get(f"/v1/deliveries/{order['licence_id']}/files", headers=newcomer.headers)
    ).json()
    assert names(listed) == ["v1.csv"]

    # The registration change certifies revision 2; from then on it is what is sold.
    resource = (await client.get(f"/v1/resources/{resource_id}", headers=seller.headers)).json()
    assert resource["pending_fingerprint_sha256"] == finalised["manifest_sha256"]
    change = await client.post(
        f"/v1/registrations/{sale.registration_id}/changes",
        json={"reason": "revision 2 adds a row"},
        headers={**seller.headers, **key()},
    )
    assert change.status_code == 201, change.text
    await register_decision(api, sale.operator, change.json()["id"])
    revisions = (await client.get(f"/v1/resources/{resource_id}/revisions", headers=seller.headers)).json()[
        "items"
    ]
    assert [r["registration"] for r in revisions] == ["unregistered", "registered"]

    later = await api.org(roles=("buyer",))
    order = await paid_order(api, later, sale.product_id, sale.operator)
    listed = (await client.get(f"/v1/deliveries/{order['licence_id']}/files", headers=later.headers)).json()
    assert names(listed) == ["v2.csv"]
    # A one-off purchase keeps the revision it bought.
    listed = (await client.get(f"/v1/deliveries/{sale.licence_id}/files", headers=sale.buyer.headers)).json()
    assert names(listed) == ["v1.csv"]


def names(body: dict[str, Any]) -> list[str]:
    return [f["name"] for f in body["files"]]


async def register_decision(api: Api, operator: dict[str, str], registration_id: str) -> None:
    from market.registry.jobs import finalise_due_registrations
    from tests.api.registry_factories import CHECKLIST

    approved = await api.client.post(
        f"/v1/registrations/{registration_id}/decision",
        headers=operator,
        json={"decision": "approve", "checklist": CHECKLIST},
    )
    assert approved.status_code == 200, approved.text
    clock.advance(timedelta(days=30))
    await run(api.app, finalise_due_registrations)


async def test_a_subscription_gets_every_registered_revision_of_its_term(
    api: Api, client: Any, app: Any
) -> None:
    sale = await file_sale(
        api, {"jan.csv": b"month\n1\n"}, kind="subscription", period="month", price_per_period="300"
    )
    second = await new_revision(api, sale.seller, sale.resource_id)
    assert (
        await upload(api, sale.seller, sale.resource_id, second, "feb.csv", b"month\n2\n")
    ).status_code == 200
    await finalise(api, sale.seller, sale.resource_id, second)
    change = await client.post(
        f"/v1/registrations/{sale.registration_id}/changes",
        json={"reason": "February's data"},
        headers={**sale.seller.headers, **key()},
    )
    assert change.status_code == 201, change.text
    await register_decision(api, sale.operator, change.json()["id"])
    listed = (await client.get(f"/v1/deliveries/{sale.licence_id}/files", headers=sale.buyer.headers)).json()
    assert sorted(f["name"] for f in listed["files"]) == ["feb.csv", "jan.csv"]


async def test_names_and_media_types_are_checked(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    resource_id = await new_resource(api, seller)
    revision_id = await new_revision(api, seller, resource_id)
    for name in ("../etc/passwd", "a/b.csv", " ", "tab\there"):
        r = await upload(api, seller, resource_id, revision_id, name, b"x")
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.name", (name, r.text)
    r = await upload(api, seller, resource_id, revision_id, "x.csv", b"x", media_type="not a type")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.media_type"
    r = await upload(
        api, seller, resource_id, revision_id, "x.csv", b"x", media_type="Text/CSV; charset=utf-8"
    )
    assert r.status_code == 200 and r.json()["media_type"] == "text/csv"
    # Only the resource's holder uploads; a stranger learns nothing.
    stranger = await api.org()
    assert (await upload(api, stranger, resource_id, revision_id, "y.csv", b"y")).status_code == 404
    empty = await new_revision(api, seller, resource_id)
    r = await client.post(f"/v1/resources/{resource_id}/revisions/{empty}/finalise", headers=seller.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "path.revision_id"
    draft = await client.get(
        f"/v1/resources/{resource_id}/revisions/{empty}/manifest", headers=seller.headers
    )
    assert draft.status_code == 409
