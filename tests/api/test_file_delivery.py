"""Files delivered for real: a seller uploads a revision (streamed, hashed as it arrives), the
registration certifies its manifest hash, a buyer downloads what its licence covers with its
token, with a signed URL, resuming with Range, and a revoked licence answers 410."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from market.audit.models import AuditEntry
from market.common import clock
from market.delivery.service import download_token
from market.storage import content_key, open_store
from tests.api import runtime_swaps as swaps
from tests.api.factories import Api
from tests.api.files_factories import MB, chunks, digest_of, file_sale
from tests.api.settlement_factories import key
from tests.api.test_storage import BUCKET, CREDENTIALS, s3_endpoint  # noqa: F401 (a fixture)

SIZE = 50 * MB


async def fetch(client: Any, url: str, headers: dict[str, str] | None = None) -> tuple[Any, str, int]:
    """GET `url` streamed: the response, the SHA-256 of its body and its length."""
    hasher, size = hashlib.sha256(), 0
    async with client.stream("GET", url, headers=headers or {}) as r:
        async for chunk in r.aiter_bytes():
            hasher.update(chunk)
            size += len(chunk)
    return r, hasher.hexdigest(), size


async def audit_count(app: Any, action: str) -> int:
    async with app.state.sessionmaker() as session:
        query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
        return int(await session.scalar(query) or 0)


async def test_a_50_mb_revision_is_registered_bought_and_downloaded_three_ways(
    api: Api, client: Any, app: Any
) -> None:
    sale = await file_sale(api, {"companies.csv": chunks(SIZE)})
    expected = digest_of(SIZE)
    seller, buyer = sale.seller, sale.buyer

    # The seller's revision: finalised, its manifest hash is the registered fingerprint.
    revisions = (
        await client.get(f"/v1/resources/{sale.resource_id}/revisions", headers=seller.headers)
    ).json()["items"]
    assert [(r["number"], r["status"], r["registration"]) for r in revisions] == [
        (1, "finalised", "registered")
    ]
    assert revisions[0]["files"][0]["size"] == SIZE and revisions[0]["files"][0]["sha256"] == expected
    manifest = await client.get(
        f"/v1/resources/{sale.resource_id}/revisions/{revisions[0]['id']}/manifest", headers=seller.headers
    )
    assert hashlib.sha256(manifest.content).hexdigest() == revisions[0]["manifest_sha256"]
    resource = (await client.get(f"/v1/resources/{sale.resource_id}", headers=seller.headers)).json()
    assert resource["fingerprint_sha256"] == revisions[0]["manifest_sha256"]
    entry = manifest.json()["files"][0]
    assert entry == {"media_type": "text/csv", "name": "companies.csv", "sha256": expected, "size": SIZE}

    # The buyer sees the file its licence covers.
    listed = await client.get(f"/v1/deliveries/{sale.licence_id}/files", headers=buyer.headers)
    assert listed.status_code == 200, listed.text
    files = listed.json()["files"]
    assert [(f["name"], f["size"], f["sha256"]) for f in files] == [("companies.csv", SIZE, entry["sha256"])]
    url = files[0]["download_path"]

    # 1. With its token: the whole file, streamed.
    r, digest, size = await fetch(client, url, buyer.headers)
    assert r.status_code == 200
    assert (digest, size) == (entry["sha256"], SIZE)
    assert r.headers["etag"] == f'"{expected}"' and r.headers["content-length"] == str(SIZE)
    assert r.headers["accept-ranges"] == "bytes"

    # 2. With a signed URL, no credentials at all.
    signed = await client.post(f"{url}/signed-url", headers=buyer.headers)
    assert signed.status_code == 200, signed.text
    assert "sig=" in signed.json()["path"] and signed.json()["url"].endswith(signed.json()["path"])
    r, digest, size = await fetch(client, signed.json()["path"])
    assert r.status_code == 200 and (digest, size) == (expected, SIZE)

    # 3. A broken download resumed with Range: the two parts make the file.
    half = SIZE // 2 + 12345
    first = await client.get(url, headers={**buyer.headers, "Range": f"bytes=0-{half - 1}"})
    assert first.status_code == 206 and first.headers["content-range"] == f"bytes 0-{half - 1}/{SIZE}"
    hasher = hashlib.sha256(first.content)
    async with client.stream("GET", url, headers={**buyer.headers, "Range": f"bytes={half}-"}) as rest:
        assert rest.status_code == 206
        assert rest.headers["content-range"] == f"bytes {half}-{SIZE - 1}/{SIZE}"
        assert rest.headers["content-length"] == str(SIZE - half)
        async for chunk in rest.aiter_bytes():
            hasher.update(chunk)
    assert hasher.hexdigest() == entry["sha256"]

    # Completed downloads: the two whole ones and the resumed one (its first range is not one).
    listed = await client.get(f"/v1/deliveries/{sale.licence_id}/files", headers=buyer.headers)
    assert listed.json()["completed_downloads"] == 3
    assert await audit_count(app, "delivery.file_downloaded") == 3

    # A range past the end: 416, saying how long the file is.
    bad = await client.get(url, headers={**buyer.headers, "Range": f"bytes={SIZE}-"})
    assert bad.status_code == 416 and bad.headers["content-range"] == f"bytes */{SIZE}"
    assert bad.headers["content-type"] == "application/problem+json"

    # Refunded in full, the licence is revoked: its downloads answer 410 with the reason.
    refunded = await client.post(
        f"/v1/orders/{sale.order['id']}/refund",
        json={"reason": "the buyer changed its mind"},
        headers={**sale.operator, **key()},
    )
    assert refunded.status_code == 201, refunded.text
    gone = await client.get(url, headers=buyer.headers)
    assert gone.status_code == 410 and "revoked" in gone.json()["detail"], gone.text
    assert (await client.get(signed.json()["path"])).status_code == 410
    assert (
        await client.get(f"/v1/deliveries/{sale.licence_id}/files", headers=buyer.headers)
    ).status_code == 410


async def test_only_the_buyer_or_a_valid_signature_downloads(api: Api, client: Any, app: Any) -> None:
    sale = await file_sale(api, {"a.csv": b"id,v\n1,2\n", "b.json": b'{"x": 1}', '报表 "Q3".csv': b"q\n3\n"})
    files = (await client.get(f"/v1/deliveries/{sale.licence_id}/files", headers=sale.buyer.headers)).json()[
        "files"
    ]
    assert sorted(f["name"] for f in files) == ["a.csv", "b.json", '报表 "Q3".csv']
    a, b, report = sorted(files, key=lambda f: f["name"])
    named = await client.get(report["download_path"], headers=sale.buyer.headers)
    assert named.status_code == 200 and named.content == b"q\n3\n"
    assert "filename*=UTF-8''%E6%8A%A5%E8%A1%A8%20%22Q3%22.csv" in named.headers["content-disposition"]
    assert (await client.get(a["download_path"])).status_code == 401
    # The seller and a stranger learn nothing.
    stranger = await api.org()
    for headers in (sale.seller.headers, stranger.headers):
        assert (await client.get(a["download_path"], headers=headers)).status_code == 404
        assert (
            await client.get(f"/v1/deliveries/{sale.licence_id}/files", headers=headers)
        ).status_code == 404
    # The buyer's API key, and the download token its delivery hands out (header or query).
    made = await client.post("/v1/api-keys", json={"name": "etl"}, headers=sale.buyer.headers)
    by_key = await client.get(a["download_path"], headers={"X-API-Key": made.json()["key"]})
    assert by_key.status_code == 200 and by_key.content == b"id,v\n1,2\n"
    delivery = await client.get(f"/v1/deliveries/{sale.licence_id}", headers=sale.buyer.headers)
    token = delivery.json()["download_token"]
    by_token = await client.get(a["download_path"], params={"token": token})
    assert by_token.status_code == 200 and by_token.content == b"id,v\n1,2\n"
    listed = await client.get(f"/v1/deliveries/{sale.licence_id}/files", headers={"X-Download-Token": token})
    assert listed.status_code == 200 and listed.json()["completed_downloads"] == 3
    elsewhere = download_token(app.state.runtime.settings, uuid.uuid4(), int(clock.now().timestamp()) + 60)
    assert (await client.get(a["download_path"], params={"token": elsewhere})).status_code == 401
    assert (await client.get(a["download_path"], params={"token": token[:-1] + "x"})).status_code == 401
    signed = (await client.post(f"{a['download_path']}/signed-url", headers=sale.buyer.headers)).json()
    ok = await client.get(signed["path"])
    assert ok.status_code == 200 and ok.content == b"id,v\n1,2\n"
    assert ok.headers["content-type"].startswith("text/csv")
    # The signature binds the file and the expiry.
    query = signed["path"].split("?", 1)[1]
    assert (await client.get(f"{b['download_path']}?{query}")).status_code == 401
    exp = int(query.split("exp=")[1].split("&")[0])
    tampered = signed["path"].replace(f"exp={exp}", f"exp={exp + 3600}")
    assert (await client.get(tampered)).status_code == 401
    assert (await client.get(a["download_path"], params={"exp": exp, "sig": "签名"})).status_code == 401
    assert (
        await client.get(a["download_path"], params={"token": f"{sale.licence_id}.{exp}.签名"})
    ).status_code == 401
    clock.advance(timedelta(hours=2))
    expired = await client.get(signed["path"])
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]


async def test_files_go_through_s3_when_the_storage_url_says_so(
    api: Api,
    client: Any,
    app: Any,
    s3_endpoint: str,  # noqa: F811 (the fixture imported above)
) -> None:
    """MARKET_STORAGE_URL=s3://... with its options: a real S3 wire endpoint (moto's server)."""
    settings = app.state.runtime.settings.model_copy(
        update={
            "storage_url": f"s3://{BUCKET}/files-{uuid.uuid4().hex[:8]}",
            "storage_options": {"endpoint": s3_endpoint, **CREDENTIALS},
        }
    )
    store = open_store(settings)
    size = 3 * MB + 17
    with swaps.blob_store(app, store):
        sale = await file_sale(api, {"big.bin": chunks(size)})
        expected = digest_of(size)
        assert await store.head(content_key(expected)) is not None  # in the bucket
        assert [i.key async for i in store.list("staging/")] == []
        files = (
            await client.get(f"/v1/deliveries/{sale.licence_id}/files", headers=sale.buyer.headers)
        ).json()["files"]
        r, digest, got = await fetch(client, files[0]["download_path"], sale.buyer.headers)
        assert r.status_code == 200 and (digest, got) == (expected, size)
        tail = await client.get(
            files[0]["download_path"], headers={**sale.buyer.headers, "Range": "bytes=-1000"}
        )
        whole = b"".join([c async for c in chunks(size)])
        assert tail.status_code == 206 and tail.content == whole[-1000:]
