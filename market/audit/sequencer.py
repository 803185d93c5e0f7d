"""The sequencer: checks the log still adds up, then gives committed entries their place.

Writers only INSERT (no lock, no counter), so the order path never queues behind the log. The
sequencer runs inside the publisher's transaction, which holds the log state row: it first
reconciles what is stored (`reconcile`), then takes committed, unsequenced entries in insert
order, refuses (quarantines) any whose MAC or leaf hash does not verify, numbers the rest after
the last one, grows the tiles and records the new size and root. A sequence number, once given,
never changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.alerting import raise_critical
from market.audit.consistency import LogInconsistent
from market.audit.log import record
from market.audit.macs import EntryKeyring
from market.audit.merkle import HASH_SIZE
from market.audit.models import AuditEntry, QuarantinedEntry
from market.audit.tiles import MAX_ENTRY_BYTES, WIDTH, TileEdge, edge_tiles
from market.audit.tree_models import LogState, TreeHead
from market.audit.tree_store import load_tiles, root_at, save_tiles
from market.common.clock import now

BATCH = 20000


@dataclass
class Sequenced:
    count: int = 0
    quarantined: list[int] = field(default_factory=list)


async def reconcile(session: AsyncSession, state: LogState) -> TileEdge:
    """Check the stored log against its state: the entries end where the tree ends, the edge
    tiles exist and hash to the recorded root, the last tile's entries are the ones it holds,
    and the tree still has the root its last checkpoint signed. Cheap: a few indexed reads."""
    size = state.tree_size
    top = await session.scalar(select(func.max(AuditEntry.seq)))
    last = -1 if top is None else int(top)
    if last > size - 1:
        raise LogInconsistent(
            "inserted",
            f"an entry holds sequence number {last}, beyond the tree's {size} entries: the log did not "
            "sequence it",
            last,
        )
    if last < size - 1:
        raise LogInconsistent(
            "deleted",
            f"the tree holds {size} entries but the log ends at sequence number {last}: "
            f"entries {last + 1} to {size - 1} were deleted",
            last + 1,
        )
    keys = [key for key, width in edge_tiles(size) if width]
    tail = max(0, size - (size % WIDTH or WIDTH))  # the entries of the last level-0 tile
    if size:
        keys.append((0, tail // WIDTH))
    tiles = await load_tiles(session, keys)
    try:
        edge = TileEdge.resume(size, tiles)
    except KeyError as missing:
        level, index = missing.args[0]
        raise LogInconsistent(
            "missing_tile", f"tile {level}/{index} is missing or shorter than the tree"
        ) from None
    if edge.root() != state.root:
        raise LogInconsistent("changed_tile", "the stored tiles no longer hash to the tree's recorded root")
    if size:
        await _check_tail(session, tiles.get((0, tail // WIDTH), b""), tail, size)
    head = (
        await session.execute(select(TreeHead).order_by(TreeHead.id.desc()).limit(1))
    ).scalar_one_or_none()
    if head is not None:
        if head.tree_size > size:
            raise LogInconsistent(
                "rolled_back",
                f"the last checkpoint signed {head.tree_size} entries but the tree holds {size}",
                size,
            )
        if (await root_at(session, head.tree_size)).hex() != head.root_hash:
            raise LogInconsistent(
                "changed_tile",
                f"the tree no longer has the root the checkpoint of size {head.tree_size} signed",
            )
    return edge


async def _check_tail(session: AsyncSession, tile: bytes, first: int, size: int) -> None:
    rows = (
        await session.execute(
            select(AuditEntry.seq, AuditEntry.leaf, AuditEntry.leaf_hash)
            .where(AuditEntry.seq >= first)
            .order_by(AuditEntry.seq)
        )
    ).all()
    for expected, (seq, leaf, digest) in enumerate(rows, start=first):
        if seq != expected:
            raise LogInconsistent("deleted", f"the entry at sequence number {expected} is missing", expected)
        in_tile = tile[(seq - first) * HASH_SIZE : (seq - first + 1) * HASH_SIZE]
        content = hashlib.sha256(b"\x00" + leaf.encode("utf-8")).digest()
        if bytes(digest) != in_tile or content != in_tile:
            raise LogInconsistent(
                "changed_leaf", f"the entry at sequence number {seq} is not the leaf the tree holds", seq
            )
    if len(rows) != size - first:
        raise LogInconsistent("deleted", f"entries between {first} and {size - 1} are missing", first)


def _genuine(
    keys: EntryKeyring, leaf: str, digest: bytes, mac: bytes | None, key_id: str | None
) -> str | None:
    """Why a queued entry is refused, or None if its writer held the key."""
    raw = leaf.encode("utf-8")
    if len(raw) > MAX_ENTRY_BYTES:
        return "the entry is larger than an entry bundle can hold"
    if hashlib.sha256(b"\x00" + raw).digest() != bytes(digest):
        return "its leaf hash is not the hash of its content"
    if mac is None:
        return "it carries no MAC: it was not written by the service"
    if not keys.verifies(key_id, raw, bytes(mac)):
        return "its MAC does not verify: it was not written by the service"
    return None


# What the sequencer checks of each queued entry: a plain table read (no ORM objects, no type
# conversions), since it runs for every entry of the log.
QUEUED = text(
    "SELECT id, leaf, leaf_hash, mac, mac_key_id FROM audit_entries WHERE seq IS NULL ORDER BY id LIMIT :n"
)
COPIED = (
    "id",
    "created_at",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "leaf",
    "leaf_hash",
    "mac",
    "mac_key_id",
)


async def quarantine(session: AsyncSession, refused: dict[int, str]) -> list[int]:
    """Move refused entries out of the log's queue and record, in the log, that they were."""
    at = now()
    columns = [getattr(AuditEntry, name) for name in COPIED]
    # In id order, the log's own: the quarantines are recorded in the order the entries came.
    entries = (
        await session.execute(select(*columns).where(AuditEntry.id.in_(refused)).order_by(AuditEntry.id))
    ).all()
    rows = [{**e._asdict(), "reason": refused[e.id], "quarantined_at": at} for e in entries]
    ids = [e.id for e in entries]
    await session.execute(insert(QuarantinedEntry), rows)
    await session.execute(delete(AuditEntry).where(AuditEntry.id.in_(ids)))
    for entry in entries:
        why = refused[entry.id]
        evidence = {"entry_id": entry.id, "leaf_hash": bytes(entry.leaf_hash).hex(), "reason": why}
        await record(
            session,
            actor="system",
            action="audit.entry_quarantined",
            subject_type="audit_entry",
            subject_id=str(entry.id),
            payload={**evidence, "action": entry.action, "actor": entry.actor},
        )
        await raise_critical(
            session,
            "audit_entry_forged",
            f"Audit entry {entry.id} was refused: {why}",
            evidence,
            ("audit_entry", str(entry.id)),
        )
    return ids


