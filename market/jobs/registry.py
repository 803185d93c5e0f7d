"""The one list of background jobs. A feature declares its jobs next to its code
(`market/registry/jobs.py`, ...) with `@job(...)`; the same functions then run on procrastinate
(PostgreSQL, `market worker`) and in-process (the embedded SQLite default, `market serve`).

A job is `async def name(runtime: Runtime, **arguments) -> int`, returning how many things it
did. It must be idempotent and safe to run in several processes at once (row locks, SKIP
LOCKED): a queue delivers at least once, and a worker killed mid-job has its job run again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from market.runtime import Runtime
from market.settings import Settings

JobFunction = Callable[..., Awaitable[int]]
Schedule = Callable[[Settings], "str | None"]


@dataclass(frozen=True)
class Retry:
    """How often a job that raised is tried again: after base**1, base**2, ... seconds."""

    max_attempts: int = 5
    backoff_base_seconds: int = 2

    def delay_seconds(self, attempts_so_far: int) -> int:
        return int(self.backoff_base_seconds ** (attempts_so_far + 1))


@dataclass(frozen=True)
class Job:
    name: str
    function: JobFunction
    # Cron (5 fields, or 6 with seconds last, as procrastinate and croniter read it), or a function
    # of the settings giving one; None: the job runs only when enqueued.
    schedule: str | Schedule | None = None
    retry: Retry = field(default_factory=Retry)
    # Jobs sharing a lock never run at the same time, on any worker (procrastinate `lock`).
    lock: str | None = None

    def cron(self, settings: Settings) -> str | None:
        """This process's schedule: MARKET_JOB_SCHEDULES may override the declared one."""
        if self.name in settings.job_schedules:
            return settings.job_schedules[self.name] or None
        return self.schedule(settings) if callable(self.schedule) else self.schedule

    async def __call__(self, runtime: Runtime, **arguments: Any) -> int:
        return await self.function(runtime, **arguments)


_JOBS: dict[str, Job] = {}


def job(
    name: str,
    *,
    schedule: str | Schedule | None = None,
    retry: Retry | None = None,
    exclusive: bool = True,
) -> Callable[[JobFunction], Job]:
    """Register `function` as the job `name`. `exclusive` (the default) runs it once at a time
    across all workers; a job about one subject (an order's scan) passes False."""

    def register(function: JobFunction) -> Job:
        if name in _JOBS and _JOBS[name].function is not function:
            raise ValueError(f"two jobs are named {name!r}")
        declared = Job(name, function, schedule, retry or Retry(), name if exclusive else None)
        _JOBS[name] = declared
        return declared

    return register


def registered() -> list[Job]:
    return sorted(_JOBS.values(), key=lambda j: j.name)


def find(name: str) -> Job:
    try:
        return _JOBS[name]
    except KeyError:
        raise LookupError(f"no job is named {name!r}") from None


def every(seconds: int) -> str | None:
    """A cron running every `seconds` (0: never): seconds below a minute use croniter's sixth
    field; longer periods round to whole minutes."""
    if seconds <= 0:
        return None
    if seconds < 60:
        return f"* * * * * */{seconds}"
    minutes = max(1, seconds // 60)
    return f"*/{minutes} * * * *" if minutes < 60 else f"0 */{max(1, minutes // 60)} * * *"
