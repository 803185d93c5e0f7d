"""Bytes to the blob store, before any database work: staged under `staging/<uuid>` while they
are hashed and counted, then moved to `sha256/<hex>` (kept once, however often uploaded).

Whatever is left behind by an upload that failed between the two steps (a staging object, or
content no revision file names) is removed by the sweep job (jobs.py).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from market.storage import BlobStore, content_key
from market.storage.store import STAGING_PREFIX


class LimitExceeded(Exception):
    """The body grew past the limit while it was read."""


@dataclass(frozen=True)
class Stored:
    sha256: str
    size: int


async def store_stream(store: BlobStore, chunks: AsyncIterator[bytes], limit: int) -> Stored:
    """Stream `chunks` into the store (constant memory), refusing past `limit` bytes; on any
    failure (the limit, the client gone) the staging object is deleted and the error raised."""
    hasher, size = hashlib.sha256(), 0

    async def counted() -> AsyncIterator[bytes]:
        nonlocal size
        async for chunk in chunks:
            if not chunk:
                continue
            size += len(chunk)
            if size > limit:
                raise LimitExceeded
            hasher.update(chunk)
            yield chunk

    staging = f"{STAGING_PREFIX}{uuid.uuid4().hex}"
    try:
        await store.put(staging, counted())
    except BaseException:
        await store.delete(staging)
        raise
    digest = hasher.hexdigest()
    try:
        # Moved even when the content is there already: the write refreshes its last-modified
        # time, so the sweep (which spares recent objects) cannot take it before the row lands.
        await store.move(staging, content_key(digest))
    finally:
        await store.delete(staging)
    return Stored(digest, size)
