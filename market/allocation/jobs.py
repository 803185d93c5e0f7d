"""Draws whose window has closed are revealed by the worker (an operator may reveal earlier)."""

from __future__ import annotations

from market.allocation import service
from market.jobs import job
from market.runtime import Runtime


@job("allocation.reveal_due", schedule="* * * * *")
async def reveal_due(runtime: Runtime) -> int:
    async with runtime.sessionmaker() as session, session.begin():
        return await service.reveal_due(session)
