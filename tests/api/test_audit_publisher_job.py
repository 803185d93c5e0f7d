"""The publisher as the job runs it: checkpoints at most once per interval, and a run is a shift
of rounds that sequences what is written meanwhile and ends as soon as its process stops."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from market.audit.jobs import publish_checkpoint, publish_round
from market.audit.log import record
from market.audit.tree_models import LogState
from market.common import clock
from tests.api import runtime_swaps as swaps


async def write(app: Any, n: int, tag: str) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        for i in range(n):
            await record(
                session, actor="system", action="test.job", subject_type="test", subject_id=f"{tag}{i}"
            )


async def published_size(client: Any) -> int:
    return int((await client.get("/v1/audit/tree-head")).json()["tree_size"])


async def integrated(app: Any) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(LogState.tree_size)) or 0)


async def test_a_checkpoint_is_signed_at_most_once_per_interval(app: Any, client: Any) -> None:
    runtime = app.state.runtime
    with swaps.settings(app, audit_head_interval_seconds=10):
        await write(app, 2, "a")
        assert (await publish_round(runtime)).checkpoint_size == 2
        await write(app, 1, "b")
        soon = await publish_round(runtime)
        assert soon.sequenced == 1 and soon.checkpoint_size is None
        assert soon.skipped == "the last checkpoint is more recent than the interval"
        assert await published_size(client) == 2  # sequenced, not yet signed
        clock.advance(timedelta(seconds=11))
        assert (await publish_round(runtime)).checkpoint_size == 3
        assert (await publish_round(runtime)).skipped == "the tree has not grown since the last checkpoint"
    assert await published_size(client) == 3


async def test_a_run_sequences_until_its_shift_ends_and_stops_with_its_process(app: Any) -> None:
    runtime = app.state.runtime
    with swaps.settings(app, audit_head_interval_seconds=30, audit_sequence_interval_seconds=0.1):
        shift = asyncio.create_task(publish_checkpoint(runtime))
        try:
            await asyncio.sleep(0.3)
            await write(app, 3, "c")  # written while the shift runs
            deadline = time.monotonic() + 5
            while await integrated(app) < 3:
                assert time.monotonic() < deadline, "the shift did not sequence what was written"
                await asyncio.sleep(0.05)
            assert not shift.done()  # a 30 s shift is still going
            runtime.stopping.set()  # the process begins to stop: the shift ends at its next turn
            signed = await asyncio.wait_for(shift, 2)
        finally:
            runtime.stopping.clear()
            shift.cancel()
    assert signed == 1  # the first round signed (the empty log); the later ones waited for the interval
