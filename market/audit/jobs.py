"""The audit publisher as a job: sequence what writers committed, sign checkpoints, mirror the
tiles to the blob store and gather witness cosignatures (`market.audit.publisher.publish`).

The queue's schedules are cron-like (a second at best, and each run is a job row), while the
log's integration latency goal is under a second. So one run is a shift: it starts every
`MARKET_AUDIT_HEAD_INTERVAL_SECONDS`, runs a publisher round every
`MARKET_AUDIT_SEQUENCE_INTERVAL_SECONDS` until the next run is due, and signs a checkpoint
whenever the last one is older than the head interval. The job is exclusive (one shift at a
time on any worker, the embedded runner skips a run while one is still going), and the
publisher's own row lock makes overlapping rounds harmless anyway. A shift ends early when its
process begins to stop (`Runtime.stopping`), so shutting a worker down never waits for it.
With the head interval at 0 a run is a single round that signs whenever the tree grew (tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from market.audit.publisher import PublishOutcome, publish
from market.jobs import every, job
from market.runtime import Runtime
from market.storage import BLOB_STORE

log = logging.getLogger("market.audit")


async def publish_round(runtime: Runtime, *, force: bool = False) -> PublishOutcome:
    """One publisher round with this process's settings, store and sessions; a log it had to
    stop is said in the service log as well (the alert and the 503s say it to people)."""
    outcome = await publish(runtime.sessionmaker, runtime.settings, runtime.port(BLOB_STORE), force=force)
    if outcome.finding is not None:
        log.critical("the audit log is stopped: %s", outcome.finding)
    return outcome


@job("audit.publish_checkpoint", schedule=lambda settings: every(settings.audit_head_interval_seconds))
async def publish_checkpoint(runtime: Runtime) -> int:
    """Publisher rounds until the next run is due: how many checkpoints were signed."""
    settings = runtime.settings
    pause = settings.audit_sequence_interval_seconds
    shift_ends = time.monotonic() + settings.audit_head_interval_seconds - pause
    signed = 0
    while True:
        outcome = await publish_round(runtime)
        signed += outcome.checkpoint_size is not None
        if runtime.stopping.is_set() or time.monotonic() + pause > shift_ends:
            return signed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(runtime.stopping.wait(), pause)
