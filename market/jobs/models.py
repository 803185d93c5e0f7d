"""The embedded queue's table. On PostgreSQL jobs live in procrastinate's tables instead
(`procrastinate_jobs`, created by migration 0018); this one stays empty there."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from market.db.base import Base, json_type, utcnow


class EmbeddedJob(Base):
    __tablename__ = "embedded_jobs"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    task_name: Mapped[str] = mapped_column(String(128))
    args: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    lock: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(10), default="todo")  # todo | doing | succeeded | failed
    attempts: Mapped[int] = mapped_column(default=0)
    # Wall-clock times (the queue's, not the business clock's).
    scheduled_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_embedded_jobs_due", "status", "scheduled_at"),)
