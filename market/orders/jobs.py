"""Orders' background work: quotes expire; the abnormal-trade scans are in `scan_jobs`."""

from __future__ import annotations

from market.jobs import job
from market.orders import quotes
from market.orders.scan_jobs import scan_order, scan_refusals
from market.runtime import Runtime


@job("orders.expire_quotes", schedule="* * * * *")
async def expire_quotes(runtime: Runtime) -> int:
    """Open quotes past their expiry become expired (the QUOTES table allows open -> expired)."""
    expired = 0
    while True:
        async with runtime.sessionmaker() as session, session.begin():
            batch = await quotes.expire_due(session)
        expired += batch
        if batch < quotes.EXPIRY_BATCH:
            return expired


__all__ = ["expire_quotes", "scan_order", "scan_refusals"]
