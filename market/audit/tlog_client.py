"""Reading a tiled log over HTTP as an outsider does: with its public keys alone.

`open_log` fetches `/checkpoint` and checks the log's signature and a quorum of witness
cosignatures; `inclusion_from_tiles` / `consistency_from_tiles` compute proofs from the public
hash tiles; `verify_tiles` re-hashes every entry from the entry bundles (which hold the entries
themselves, so they need an auditor's credentials) and checks the whole tree against the
checkpoint and any earlier checkpoints the caller kept.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import httpx

from market.audit.merkle import consistency_nodes, consistency_proof, inclusion_nodes, inclusion_proof
from market.audit.note import Checkpoint, InvalidNote, Note, Verifier, cosigners, open_checkpoint
from market.audit.report import VerificationReport
from market.audit.tiles import HEIGHT, WIDTH, TileKey, TileNodes, tile_path, tiles_for_nodes, unbundle
from market.audit.verify import LogVerifier

AHEAD = 8  # entry bundles fetched concurrently


@dataclass(frozen=True)
class OpenedLog:
    checkpoint: Checkpoint
    note: Note
    cosigned_by: list[str]


async def _get(client: httpx.AsyncClient, path: str) -> bytes:
    response = await client.get(path)
    if response.status_code != 200:
        raise LookupError(f"GET {path}: {response.status_code} {response.text[:200]}")
    return response.content


async def open_log(
    client: httpx.AsyncClient, log: Verifier, witnesses: Sequence[Verifier] = (), quorum: int = 0
) -> OpenedLog:
    """The log's current checkpoint, signed by `log` and cosigned by `quorum` of `witnesses`
    (InvalidNote otherwise)."""
    checkpoint, note = open_checkpoint(await _get(client, "checkpoint"), log)
    cosigned = [v.name for v, _ in cosigners(note, witnesses)]
    if len(cosigned) < quorum:
        raise InvalidNote(f"the checkpoint has {len(cosigned)} of the {quorum} witness cosignatures required")
    return OpenedLog(checkpoint, note, cosigned)


def tile_width(level: int, index: int, size: int) -> int:
    """How many hashes tile (level, index) holds in a tree of `size` leaves (0: none)."""
    below = size >> (HEIGHT * level)  # hashes of this level in the tree
    return max(0, min(WIDTH, below - index * WIDTH))


async def fetch_tiles(client: httpx.AsyncClient, keys: Iterable[TileKey], size: int) -> dict[TileKey, bytes]:
    wanted = sorted(k for k in set(keys) if tile_width(*k, size))
    blobs = await asyncio.gather(
        *(_get(client, tile_path(lv, ix, tile_width(lv, ix, size))) for lv, ix in wanted)
    )
    return dict(zip(wanted, blobs, strict=True))


async def inclusion_from_tiles(client: httpx.AsyncClient, index: int, size: int) -> list[bytes]:
    nodes = TileNodes(await fetch_tiles(client, tiles_for_nodes(inclusion_nodes(index, size)), size))
    return inclusion_proof(index, size, nodes)


async def consistency_from_tiles(client: httpx.AsyncClient, first: int, second: int) -> list[bytes]:
    if first in (0, second):
        return []
    nodes = TileNodes(await fetch_tiles(client, tiles_for_nodes(consistency_nodes(first, second)), second))
    return consistency_proof(first, second, nodes)


async def _bundle(client: httpx.AsyncClient, index: int, size: int) -> tuple[list[bytes], bytes]:
    width = tile_width(0, index, size)
    entries, hashes = await asyncio.gather(
        _get(client, tile_path(None, index, width)), _get(client, tile_path(0, index, width))
    )
    leaves = unbundle(entries)
    if len(leaves) != width:
        raise LookupError(f"entry bundle {index} holds {len(leaves)} entries, not {width}")
    return leaves, hashes


async def verify_tiles(
    client: httpx.AsyncClient,
    log: Verifier,
    witnesses: Sequence[Verifier] = (),
    quorum: int = 0,
    trusted: Sequence[Checkpoint] = (),
    progress: Callable[[int], None] | None = None,
) -> tuple[OpenedLog, VerificationReport]:
    """Check every entry of the log against its hash tiles, its checkpoint and `trusted`
    earlier checkpoints: a deleted, changed or reordered entry, or history rewritten since a
    checkpoint someone kept, shows as a root that does not match."""
    opened = await open_log(client, log, witnesses, quorum)
    size = opened.checkpoint.size
    verifier = LogVerifier((), None, checkpoints=[opened.checkpoint, *(c for c in trusted if c.size <= size)])
    for late in (c for c in trusted if c.size > size):
        verifier.report.fail(
            size, "deleted", f"a kept checkpoint covers {late.size} entries; the log now {size}"
        )
    count = -(-size // WIDTH)
    sha256 = hashlib.sha256
    pending = {i: asyncio.ensure_future(_bundle(client, i, size)) for i in range(min(AHEAD, count))}
    try:
        for index in range(count):
            leaves, hashes = await pending.pop(index)
            if index + AHEAD < count:
                pending[index + AHEAD] = asyncio.ensure_future(_bundle(client, index + AHEAD, size))
            first = index * WIDTH
            computed = [sha256(b"\x00" + leaf).digest() for leaf in leaves]
            if first == verifier.expected_seq and b"".join(computed) == hashes:
                verifier.feed_intact(first, computed)  # every entry is the leaf its tile holds
            else:
                verifier.feed_many(
                    (first + i, leaf, digest, None, None, None, hashes[32 * i : 32 * i + 32])
                    for i, (leaf, digest) in enumerate(zip(leaves, computed, strict=True))
                )
            if progress is not None:
                progress(first + len(leaves))
            if verifier.saturated:
                break
    finally:
        for task in pending.values():
            task.cancel()
    return opened, verifier.finish()
