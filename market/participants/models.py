"""Participants (市场主体). Their users and API keys are `market.auth.models`."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from market.db.base import Base, IdMixin, TimestampMixin


class Participant(IdMixin, TimestampMixin, Base):
    __tablename__ = "participants"

    kind: Mapped[str] = mapped_column(String(20))  # organisation | natural_person | public_body
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    # Set only when an operator registered a code that fails its check digit, with why.
    credit_code_override_reason: Mapped[str | None] = mapped_column(Text)
    # Natural persons are identified by a salted hash of their ID number, never the number.
    identity_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    jurisdiction: Mapped[str] = mapped_column(String(10), default="domestic")
    country: Mapped[str] = mapped_column(String(2), default="CN")
    credit_status: Mapped[str] = mapped_column(String(12), default="good")
    credit_reason: Mapped[str | None] = mapped_column(Text)
