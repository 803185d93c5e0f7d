"""Blobs by key, and content-addressed blobs by SHA-256, in a local directory or S3.

`MARKET_STORAGE_URL` names the store as obstore does (`file:///srv/market/objects`,
`s3://bucket/prefix`, `memory:///`); `MARKET_STORAGE_OPTIONS` (JSON) adds store options, e.g.
`{"endpoint": "http://127.0.0.1:9000", "access_key_id": "...", "secret_access_key": "...",
"region": "us-east-1"}` for an S3-compatible server. The default is `<data dir>/objects`.

Keys are `/`-separated paths. Content-addressed blobs live under `sha256/<hex>`, written once
whatever how often they are put. obstore writes atomically: a reader never sees half a blob.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import obstore

from market.runtime import Port

if TYPE_CHECKING:
    from obstore.store import ObjectStore

    from market.settings import Settings

CONTENT_PREFIX = "sha256/"
STAGING_PREFIX = "staging/"
CHUNK = 1 << 20


class BlobNotFound(KeyError):
    """No blob at this key."""


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    etag: str | None
    last_modified: datetime


def content_key(sha256_hex: str) -> str:
    return CONTENT_PREFIX + sha256_hex


def _info(meta: Any) -> BlobInfo:
    return BlobInfo(meta["path"], int(meta["size"]), meta.get("e_tag"), meta["last_modified"])


class BlobStore:
    """Typed async access to one obstore store."""

    def __init__(self, url: str, options: dict[str, str] | None = None) -> None:
        self.url = url
        self._options = dict(options or {})
        self._opened: ObjectStore | None = None

    @property
    def _store(self) -> ObjectStore:
        """The obstore store, opened on first use (a local directory is created then)."""
        if self._opened is None:
            self._opened = self._open()
        return self._opened

    def _open(self) -> ObjectStore:
        if self.url.startswith("file://"):
            Path(self.url.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
            return obstore.store.from_url(self.url)
        client: dict[str, Any] = {}
        if self._options.get("endpoint", "").startswith("http://"):
            client["allow_http"] = True  # a local S3-compatible server without TLS
        config = cast(Any, self._options) or None  # obstore's typed store options, as configured
        return obstore.store.from_url(self.url, config=config, client_options=cast(Any, client) or None)

    async def put(self, key: str, data: bytes | Iterable[bytes] | AsyncIterable[bytes]) -> None:
        """Write (or replace) the blob at `key`, atomically."""
        await obstore.put_async(self._store, key, data)

    async def put_content(self, data: bytes | AsyncIterable[bytes]) -> str:
        """Store content under its SHA-256 (once) and return the hex digest. A stream is hashed
        as it is uploaded to a staging key, then moved into place."""
        if isinstance(data, bytes):
            digest = hashlib.sha256(data).hexdigest()
            if await self.head(content_key(digest)) is None:
                await self.put(content_key(digest), data)
            return digest
        hasher = hashlib.sha256()

        async def hashed() -> AsyncIterator[bytes]:
            async for chunk in data:
                hasher.update(chunk)
                yield chunk

        staging = f"{STAGING_PREFIX}{uuid.uuid4().hex}"
        await self.put(staging, hashed())
        digest = hasher.hexdigest()
        if await self.head(content_key(digest)) is None:
            await obstore.rename_async(self._store, staging, content_key(digest))
        else:
            await self.delete(staging)
        return digest

    async def get(self, key: str) -> bytes:
        try:
            result = await obstore.get_async(self._store, key)
            return bytes(await result.bytes_async())
        except FileNotFoundError as exc:
            raise BlobNotFound(key) from exc

    async def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of the blob (fewer if it ends sooner)."""
        if not 0 <= start < end:
            raise ValueError("a range is 0 <= start < end")
        try:
            return bytes(await obstore.get_range_async(self._store, key, start=start, end=end))
        except FileNotFoundError as exc:
            raise BlobNotFound(key) from exc

    def local_path(self, key: str) -> Path | None:
        """Where the blob lives on this machine's disk, for a local directory store (a reader
        may then read the file itself, several times faster than through obstore's stream);
        None for any other store."""
        if not self.url.startswith("file://"):
            return None
        return Path(self.url.removeprefix("file://")) / key

    async def move(self, source: str, target: str) -> None:
        """Rename `source` to `target` (a copy and a delete on S3)."""
        await obstore.rename_async(self._store, source, target)

    async def stream(
        self, key: str, chunk_size: int = CHUNK, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """The blob's bytes [start, end) in chunks (from the store as they arrive: memory flat)."""
        options: dict[str, Any] = {}
        if end is not None:
            options["range"] = (start, end)
        elif start:
            options["range"] = {"offset": start}
        try:
            result = await obstore.get_async(self._store, key, options=cast(Any, options) or None)
        except FileNotFoundError as exc:
            raise BlobNotFound(key) from exc
        async for chunk in result.stream(min_chunk_size=chunk_size):
            yield bytes(chunk)

    async def head(self, key: str) -> BlobInfo | None:
        try:
            return _info(await obstore.head_async(self._store, key))
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        """Remove the blob; no error if there is none."""
        try:
            await obstore.delete_async(self._store, key)
        except FileNotFoundError:
            return

    async def list(self, prefix: str = "") -> AsyncIterator[BlobInfo]:
        async for chunk in obstore.list(self._store, prefix or None):
            for meta in chunk:
                yield _info(meta)


# The port through which use cases and jobs reach the process's store (`market.runtime`).
BLOB_STORE: Port[BlobStore] = Port("blob store")


def open_store(settings: Settings) -> BlobStore:
    return BlobStore(settings.effective_storage_url, settings.storage_options)
