"""Every query of downloads."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.downloads.models import FileDownload


async def completed(session: AsyncSession, licence_id: uuid.UUID) -> int:
    query = select(func.count()).select_from(FileDownload).where(FileDownload.licence_id == licence_id)
    return int(await session.scalar(query) or 0)
