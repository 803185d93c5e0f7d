"""The blob store, the same through obstore on a local directory and on S3 (moto's standalone
server on a loopback port: real HTTP, real S3 wire protocol, no mock of obstore)."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from market.audit.log import record
from market.storage import BlobNotFound, BlobStore, content_key
from tests.api import runtime_swaps as swaps
from tests.api.audit_factories import blob_store, publish_now

BUCKET = "market-objects"
CREDENTIALS = {"access_key_id": "testing", "secret_access_key": "testing", "region": "us-east-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


def s3_store(endpoint: str, prefix: str) -> BlobStore:
    return BlobStore(f"s3://{BUCKET}/{prefix}", {"endpoint": endpoint, **CREDENTIALS})


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return BlobStore((tmp_path / "objects").as_uri())
    return s3_store(request.getfixturevalue("s3_endpoint"), f"run-{request.node.name}-{free_port()}")


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def test_keys_ranges_streams_and_listing(store: BlobStore) -> None:
    payload = bytes(range(256)) * 40
    await store.put("tile/0/x001/234", payload)
    assert await store.get("tile/0/x001/234") == payload
    assert await store.get_range("tile/0/x001/234", 10, 20) == payload[10:20]
    assert b"".join([c async for c in store.stream("tile/0/x001/234", chunk_size=1000)]) == payload
    info = await store.head("tile/0/x001/234")
    assert info is not None and info.size == len(payload) and info.key == "tile/0/x001/234"
    await store.put("tile/0/x001/234", b"replaced")
    assert await store.get("tile/0/x001/234") == b"replaced"
    await store.put("tile/entries/000", b"e")
    assert sorted(i.key for i in [x async for x in store.list("tile/")]) == [
        "tile/0/x001/234",
        "tile/entries/000",
    ]
    await store.delete("tile/0/x001/234")
    await store.delete("tile/0/x001/234")  # gone already: no error
    assert await store.head("tile/0/x001/234") is None
    with pytest.raises(BlobNotFound):
        await store.get("tile/0/x001/234")
    with pytest.raises(BlobNotFound):
        await store.get_range("nothing/here", 0, 1)


async def test_content_is_stored_once_under_its_sha256(store: BlobStore) -> None:
    data = b"a data file of the exchange, " * 50_000  # ~1.4 MB, streamed in pieces
    digest = hashlib.sha256(data).hexdigest()
    assert await store.put_content(chunks(data, 65_536)) == digest
    assert await store.put_content(data) == digest  # again, as bytes: nothing new written
    assert await store.put_content(chunks(data, 100_000)) == digest
    assert await store.get(content_key(digest)) == data
    keys = [i.key async for i in store.list("")]
    assert keys == [content_key(digest)]  # one copy, no staging left behind


async def test_the_publisher_mirrors_the_log_to_s3_and_tiles_are_served_from_it(
    app: Any, client: Any, s3_endpoint: str
) -> None:
    with swaps.blob_store(app, s3_store(s3_endpoint, f"log-{free_port()}")):
        async with app.state.sessionmaker() as session, session.begin():
            for i in range(3):
                await record(
                    session, actor="system", action="test.s3", subject_type="test", subject_id=str(i)
                )
        assert (await publish_now(app)).checkpoint_size == 3
        mirrored = await blob_store(app).get("tile/0/000.p/3")
        assert (await client.get("/tile/0/000.p/3")).content == mirrored and len(mirrored) == 96
        assert await blob_store(app).get("checkpoint") == (await client.get("/checkpoint")).content