async def sequence(
    session: AsyncSession, state: LogState, edge: TileEdge, keys: EntryKeyring, batch: int = BATCH
) -> Sequenced:
    """Sequence up to `batch` committed entries onto the (reconciled) tree."""
    pending = (await session.execute(QUEUED, {"n": batch})).all()
    done = Sequenced()
    ids: list[int] = []
    leaves: list[bytes] = []
    refused: dict[int, str] = {}
    for entry_id, leaf, digest, mac, key_id in pending:
        why = _genuine(keys, leaf, digest, mac, key_id)
        if why is None:
            ids.append(entry_id)
            leaves.append(bytes(digest))
        else:
            refused[entry_id] = why
    if refused:
        done.quarantined = await quarantine(session, refused)
    if not ids:
        return done
    size = state.tree_size
    seqs = list(range(size, size + len(ids)))
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text(
                "UPDATE audit_entries AS e SET seq = v.seq FROM unnest(CAST(:ids AS bigint[]), "
                "CAST(:seqs AS bigint[])) AS v(id, seq) WHERE e.id = v.id"
            ),
            {"ids": ids, "seqs": seqs},
        )
    else:
        await session.execute(
            update(AuditEntry), [{"id": i, "seq": s} for i, s in zip(ids, seqs, strict=True)]
        )
    await save_tiles(session, edge.append(leaves))
    state.tree_size, state.root = edge.size, edge.root()
    done.count = len(ids)
    return done
