"""After a Beijing year ends its revenue is closed and the excess carried forward (65号 四)."""

from __future__ import annotations

from market.jobs import job
from market.revenue_caps import service
from market.runtime import Runtime


@job("revenue_caps.close_years", schedule="15 * * * *")
async def close_years(runtime: Runtime) -> int:
    async with runtime.sessionmaker() as session, session.begin():
        return await service.close_due(session)
