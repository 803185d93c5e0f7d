"""The in-process runner of the embedded default (SQLite): the same jobs as the procrastinate
worker, on the same schedules, in the `market serve` process (or a `market worker` on SQLite).

Periodic jobs run when their cron says; enqueued jobs are rows of `embedded_jobs`, claimed one
at a time by an atomic UPDATE (SQLite takes its write lock at BEGIN), retried with exponential
backoff when they raise, and failed after their last attempt. A job left `doing` by a process
that died is put back after `stalled_after` seconds. `stop()` lets running jobs finish (up to a
grace period), then cancels and awaits them: nothing is left running when the app shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from croniter import croniter
from sqlalchemy import select, update

from market.jobs import transactional
from market.jobs.models import EmbeddedJob
from market.jobs.registry import Job, find
from market.runtime import Runtime

log = logging.getLogger("market.jobs")


def wall_now() -> datetime:
    return datetime.now(UTC)


class EmbeddedRunner:
    def __init__(
        self,
        runtime: Runtime,
        jobs: Iterable[Job],
        *,
        poll_seconds: float = 1.0,
        grace_seconds: float = 10.0,
    ) -> None:
        self.runtime = runtime
        self.jobs = list(jobs)
        self.poll_seconds = poll_seconds
        self.grace_seconds = grace_seconds
        self.stalled_after = timedelta(seconds=runtime.settings.worker_stalled_after_seconds)
        self._stop = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._busy_locks: set[str] = set()
        self._running_ids: set[int] = set()
        self._next_run: dict[str, datetime] = {}
        self._loop_task: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self.runtime.stopping.clear()
        self._loop_task = asyncio.create_task(self._loop(), name="embedded jobs")

    async def stop(self) -> None:
        self._stop.set()
        self.runtime.stopping.set()
        transactional.embedded_wakeup.set()
        if self._loop_task is not None:
            await self._loop_task
        if self._running:
            _done, pending = await asyncio.wait(self._running, timeout=self.grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _loop(self) -> None:
        now = wall_now()
        for job in self.jobs:
            cron = job.cron(self.runtime.settings)
            if cron:
                self._next_run[job.name] = croniter(cron, now).get_next(datetime)
        while not self._stop.is_set():
            try:
                await self.tick()
            except Exception:  # the database may be briefly unavailable: try again next tick
                log.exception("the embedded job runner's tick failed")
            transactional.embedded_wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(transactional.embedded_wakeup.wait(), self.poll_seconds)

    async def tick(self) -> None:
        now = wall_now()
        for job in self.jobs:
            due = self._next_run.get(job.name)
            if due is not None and due <= now:
                cron = job.cron(self.runtime.settings)
                assert cron is not None
                self._next_run[job.name] = croniter(cron, now).get_next(datetime)
                self._spawn(self._run_periodic(job))
        await self.requeue_stalled()
        while (claimed := await self.claim()) is not None:
            self._spawn(self._run_claimed(*claimed))

    def _spawn(self, coroutine: object) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coroutine)  # type: ignore[arg-type]
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run_periodic(self, job: Job) -> None:
        if job.lock and job.lock in self._busy_locks:
            return  # still running from the last tick: skip, as a queueing lock would
        if job.lock:
            self._busy_locks.add(job.lock)
        try:
            done = await job(self.runtime)
            if done:
                log.info("job %s did %d", job.name, done)
        except Exception:
            log.exception("periodic job %s failed; it runs again at its next time", job.name)
        finally:
            if job.lock:
                self._busy_locks.discard(job.lock)

    # -- the queue table -------------------------------------------------------------------
    async def claim(self) -> tuple[int, Job, dict[str, object]] | None:
        """Take the oldest due job whose lock is free, atomically (one UPDATE ... RETURNING)."""
        async with self.runtime.sessionmaker() as session, session.begin():
            due = (
                select(EmbeddedJob.id)
                .where(EmbeddedJob.status == "todo", EmbeddedJob.scheduled_at <= wall_now())
                .order_by(EmbeddedJob.id)
                .limit(1)
            )
            if self._busy_locks:
                due = due.where(
                    (EmbeddedJob.lock.is_(None)) | (EmbeddedJob.lock.not_in(sorted(self._busy_locks)))
                )
            stmt = (
                update(EmbeddedJob)
                .where(EmbeddedJob.id == due.scalar_subquery(), EmbeddedJob.status == "todo")
                .values(status="doing", attempts=EmbeddedJob.attempts + 1, started_at=wall_now())
                .returning(EmbeddedJob.id, EmbeddedJob.task_name, EmbeddedJob.args, EmbeddedJob.lock)
            )
            row = (await session.execute(stmt)).one_or_none()
        if row is None:
            return None
        job_id, name, args, lock = row
        self._running_ids.add(job_id)
        if lock:
            self._busy_locks.add(lock)
        try:
            job = find(name)
        except LookupError:
            await self._finish(job_id, "failed", f"no job is named {name!r} in this process")
            self._running_ids.discard(job_id)
            if lock:
                self._busy_locks.discard(lock)
            return None
        return job_id, job, dict(args or {})

    async def _run_claimed(self, job_id: int, job: Job, args: dict[str, object]) -> None:
        try:
            await job(self.runtime, **args)
        except Exception as error:
            await self._failed(job_id, job, error)
        else:
            await self._finish(job_id, "succeeded", None)
        finally:
            self._running_ids.discard(job_id)
            if job.lock:
                self._busy_locks.discard(job.lock)

    async def _finish(self, job_id: int, status: str, error: str | None) -> None:
        """Mark the job done; an earlier attempt's error stays on the row for inspection."""
        values: dict[str, object] = {"status": status, "finished_at": wall_now()}
        if error is not None:
            values["error"] = error
        async with self.runtime.sessionmaker() as session, session.begin():
            await session.execute(update(EmbeddedJob).where(EmbeddedJob.id == job_id).values(**values))

    async def _failed(self, job_id: int, job: Job, error: Exception) -> None:
        async with self.runtime.sessionmaker() as session, session.begin():
            row = await session.get(EmbeddedJob, job_id)
            assert row is not None
            if row.attempts < job.retry.max_attempts:
                delay = job.retry.delay_seconds(row.attempts - 1)
                row.status, row.scheduled_at = "todo", wall_now() + timedelta(seconds=delay)
                log.warning("job %s failed (%r); retried in %ds", job.name, error, delay)
            else:
                row.status, row.finished_at = "failed", wall_now()
                log.error("job %s failed for good after %d attempts: %r", job.name, row.attempts, error)
            row.error = repr(error)[:2000]

    async def requeue_stalled(self) -> int:
        """Jobs left `doing` by a process that died go back to the queue."""
        async with self.runtime.sessionmaker() as session, session.begin():
            result = await session.execute(
                update(EmbeddedJob)
                .where(
                    EmbeddedJob.status == "doing",
                    EmbeddedJob.started_at < wall_now() - self.stalled_after,
                    EmbeddedJob.id.not_in(sorted(self._running_ids) or [-1]),
                )
                .values(status="todo")
            )
            return int(getattr(result, "rowcount", 0) or 0)

    async def drain(self) -> int:
        """Run every due enqueued job to the end, now (tests, and `market worker --once`)."""
        ran = 0
        while (claimed := await self.claim()) is not None:
            await self._run_claimed(*claimed)
            ran += 1
        return ran
