"""Gathering witness cosignatures on a checkpoint, and what their answers mean for the log.

Each configured witness that has not cosigned the checkpoint yet is asked (concurrently, with
a timeout); valid cosignatures are stored next to the checkpoint and served with it. The
checkpoint needs `MARKET_AUDIT_WITNESS_QUORUM` of them (default: every witness); one without
that quorum is marked so. A witness that refuses (it saw another tree) raises a critical alert;
if the refusals leave the checkpoint without its quorum, the log stops (`witness_refused`) until
the witnesses accept its latest checkpoint again, which only a restored log achieves.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from market.audit import checkpoints
from market.audit.alerting import raise_critical
from market.audit.consistency import LogInconsistent, clear_halt, locked_state
from market.audit.note import parse_note
from market.audit.tree_models import Cosignature, TreeHead
from market.audit.tree_store import consistency_path
from market.audit.witnessing import WitnessReply, submit
from market.settings import Settings

if TYPE_CHECKING:
    from market.audit.publisher import PublishOutcome


async def _ask(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    head: TreeHead,
    have: set[str],
    http: httpx.AsyncClient,
) -> list[WitnessReply]:
    pending = [w for w in settings.audit_witnesses if w.name not in have]
    async with sessionmaker() as session:
        starts = {w.name: await checkpoints.last_cosigned_size(session, w.name) for w in pending}
    note = head.note or ""
    text = parse_note(note).text

    async def prove(old: int) -> list[bytes]:
        async with sessionmaker() as session:
            return await consistency_path(session, old, head.tree_size)

    return list(
        await asyncio.gather(
            *(submit(http, w, note, text, head.tree_size, starts[w.name], prove) for w in pending)
        )
    )


async def gather_cosignatures(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    head: TreeHead,
    outcome: PublishOutcome,
    http: httpx.AsyncClient | None = None,
) -> None:
    if not settings.audit_witnesses:
        return

    async with sessionmaker() as session:
        have = {c.witness for c in await checkpoints.cosignatures(session, head.id)}
    client = http or httpx.AsyncClient(timeout=settings.audit_witness_timeout_seconds)
    try:
        replies = await _ask(sessionmaker, settings, head, have, client)
    finally:
        if http is None:
            await client.aclose()
    refused = [r for r in replies if r.outcome == "refused"]
    async with sessionmaker() as session, session.begin():
        state = await locked_state(session)
        stored = set(
            (
                await session.execute(select(Cosignature.witness).where(Cosignature.head_id == head.id))
            ).scalars()
        )
        for reply in replies:
            if (
                reply.outcome == "cosigned"
                and reply.witness not in stored
                and reply.line
                and reply.timestamp is not None
            ):
                session.add(
                    Cosignature(
                        head_id=head.id, witness=reply.witness, line=reply.line, cosigned_at=reply.timestamp
                    )
                )
                stored.add(reply.witness)
        outcome.cosigned_by = sorted(stored)
        outcome.quorum_met = len(stored) >= head.witness_quorum
        for reply in refused:
            await raise_critical(
                session,
                "audit_witness_refused",
                f"Witness {reply.witness} refused checkpoint {head.tree_size}: {reply.detail}",
                {"witness": reply.witness, "tree_size": head.tree_size, "detail": reply.detail},
                ("witness", reply.witness[:40]),
            )
        if outcome.quorum_met and state.halted_kind == "witness_refused":
            await clear_halt(session, state)
            outcome.resumed = True
    if refused and not outcome.quorum_met:
        raise LogInconsistent(
            "witness_refused",
            f"the checkpoint of size {head.tree_size} lacks its quorum of witnesses: "
            + "; ".join(f"{r.witness}: {r.detail}" for r in refused),
        )
