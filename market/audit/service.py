"""Reading the log: the latest checkpoint, proofs from the tiles. Reads only: sequencing and
signing are the publisher's (`market.audit.publisher`), never a request's. Each read first
checks that the publisher has not stopped the log (503 `audit-log-inconsistent`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.checkpoints import cosignatures, empty_checkpoint, latest_head
from market.audit.consistency import read_status
from market.audit.models import AuditEntry
from market.audit.tree_models import Cosignature, LogState, TreeHead
from market.audit.tree_store import consistency_path, inclusion_path
from market.errors import InvalidInput, NotFound
from market.settings import Settings


async def ensure_consistent(session: AsyncSession) -> None:
    (await read_status(session)).raise_if_halted()


async def integrated_size(session: AsyncSession) -> int:
    return int(await session.scalar(select(LogState.tree_size)) or 0)


async def current_checkpoint(session: AsyncSession, settings: Settings) -> tuple[TreeHead, list[Cosignature]]:
    """The latest checkpoint and its cosignatures (503 while the publisher has stopped the log)."""
    await ensure_consistent(session)
    head = await latest_head(session)
    if head is None:
        # Before the publisher's first checkpoint the published log is empty, and that is what
        # a reader is told: a checkpoint of size 0, signed now and not stored.
        return empty_checkpoint(settings), []
    return head, await cosignatures(session, head.id)


async def prove_inclusion(session: AsyncSession, seq: int, size: int) -> tuple[AuditEntry, list[bytes]]:
    await ensure_consistent(session)
    current = await integrated_size(session)
    if not 0 < size <= current:
        raise InvalidInput(
            f"tree_size must be between 1 and {current}",
            fields=[("query.tree_size", "out of range")],
        )
    if not 0 <= seq < size:
        raise InvalidInput("the entry must lie inside the tree", fields=[("query.seq", f"must be < {size}")])
    entry = (await session.execute(select(AuditEntry).where(AuditEntry.seq == seq))).scalar_one_or_none()
    if entry is None:
        raise NotFound("entry not found")
    return entry, await inclusion_path(session, seq, size)


async def prove_consistency(session: AsyncSession, first: int, second: int) -> list[bytes]:
    await ensure_consistent(session)
    current = await integrated_size(session)
    if not 0 < first <= second:
        raise InvalidInput(
            "need 0 < first <= second", fields=[("query.first", "must be between 1 and second")]
        )
    if second > current:
        raise InvalidInput(
            f"the tree has only {current} entries", fields=[("query.second", "beyond the tree")]
        )
    return await consistency_path(session, first, second)
