"""The queue cleans up after itself: finished jobs are kept a week for inspection, then deleted
(procrastinate's `procrastinate_jobs` on PostgreSQL, `embedded_jobs` on SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, text

from market.jobs.models import EmbeddedJob
from market.jobs.registry import job
from market.runtime import Runtime

KEEP_FINISHED = timedelta(days=7)


@job("jobs.purge_finished", schedule="17 3 * * *")
async def purge_finished_jobs(runtime: Runtime) -> int:
    cutoff = datetime.now(UTC) - KEEP_FINISHED
    async with runtime.sessionmaker() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            # The finished jobs whose last event is older than the cutoff (their events go too).
            result = await session.execute(
                text(
                    "DELETE FROM procrastinate_jobs j WHERE j.status IN ('succeeded', 'failed', "
                    "'cancelled', 'aborted') AND NOT EXISTS (SELECT 1 FROM procrastinate_events e "
                    "WHERE e.job_id = j.id AND e.at >= :cutoff)"
                ),
                {"cutoff": cutoff},
            )
        else:
            result = await session.execute(
                delete(EmbeddedJob).where(
                    EmbeddedJob.status.in_(("succeeded", "failed")), EmbeddedJob.finished_at < cutoff
                )
            )
    return int(getattr(result, "rowcount", 0) or 0)
