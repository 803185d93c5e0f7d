"""The log's static copy in the blob store: tiles, entry bundles and the checkpoint, at the
paths c2sp.org/tlog-tiles gives them, so a bucket or a CDN can serve the log as plain files.

Tiles are written before the checkpoint that needs them, so the copy is always whole: a reader
that fetched `checkpoint` finds every tile it may ask for. Nothing here holds a lock or a
transaction while it talks to the store.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from market.audit.consistency import LogInconsistent
from market.audit.merkle import HASH_SIZE
from market.audit.tiles import bundle, tile_path, tiles_between
from market.audit.tree_store import bundle_leaves, load_tiles
from market.storage import BlobStore

CHECKPOINT_KEY = "checkpoint"
CHUNK = 256  # tiles read per short transaction


async def _read_chunk(
    session: AsyncSession, chunk: Sequence[tuple[int, int, int]]
) -> list[tuple[str, bytes]]:
    tiles = await load_tiles(session, [(level, index) for level, index, _ in chunk])
    blobs = []
    for level, index, width in chunk:
        data = tiles.get((level, index), b"")[: width * HASH_SIZE]
        if len(data) != width * HASH_SIZE:
            raise LogInconsistent("missing_tile", f"tile {level}/{index} is missing or shorter than the tree")
        blobs.append((tile_path(level, index, width), data))
        if level == 0:
            blobs.append((tile_path(None, index, width), bundle(await bundle_leaves(session, index, width))))
    return blobs


async def upload_tiles(
    sessionmaker: async_sessionmaker[AsyncSession], store: BlobStore, old: int, new: int
) -> int:
    """Write every tile and bundle a reader of size `new` may need beyond size `old`; returns
    how many blobs were written."""
    wanted = tiles_between(old, new)
    written = 0
    for start in range(0, len(wanted), CHUNK):
        async with sessionmaker() as session:
            blobs = await _read_chunk(session, wanted[start : start + CHUNK])
        for key, data in blobs:
            await store.put(key, data)
        written += len(blobs)
    return written


async def upload_checkpoint(store: BlobStore, note: str) -> None:
    await store.put(CHECKPOINT_KEY, note.encode("utf-8"))
