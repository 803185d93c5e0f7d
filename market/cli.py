"""`market` command line: serve, db upgrade, demo, create-staff, registry/audit verification."""

from __future__ import annotations

import asyncio
import gc
import getpass
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from market.audit.cli import audit_app
from market.cli_support import (
    ConfigurationError,
    configuration_failure,
    fail,
    first_line,
    load_settings,
    require_database,
    require_public_key,
)
from market.home import sqlite_file
from market.registry.cli import registry_app
from market.settings import Settings
from market.witness.cli import witness_app

if TYPE_CHECKING:
    from fastapi import FastAPI

    from market.jobs.registry import Job
    from market.runtime import Runtime

app = typer.Typer(help="Jilin data exchange backend.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(registry_app, name="registry")
app.add_typer(audit_app, name="audit")
app.add_typer(witness_app, name="witness")
clock_app = typer.Typer(
    help="Demo time: move the business clock forward (embedded mode only).", no_args_is_help=True
)
app.add_typer(clock_app, name="clock")


@db_app.command("upgrade")
def db_upgrade(revision: str = "heads") -> None:
    """Apply Alembic migrations to MARKET_DATABASE_URL (default: the SQLite file in MARKET_HOME),
    then create the first operator if MARKET_BOOTSTRAP_OPERATOR_EMAIL names one not there yet
    (the one-shot set-up step of a deployment with several replicas)."""
    settings = load_settings()
    _upgrade(settings, revision)
    _bootstrap(settings)


def _bootstrap(settings: Settings) -> None:
    from market.bootstrap import bootstrap_operator

    try:
        bootstrapped = asyncio.run(bootstrap_operator(settings))
    except ConfigurationError as exc:
        configuration_failure(exc)
    if bootstrapped:
        typer.echo(bootstrapped)


def _upgrade(settings: Settings, revision: str = "heads") -> None:
    from market.db.migrate import upgrade

    database_file = sqlite_file(settings.effective_database_url)
    try:
        if database_file is not None:
            database_file.parent.mkdir(parents=True, exist_ok=True)
        upgrade(settings.effective_database_url, revision)
    except (OSError, SQLAlchemyError) as exc:
        fail(f"cannot upgrade the database at {_shown(settings)}: {first_line(exc)}")
    typer.echo(f"database at {_shown(settings)} upgraded to {revision}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(envvar="MARKET_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="MARKET_PORT")] = 8000,
    migrate: Annotated[bool, typer.Option(help="Apply migrations first.")] = True,
    seed: Annotated[bool, typer.Option(help="Seed demo participants and products if empty.")] = True,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            envvar="MARKET_WORKERS",
            help="Server processes sharing the port (about one per core).",
        ),
    ] = 1,
) -> None:
    """Serve the HTTP API (embedded default: SQLite file in MARKET_HOME, migrated, demo data).

    Creates the first operator from MARKET_BOOTSTRAP_OPERATOR_EMAIL and
    MARKET_BOOTSTRAP_OPERATOR_PASSWORD_FILE when that user does not exist yet.
    """
    import uvicorn

    from market.app import create_app
    from market.logs import configure_logging

    settings = load_settings()
    # Before the migrations, so their log lines come out in the service's format too.
    configure_logging(settings.log_json, production=settings.mode == "production")
    _start_clock(settings)
    if migrate:
        _upgrade(settings)
    else:
        require_database(settings)
    typer.echo(f"data directory (MARKET_HOME): {settings.home}")
    settings.exchange_signing_key()  # generated now (embedded), so `market public-key` finds it
    _bootstrap(settings)
    if seed and settings.mode != "production":
        from market.demo.seed import seed_demo_data

        created = asyncio.run(seed_demo_data(settings))
        if created:
            typer.echo("seeded demo data; log in with the accounts printed below:")
            for line in created:
                typer.echo(f"  {line}")
        else:
            from market.demo.seed import demo_accounts

            typer.echo("demo accounts (seeded on the first start; see README.md):")
            for line in demo_accounts():
                typer.echo(f"  {line}")
    typer.echo(f"API docs: http://{host}:{port}/docs  (OpenAPI: http://{host}:{port}/openapi.json)")
    # Forwarded headers count only from MARKET_TRUSTED_PROXIES, judged in one place
    # (market.common.iris), so uvicorn's own reading of them is off.
    if workers == 1:
        app = create_app(settings)
        _freeze_what_lives_forever()
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, proxy_headers=False)
        return
    # Each worker process builds its own app (and engine, pool) from the same environment.
    uvicorn.run(
        "market.cli:worker_app",
        factory=True,
        workers=workers,
        # A worker importing the app on a busy machine answers the supervisor's ping late; the
        # 5 s default had it killed and restarted over and over before it ever served.
        timeout_worker_healthcheck=60,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )


def worker_app() -> FastAPI:
    """The app of one `market serve --workers N` process (uvicorn imports it by name)."""
    from market.app import create_app
    from market.common import clock

    settings = load_settings()
    if settings.clock_offset:
        clock.advance(settings.clock_offset)
    app = create_app(settings)
    _freeze_what_lives_forever()
    return app


# Container allocations between two young-generation collections (Python's default is 700).
# A purchase allocates tens of thousands of short-lived objects, almost all freed by reference
# counting at once: collecting every 700 walked the survivors over and over and promoted them
# to the older generations, whose passes are dearer still. Measured under bench_purchase's
# prepaid load: 0.48 ms of the collector's CPU per purchase at 700, 0.17 ms at 10,000; the
# memory held meanwhile is a few megabytes (issue 21).
YOUNG_COLLECTION_THRESHOLD = 10_000


def _freeze_what_lives_forever() -> None:
    """What exists once the server's app is built (modules, mappers, routes, schemas) lives as
    long as the process: kept out of the garbage collector's passes, which otherwise walk all
    of it again and again under load; and the young generation is collected less often
    (YOUNG_COLLECTION_THRESHOLD) (issue 21)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, old)


def _start_clock(settings: Settings) -> None:
    """MARKET_CLOCK_OFFSET (tests only; refused in production) shifts this process's clock."""
    if settings.clock_offset:
        from market.common import clock

        clock.advance(settings.clock_offset)
        typer.echo(f"business clock shifted by {settings.clock_offset} (MARKET_CLOCK_OFFSET, tests only)")


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Jobs run side by side.")] = 4,
    name: Annotated[str, typer.Option(help="This worker's name in logs.")] = "",
) -> None:
    """Run background jobs until SIGTERM: procrastinate on PostgreSQL (run as many workers as
    you like), the in-process runner on SQLite. Apply migrations first (`market db upgrade`)."""
    import platform

    from market.app import build_runtime
    from market.db.session import make_engine
    from market.jobs.runner import uses_procrastinate
    from market.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_json, production=settings.mode == "production")
    require_database(settings)
    _start_clock(settings)
    from market import all_jobs

    async def _run() -> None:
        engine = make_engine(settings.effective_database_url)
        runtime = build_runtime(settings, engine)
        try:
            if uses_procrastinate(runtime):
                from market.jobs.worker import run_worker

                label = name or f"{platform.node()}:{os.getpid()}"
                await run_worker(runtime, all_jobs.jobs(), concurrency=concurrency, name=label)
            else:
                await _run_embedded(runtime, all_jobs.jobs())
        finally:
            await engine.dispose()

    asyncio.run(_run())


async def _run_embedded(runtime: Runtime, jobs: list[Job]) -> None:
    import signal

    from market.jobs.embedded import EmbeddedRunner

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = EmbeddedRunner(runtime, jobs)
    runner.start()
    await stop.wait()
    await runner.stop()


@app.command("create-staff")
def create_staff(
    email: str,
    role: Annotated[str, typer.Option(help="operator | auditor | price_authority")],
    display_name: str = "",
    password: Annotated[str, typer.Option(envvar="MARKET_STAFF_PASSWORD", help="Prompted if unset.")] = "",
) -> None:
    """Create an exchange staff user (operator, auditor or price authority)."""
    from market.audit.macs import session_info
    from market.db.session import make_engine, make_sessionmaker
    from market.errors import MarketError
    from market.participants.schemas import StaffCreate
    from market.participants.service import create_staff as create

    settings = load_settings()
    url = require_database(settings)
    secret = password or getpass.getpass("password (12+ characters): ")
    try:
        data = StaffCreate(email=email, password=secret, display_name=display_name or email, role=role)
    except ValidationError as exc:
        fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))

    async def _run() -> str:
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine, session_info(settings))() as session, session.begin():
                user = await create(session, data, actor="cli")
                return str(user.id)
        finally:
            await engine.dispose()

    try:
        created = asyncio.run(_run())
    except MarketError as exc:
        fail(f"{email}: {exc.message}")
    typer.echo(f"created {role} {email} ({created})")


