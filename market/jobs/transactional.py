"""Enqueue a job from a use case, in the use case's own transaction: the job exists if and only
if the change that asked for it commits. A rolled-back request enqueues nothing, and a
committed one cannot lose its job to a crash between commit and send.

On PostgreSQL the job row is written into procrastinate's table through our session, with the
same SQL function procrastinate's own `defer` calls (`procrastinate_defer_jobs_v1`); its
insert trigger NOTIFYs the workers when the transaction commits. On SQLite it is a row of
`embedded_jobs`, run by the in-process runner, which is woken when the session commits.

No queueing lock is set here: a second transaction inserting the same queueing lock would wait
for the first one's commit (a unique index), so requests would queue behind each other.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session as SyncSession

from market.db import together
from market.db.pending import Deferred
from market.jobs.models import EmbeddedJob
from market.jobs.registry import Job

QUEUE = "default"

# Set when a session that enqueued an embedded job commits: the in-process runner wakes at once
# instead of at its next poll.
embedded_wakeup = asyncio.Event()


def _wake(_session: Any) -> None:
    embedded_wakeup.set()


def _defer_all(session: SyncSession, jobs: list[dict[str, Any]]) -> None:
    """Every job the transaction enqueued, in one statement: one call of procrastinate's defer
    function with an array of them (PostgreSQL), or one multi-row INSERT (SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        embedded = [
            {
                "task_name": job["task_name"],
                "args": job["args"],
                "lock": job["lock"],
                "status": "todo",
                "attempts": 0,
                "scheduled_at": job["scheduled_at"] or datetime.now(UTC),
            }
            for job in jobs
        ]
        session.execute(insert(EmbeddedJob), embedded)
        return
    rows = ", ".join(
        f"ROW(:queue{n}, :task_name{n}, 0, CAST(:lock{n} AS text), CAST(NULL AS text), "
        f"CAST(:args{n} AS jsonb), CAST(:scheduled_at{n} AS timestamptz))::procrastinate_job_to_defer_v1"
        for n in range(len(jobs))
    )
    values = {
        f"{name}{n}": json.dumps(value) if name == "args" else value
        for n, job in enumerate(jobs)
        for name, value in job.items()
    }
    session.execute(text(f"SELECT procrastinate_defer_jobs_v1(ARRAY[{rows}])"), values)


def _render_jobs(batch: together.Batch, jobs: list[dict[str, Any]]) -> None:
    """The jobs as a part of a flush's one statement (PostgreSQL; see `_defer_all`)."""
    bind = batch.params.bind
    rows = ", ".join(
        f"ROW({bind(job['queue'])}, {bind(job['task_name'])}, 0, CAST({bind(job['lock'])} AS text), "
        f"CAST(NULL AS text), CAST({bind(json.dumps(job['args']))} AS jsonb), "
        f"CAST({bind(job['scheduled_at'])} AS timestamptz))::procrastinate_job_to_defer_v1"
        for job in jobs
    )
    # Counted, so the statement's result refers to it: a SELECT in a WITH runs only if it is read.
    batch.parts.append(together.Part(f"SELECT procrastinate_defer_jobs_v1(ARRAY[{rows}])", counted=True))


_JOBS = Deferred("jobs", _defer_all, _render_jobs)


async def enqueue(
    session: AsyncSession, job: Job, *, delay: timedelta | None = None, **arguments: Any
) -> None:
    """Run `job(runtime, **arguments)` after this session commits (after `delay`, if given).
    Arguments must be JSON: ids as strings. The job is written with the session's next flush or
    its commit, with every other job of the transaction (one statement for all)."""
    json.dumps(arguments)  # fail here, in the caller, not in a worker later
    if delay and job.lock:
        # procrastinate runs a lock's jobs in order: a job waiting for its time would hold back
        # every later job of that lock until then.
        raise ValueError(f"{job.name} is exclusive: it cannot be enqueued for later")
    scheduled_at = datetime.now(UTC) + delay if delay else None
    _JOBS.record(
        session,
        {
            "queue": QUEUE,
            "task_name": job.name,
            "lock": job.lock,
            "args": arguments,
            "scheduled_at": scheduled_at,
        },
    )
    if session.get_bind().dialect.name != "postgresql" and not event.contains(
        session.sync_session, "after_commit", _wake
    ):
        event.listen(session.sync_session, "after_commit", _wake)
