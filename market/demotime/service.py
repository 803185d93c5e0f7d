"""Moving the business clock forward for a demonstration, and running what became due.

Publicity (Regulation Art. 62) lasts ten working days; a newcomer trying the exchange cannot
wait that long, and editing the database would teach the wrong thing. In embedded mode an
operator moves business time forward instead: the move is audited, kept in the data directory
(so the server and every `market` command agree), and followed at once by the periodic jobs
that act on business time (publicity ending, quotes expiring, deadlines), as the embedded
runner would run them at their next minute. Production keeps real time: refused there.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.common import clock
from market.errors import Forbidden, InvalidInput
from market.jobs.registry import registered
from market.runtime import Runtime
from market.settings import Settings

log = logging.getLogger("market.demotime")

MAX_STEP = timedelta(days=366)
_DURATION = re.compile(r"(\d+)([wdhm])")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
# Periodic jobs not run after a move: the log's publisher keeps its own shift and loops until the
# process stops, and webhook delivery runs on the wall clock in the server's own runner.
NOT_AFTER_A_MOVE = frozenset({"audit.publish_checkpoint", "notifications.deliver"})


class DemoTimeRefused(Forbidden):
    code = "demo-time-refused"


def parse_duration(text: str) -> timedelta:
    """`10d`, `2w`, `36h`, `1d12h`, `90m`: ValueError with the reason otherwise."""
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"{text!r} is not a duration: say e.g. 10d, 2w, 36h or 1d12h (w, d, h, m)")
    delta = timedelta()
    for number, unit in parts:
        delta += timedelta(**{_UNITS[unit]: int(number)})
    return delta


def refuse_outside_demo(settings: Settings) -> None:
    if settings.mode == "production":
        raise DemoTimeRefused(
            "the business clock moves only in embedded (demo) mode; production keeps real time"
        )


def step(by: str | None, until: datetime | None, *, field_prefix: str = "body") -> timedelta:
    """The move asked for, checked: forward only, at most a year at a time."""
    if (by is None) == (until is None):
        raise InvalidInput(
            "say how far to move business time: by (e.g. 10d) or until (an instant)",
            fields=[(f"{field_prefix}.by", "give exactly one of by and until")],
        )
    if by is not None:
        where = f"{field_prefix}.by"
        try:
            delta = parse_duration(by)
        except ValueError as exc:
            raise InvalidInput(str(exc), fields=[(where, str(exc))]) from None
    else:
        assert until is not None
        where = f"{field_prefix}.until"
        if until.tzinfo is None:
            raise InvalidInput(
                "until needs a time zone", fields=[(where, "add a time zone, e.g. +08:00 or Z")]
            )
        delta = until - clock.now()
    if delta <= timedelta(0):
        raise InvalidInput(
            "business time only moves forward", fields=[(where, f"business time is already {clock.now()}")]
        )
    if delta > MAX_STEP:
        raise InvalidInput("at most a year at a time", fields=[(where, "more than 366 days")])
    return delta


async def advance(session: AsyncSession, settings: Settings, actor: str, delta: timedelta) -> timedelta:
    """Move business time by `delta` in this transaction's audit log and in the data directory."""
    refuse_outside_demo(settings)
    before = clock.now()
    await record(
        session,
        actor=actor,
        action="clock.advanced",
        subject_type="clock",
        subject_id="business-time",
        payload={
            "by_seconds": int(delta.total_seconds()),
            "from": before.isoformat(),
            "to": (before + delta).isoformat(),
        },
    )
    # Stored last, once the audit entry is written in the caller's transaction.
    clock.store_advance(delta)
    return clock.total_offset()


async def run_due_jobs(runtime: Runtime) -> tuple[dict[str, int], list[str]]:
    """Each periodic job that acts on business time, once, now (each is idempotent and safe
    beside the server's own runner)."""
    done: dict[str, int] = {}
    failed: list[str] = []
    for job in registered():
        if job.cron(runtime.settings) is None or job.name in NOT_AFTER_A_MOVE:
            continue
        try:
            done[job.name] = await job(runtime)
        except Exception:
            log.exception("job %s failed after the business clock moved", job.name)
            failed.append(job.name)
    return done, failed
