"""Running background jobs from a test: one job now, or everything queued, through the
backend's real queue (procrastinate on PostgreSQL, the embedded runner on SQLite)."""

from __future__ import annotations

from typing import Any

from market import all_jobs
from market.jobs.registry import Job
from market.jobs.runner import run_queued


async def run(app: Any, job: Job, **arguments: Any) -> int:
    """The job's function, as a worker calls it."""
    return await job(app.state.runtime, **arguments)


async def drain(app: Any) -> None:
    """Every job enqueued so far (and those they enqueue, when due now), to the end."""
    await run_queued(app.state.runtime, all_jobs.jobs())


def app_of(client: Any) -> Any:
    """The app behind a test client (an httpx.ASGITransport)."""
    return client._transport.app
