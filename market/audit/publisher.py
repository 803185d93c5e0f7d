"""The one publisher: sequence, sign a checkpoint, mirror tiles, gather witness cosignatures.

`publish` is a plain async function, safe to run at the same time from several processes: each
step that changes the log runs in a transaction that first locks the log state row (as
Tessera's `publishCheckpoint` locks its checkpoint row), and a checkpoint is signed only when
the last one is older than the interval (`MARKET_AUDIT_HEAD_INTERVAL_SECONDS`), so the
replicas that lose the race simply skip. Talking to the blob store and to witnesses happens
after those transactions commit: nothing waits on a third party while holding a lock.
Reading endpoints never call it; they only read what it wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from market.audit import checkpoints, mirror
from market.audit.consistency import LogInconsistent, clear_halt, locked_state, record_halt
from market.audit.macs import entry_keyring
from market.audit.sequencer import BATCH, reconcile, sequence
from market.audit.tree_models import LogState, TreeHead
from market.audit.witnesses import gather_cosignatures
from market.common.clock import now
from market.settings import Settings
from market.storage import BlobStore

MAX_BATCHES = 40  # per round, so one round never holds the publisher for long


@dataclass
class PublishOutcome:
    sequenced: int = 0
    quarantined: list[int] = field(default_factory=list)
    tree_size: int = 0
    checkpoint_size: int | None = None  # a checkpoint signed in this round
    skipped: str | None = None  # why no checkpoint was signed
    cosigned_by: list[str] = field(default_factory=list)
    quorum_met: bool | None = None  # None: no witnesses configured
    resumed: bool = False
    finding: LogInconsistent | None = None

    @property
    def consistent(self) -> bool:
        return self.finding is None


async def sequence_all(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, outcome: PublishOutcome
) -> bool:
    """Reconcile and sequence what is committed, in batches (one transaction each, holding the
    state row); False while a witness refusal holds the log."""
    keys = entry_keyring(settings)
    for _ in range(MAX_BATCHES):
        async with sessionmaker() as session, session.begin():
            state = await locked_state(session)
            edge = await reconcile(session, state)
            if state.halted_kind == "witness_refused":
                outcome.tree_size = state.tree_size
                return False  # only the witnesses accepting our checkpoint again clears it
            if state.halted_kind is not None:
                await clear_halt(session, state)
                outcome.resumed = True
            done = await sequence(session, state, edge, keys)
            outcome.sequenced += done.count
            outcome.quarantined += done.quarantined
            outcome.tree_size = state.tree_size
        if done.count < BATCH and not done.quarantined:
            break
    return True


async def _sign_if_due(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, outcome: PublishOutcome, force: bool
) -> None:
    interval = timedelta(seconds=settings.audit_head_interval_seconds)
    async with sessionmaker() as session, session.begin():
        state = await locked_state(session)
        latest = await checkpoints.latest_head(session)
        if latest is not None and latest.tree_size == state.tree_size and latest.note is not None:
            cosigned = len(await checkpoints.cosignatures(session, latest.id))
            if cosigned >= latest.witness_quorum:
                outcome.skipped = "the tree has not grown since the last checkpoint"
                return
            # Without its quorum (a witness was down), it is signed afresh once the interval
            # passed, and offered to the witnesses again.
        # A last checkpoint ahead of this process's clock (another process's clock runs ahead)
        # does not hold signing back.
        since = None if state.checkpointed_at is None else now() - state.checkpointed_at
        if not force and since is not None and timedelta(0) <= since < interval:
            outcome.skipped = "the last checkpoint is more recent than the interval"
            return
        await reconcile(session, state)  # another replica may have moved the tree since
        await checkpoints.check_unsigned(
            session, entry_keyring(settings), state, latest.tree_size if latest else 0
        )
        session.add(checkpoints.sign(settings, state))
        state.checkpointed_at = now()
        outcome.checkpoint_size = state.tree_size


async def _mirror(sessionmaker: async_sessionmaker[AsyncSession], store: BlobStore, head: TreeHead) -> None:
    async with sessionmaker() as session:
        published = int(await session.scalar(select(LogState.published_size)) or 0)
    if head.tree_size > published:
        await mirror.upload_tiles(sessionmaker, store, published, head.tree_size)
        async with sessionmaker() as session, session.begin():
            state = await locked_state(session)
            state.published_size = max(state.published_size, head.tree_size)


async def publish(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: BlobStore,
    *,
    force: bool = False,
    http: httpx.AsyncClient | None = None,
) -> PublishOutcome:
    """One round: sequence what is committed, sign a checkpoint if one is due (`force`: even if
    the interval has not passed), write its tiles to the store, have witnesses cosign it and
    publish it. What cannot be reconciled stops the log (see `market.audit.consistency`)."""
    outcome = PublishOutcome()
    try:
        held_by_witnesses = not await sequence_all(sessionmaker, settings, outcome)
        if not held_by_witnesses:
            await _sign_if_due(sessionmaker, settings, outcome, force)
        async with sessionmaker() as session:
            head = await checkpoints.latest_head(session)
        if head is None or head.note is None:
            return outcome
        await _mirror(sessionmaker, store, head)
        # A new checkpoint goes to the witnesses and then out; a stopped log offers its last
        # one again (only the witnesses accepting it can clear that stop). Otherwise nothing.
        if outcome.checkpoint_size is None and not held_by_witnesses:
            return outcome
        await gather_cosignatures(sessionmaker, settings, head, outcome, http)
        async with sessionmaker() as session:
            latest = await checkpoints.latest_head(session)
            if latest is not None and latest.id == head.id:
                await mirror.upload_checkpoint(
                    store, checkpoints.served_note(head, await checkpoints.cosignatures(session, head.id))
                )
    except LogInconsistent as finding:
        outcome.finding = finding
        async with sessionmaker() as session, session.begin():
            await record_halt(session, await locked_state(session), finding)
    return outcome
