"""Completed downloads, one row each (counted per licence; each also has its audit entry)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from market.db.base import Base, IdMixin, utcnow


class FileDownload(IdMixin, Base):
    __tablename__ = "file_downloads"

    licence_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("licences.id"), index=True)
    file_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("revision_files.id"))
    bytes_sent: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(120))
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
