"""Which runner a process uses: procrastinate on PostgreSQL, the embedded runner on SQLite."""

from __future__ import annotations

from collections.abc import Iterable

from market.jobs.embedded import EmbeddedRunner
from market.jobs.registry import Job
from market.runtime import Runtime


def uses_procrastinate(runtime: Runtime) -> bool:
    return runtime.settings.effective_database_url.startswith("postgresql")


async def run_queued(runtime: Runtime, jobs: Iterable[Job]) -> None:
    """Run every job enqueued so far, to the end, through the backend's real queue (tests)."""
    if uses_procrastinate(runtime):
        from market.jobs.worker import drain

        await drain(runtime, jobs)
    else:
        await EmbeddedRunner(runtime, jobs).drain()
