"""The job queue on PostgreSQL: procrastinate, fed from the same registry as the embedded runner.

`build_app` turns every registered job into a procrastinate task (periodic ones with their cron,
a `lock` so that one runs at a time across workers, a `queueing_lock` so that a slow periodic job
does not pile up, and a retry strategy with exponential backoff), and adds one periodic task of
its own: jobs whose worker stopped sending heartbeats (killed, lost its machine) are put back in
the queue, so another worker runs them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

import procrastinate
from procrastinate import signals
from sqlalchemy.engine import make_url

from market.jobs.registry import Job, every
from market.runtime import Runtime
from market.settings import Settings

log = logging.getLogger("market.jobs")

RETRY_STALLED = "jobs.retry_stalled"


def conninfo(database_url: str) -> str:
    """The libpq URL of our SQLAlchemy URL (procrastinate talks to PostgreSQL through psycopg)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _task_body(runtime: Runtime, job: Job) -> Any:
    async def run(**arguments: Any) -> int:
        arguments.pop("timestamp", None)  # procrastinate's periodic tick; our jobs read the clock
        done = await job(runtime, **arguments)
        if done:
            log.info("job %s did %d", job.name, done)
        return done

    run.__name__ = job.name.replace(".", "_")
    return run


def build_app(
    runtime: Runtime, jobs: Iterable[Job], *, periodic: bool = True, pool_size: int = 4
) -> procrastinate.App:
    settings = runtime.settings
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=conninfo(settings.effective_database_url), min_size=1, max_size=pool_size
        )
    )
    for job in jobs:
        cron = job.cron(settings) if periodic else None
        task = app.task(
            name=job.name,
            lock=job.lock,
            queueing_lock=job.name if cron else None,
            retry=procrastinate.RetryStrategy(
                max_attempts=job.retry.max_attempts,
                exponential_wait=job.retry.backoff_base_seconds,
            ),
        )(_task_body(runtime, job))
        if cron:
            app.periodic(cron=cron)(task)
    if periodic:
        _retry_stalled_jobs(app, settings)
    return app


def _retry_stalled_jobs(app: procrastinate.App, settings: Settings) -> None:
    stalled_after = settings.worker_stalled_after_seconds

    async def retry_stalled(timestamp: int) -> int:
        stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after))
        for stuck in stalled:
            try:
                await app.job_manager.retry_job(stuck)
                log.warning("job %s #%s stalled on a dead worker: retrying it", stuck.task_name, stuck.id)
            except procrastinate.exceptions.UniqueViolation:
                # A periodic job whose next run is already waiting (the same queueing lock): that
                # run does the work; this one is closed so that its lock frees the way.
                log.warning(
                    "job %s #%s stalled on a dead worker: its next run takes over", stuck.task_name, stuck.id
                )
                await app.job_manager.finish_job(stuck, procrastinate.jobs.Status.FAILED, delete_job=False)
        return len(stalled)

    cron = every(max(1, int(stalled_after // 2))) or "* * * * *"
    task = app.task(name=RETRY_STALLED, lock=RETRY_STALLED, queueing_lock=RETRY_STALLED)(retry_stalled)
    app.periodic(cron=settings.job_schedules.get(RETRY_STALLED, cron))(task)


async def schema_applied(app: procrastinate.App) -> bool:
    row = await app.connector.execute_query_one_async(
        "SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS applied"
    )
    return bool(row["applied"])


async def run_worker(runtime: Runtime, jobs: Iterable[Job], *, concurrency: int, name: str | None) -> None:
    """Work until SIGINT/SIGTERM (a graceful stop: running jobs finish first, and long-running
    ones are told through `runtime.stopping`; a second signal stops at once)."""
    settings = runtime.settings
    app = build_app(runtime, jobs, pool_size=concurrency + 3)
    async with app.open_async():
        if not await schema_applied(app):
            raise SystemExit("the job queue's tables are missing: run `market db upgrade` first")
        work = asyncio.create_task(
            app.run_worker_async(
                concurrency=concurrency,
                name=name or "worker",
                update_heartbeat_interval=settings.worker_heartbeat_seconds,
                stalled_worker_timeout=settings.worker_stalled_after_seconds,
                shutdown_graceful_timeout=settings.worker_shutdown_grace_seconds,
                install_signal_handlers=False,
            )
        )

        def stop() -> None:
            runtime.stopping.set()
            work.cancel()  # procrastinate's graceful stop, as its own signal handler does

        with signals.on_stop(stop):
            try:
                await work
            except asyncio.CancelledError:
                if not runtime.stopping.is_set():
                    raise


async def drain(runtime: Runtime, jobs: Iterable[Job]) -> None:
    """Run every job queued now, then return (tests; no periodic jobs)."""
    app = build_app(runtime, jobs, periodic=False, pool_size=2)
    async with app.open_async():
        await app.run_worker_async(wait=False, listen_notify=False, install_signal_handlers=False)
