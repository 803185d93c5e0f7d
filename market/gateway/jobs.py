"""The gateway's usage by day, summarised into the audit log once each day is over."""

from __future__ import annotations

from market.common.clock import now
from market.gateway import service
from market.jobs import job
from market.runtime import Runtime

BATCH = 500


@job("gateway.summarise_usage", schedule="7 * * * *")
async def summarise_usage(runtime: Runtime) -> int:
    """One audit entry per licence and finished day (UTC); returns how many were written."""
    written = 0
    while True:
        async with runtime.sessionmaker() as session, session.begin():
            days = await service.summarise_usage(session, before=now().date(), limit=BATCH)
        written += len(days)
        if len(days) < BATCH:
            return written
