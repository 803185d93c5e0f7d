"""Background jobs: one registry (`job`), transactional enqueueing (`enqueue`), run by
procrastinate on PostgreSQL (`market worker`) and in-process on SQLite (`market serve`)."""

from market.jobs.registry import Job, Retry, every, job
from market.jobs.transactional import enqueue

__all__ = ["Job", "Retry", "enqueue", "every", "job"]
