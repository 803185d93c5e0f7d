"""Sweeping the blob store: what an aborted or refused upload left behind (a staging object, or
content that no revision file names, e.g. a draft's file replaced by another) is deleted once
it is older than any upload still between its two steps could be."""

from __future__ import annotations

from datetime import timedelta

from market.common.clock import now
from market.jobs import job
from market.revisions import service
from market.runtime import Runtime
from market.storage import BLOB_STORE
from market.storage.store import CONTENT_PREFIX, STAGING_PREFIX

# An object is swept only this long after it was last written: the time between an upload's
# bytes reaching the store and its row being committed is far shorter.
GRACE = timedelta(hours=1)
BATCH = 500


@job("revisions.sweep_orphans", schedule="23 * * * *")
async def sweep_orphans(runtime: Runtime) -> int:
    store = runtime.port(BLOB_STORE)
    cutoff = now() - GRACE
    removed = 0
    async for info in store.list(STAGING_PREFIX):
        if info.last_modified < cutoff:
            await store.delete(info.key)
            removed += 1
    candidates: list[str] = []

    async def sweep(digests: list[str]) -> int:
        async with runtime.sessionmaker() as session:
            orphans = await service.unreferenced(session, digests)
        gone = 0
        for digest in orphans:
            info = await store.head(CONTENT_PREFIX + digest)
            if info is not None and info.last_modified < cutoff:  # not uploaded again meanwhile
                await store.delete(CONTENT_PREFIX + digest)
                gone += 1
        return gone

    async for info in store.list(CONTENT_PREFIX):
        if info.last_modified < cutoff:
            candidates.append(info.key.removeprefix(CONTENT_PREFIX))
        if len(candidates) >= BATCH:
            removed += await sweep(candidates)
            candidates = []
    if candidates:
        removed += await sweep(candidates)
    return removed