@app.command()
def demo(
    base_url: Annotated[str, typer.Option(help="A running `market serve`.")] = "http://127.0.0.1:8000",
    seller: Annotated[
        bool,
        typer.Option(
            "--seller",
            help="Play the seller's whole path instead: sample, registration, review, publicity "
            "(demo time moves past it), operating right, product, listing.",
        ),
    ] = False,
) -> None:
    """Run a scripted seller → buyer → operator flow against a running service and narrate it."""
    if seller:
        from market.demo.seller import run_seller_demo

        raise typer.Exit(run_seller_demo(base_url))
    from market.demo.script import run_demo

    raise typer.Exit(run_demo(base_url))


@clock_app.command("advance")
def clock_advance(
    by: Annotated[str, typer.Argument(help="How far: 10d, 2w, 36h, 1d12h (w, d, h, m).")],
) -> None:
    """Move business time forward (audited), then run the jobs that became due, e.g. the end of
    a registration's publicity. Embedded mode only; the running server sees it at once."""
    from market.demotime import service
    from market.errors import MarketError

    settings = load_settings()
    if settings.mode == "production":
        fail("the business clock moves only in embedded (demo) mode; production keeps real time")
    url = require_database(settings)
    try:
        delta = service.step(by, None, field_prefix="argument")
    except MarketError as exc:
        fail("; ".join(reason for _, reason in exc.fields) or exc.message)

    async def _run() -> tuple[dict[str, int], list[str]]:
        from market import all_jobs  # noqa: F401  (every job registered)
        from market.app import build_runtime
        from market.db.session import make_engine

        engine = make_engine(url)
        try:
            runtime = build_runtime(settings, engine)
            async with runtime.sessionmaker() as session, session.begin():
                await service.advance(session, settings, "cli", delta)
            return await service.run_due_jobs(runtime)
        finally:
            await engine.dispose()

    done, failed = asyncio.run(_run())
    _clock_show()
    for name, count in done.items():
        if count:
            typer.echo(f"  {name}: {count}")
    if failed:
        fail(f"jobs failed (see the log): {', '.join(failed)}")


@clock_app.command("show")
def clock_show() -> None:
    """Print business time and how far it is ahead of the wall clock."""
    load_settings()
    _clock_show()


def _clock_show() -> None:
    from market.common import clock

    offset = clock.total_offset()
    typer.echo(
        f"business time {clock.now().isoformat(timespec='seconds')} (ahead of the wall clock by {offset})"
    )


@app.command("public-key")
def public_key() -> None:
    """Print the exchange's Ed25519 public key (base64), for offline verification."""
    typer.echo(require_public_key(load_settings()))


@app.command("credit-code")
def credit_code(
    code: Annotated[str | None, typer.Argument(help="A code to check.")] = None,
    example: Annotated[bool, typer.Option("--example", help="Print valid test codes.")] = False,
    count: Annotated[int, typer.Option(min=1, max=1000, help="How many --example codes.")] = 1,
) -> None:
    """Check a unified social credit code, or print valid test codes (none of them the demo data's)."""
    from market.demo.seed import DEMO_CREDIT_CODES
    from market.participants.credit_code import credit_code_problems, example_credit_codes

    if example:
        for made in example_credit_codes(count, avoid=DEMO_CREDIT_CODES):
            typer.echo(made)
        return
    if code is None:
        fail("name a code to check, or say --example for valid test codes: `market credit-code --example`")
    problems = credit_code_problems(code.strip().upper())
    if not problems:
        typer.echo(f"{code}: valid (GB 32100-2015)")
        return
    for problem in problems:
        typer.echo(f"{code}: {problem.reason}", err=True)
    raise typer.Exit(1)


def _shown(settings: Settings) -> str:
    return make_url(settings.effective_database_url).render_as_string(hide_password=True)


def _print_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    app()
