"""Demo resources and products: grows as the trading features land."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from market.settings import Settings


async def seed_demo_catalogue(session: AsyncSession, settings: Settings) -> list[str]:
    return []
