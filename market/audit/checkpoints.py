"""Signing checkpoints (c2sp.org/tlog-checkpoint signed notes) and reading them back.

A checkpoint is signed only over entries that were checked just before: every entry since the
last checkpoint hashes to the leaf its tile holds and carries a MAC from the service's key.
The same size and root are also signed as the JSON tree head (`market.audit.tree_head`), so
`GET /v1/audit/tree-head` stays a view of the same checkpoint for existing clients.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.consistency import LogInconsistent
from market.audit.macs import EntryKeyring
from market.audit.merkle import EMPTY_ROOT, HASH_SIZE
from market.audit.models import AuditEntry
from market.audit.note import Checkpoint, Signer, Verifier
from market.audit.tiles import WIDTH
from market.audit.tree_head import sign_tree_head
from market.audit.tree_models import Cosignature, LogState, TreeHead
from market.audit.tree_store import load_tiles
from market.common.clock import now
from market.settings import Settings

CHECK_BATCH = 2048


def log_signer(settings: Settings) -> Signer:
    return Signer(settings.log_origin, "ed25519", settings.exchange_signing_key())


def log_verifier(settings: Settings) -> Verifier:
    return log_signer(settings).verifier


async def latest_head(session: AsyncSession) -> TreeHead | None:
    return (
        await session.execute(select(TreeHead).order_by(TreeHead.id.desc()).limit(1))
    ).scalar_one_or_none()


async def cosignatures(session: AsyncSession, head_id: int) -> list[Cosignature]:
    stmt = select(Cosignature).where(Cosignature.head_id == head_id).order_by(Cosignature.witness)
    return list((await session.execute(stmt)).scalars())


def served_note(head: TreeHead, cosigs: list[Cosignature]) -> str:
    """The checkpoint as `GET /checkpoint` serves it: the log's note, then each cosignature."""
    if head.note is None:
        raise LookupError("this head was signed before checkpoints existed")
    return head.note + "".join(c.line for c in cosigs)


async def last_cosigned_size(session: AsyncSession, witness: str) -> int:
    """The largest checkpoint this witness cosigned for us (0 if none we know of)."""
    stmt = (
        select(func.max(TreeHead.tree_size))
        .join(Cosignature, Cosignature.head_id == TreeHead.id)
        .where(Cosignature.witness == witness)
    )
    return int(await session.scalar(stmt) or 0)


async def check_unsigned(session: AsyncSession, keys: EntryKeyring, state: LogState, since: int) -> None:
    """Every entry in [since, tree size) is the leaf its tile holds and was MAC'd by the service
    (entries sequenced before MACs existed excepted). Raises LogInconsistent naming the first
    that is not: nothing it cannot vouch for is ever signed."""
    first = since
    while first < state.tree_size:
        last = min(state.tree_size, first + CHECK_BATCH)
        rows = (
            await session.execute(
                select(AuditEntry.seq, AuditEntry.leaf, AuditEntry.mac, AuditEntry.mac_key_id)
                .where(AuditEntry.seq >= first, AuditEntry.seq < last)
                .order_by(AuditEntry.seq)
            )
        ).all()
        tiles = await load_tiles(
            session, {(0, s // WIDTH) for s in range(first, last, WIDTH)} | {(0, (last - 1) // WIDTH)}
        )
        for expected, (seq, leaf, mac, key_id) in enumerate(rows, start=first):
            if seq != expected:
                raise LogInconsistent(
                    "deleted", f"the entry at sequence number {expected} is missing", expected
                )
            raw = leaf.encode("utf-8")
            tile = tiles.get((0, seq // WIDTH), b"")
            offset = (seq % WIDTH) * HASH_SIZE
            if hashlib.sha256(b"\x00" + raw).digest() != tile[offset : offset + HASH_SIZE]:
                raise LogInconsistent(
                    "changed_leaf", f"the entry at sequence number {seq} is not the leaf the tree holds", seq
                )
            if seq >= state.mac_required_from and not keys.verifies(
                key_id, raw, None if mac is None else bytes(mac)
            ):
                raise LogInconsistent(
                    "forged", f"the entry at sequence number {seq} carries no valid MAC of the service", seq
                )
        if len(rows) != last - first:
            raise LogInconsistent("deleted", f"entries between {first} and {last - 1} are missing", first)
        first = last


def empty_checkpoint(settings: Settings) -> TreeHead:
    """The checkpoint of the empty log, signed now and not stored."""
    return _signed(settings, 0, EMPTY_ROOT)


def sign(settings: Settings, state: LogState) -> TreeHead:
    """A new checkpoint row for the state's tree (the caller adds it to the session)."""
    return _signed(settings, state.tree_size, bytes(state.root))


def _signed(settings: Settings, size: int, root: bytes) -> TreeHead:
    checkpoint = Checkpoint(settings.log_origin, size, root)
    text = checkpoint.text()
    when = now()
    key = settings.exchange_signing_key()
    sth = sign_tree_head(size, root, when, key)
    return TreeHead(
        tree_size=size,
        root_hash=sth.root_hash,
        timestamp=when,
        signature=sth.signature,
        key_id=sth.key_id,
        note=text + "\n" + log_signer(settings).sign(text),
        witness_quorum=settings.witness_quorum,
    )
