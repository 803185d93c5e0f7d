"""Participants (市场主体). Their users and API keys are `market.auth.models`."""

from __future__ import annotations

from datetime import datetime

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
    # Raised to end every session and token of the participant's users at once (blacklisting).
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Know your customer (issue 18): organisations and public bodies start `pending_verification`
    # and may not list or buy until an operator verifies them; `held` when the sign-up resembles
    # a blacklisted participant. The note says why it was held, or the operator's reason.
    verification_status: Mapped[str] = mapped_column(
        String(24), default="verified", server_default="verified"
    )
    verification_note: Mapped[str | None] = mapped_column(Text)
    verified_by: Mapped[str | None] = mapped_column(String(80))
    verified_at: Mapped[datetime | None] = mapped_column()
    legal_representative: Mapped[str | None] = mapped_column(String(200))
    # The verification must be decided by then (`participant_verification_working_days` after
    # sign-up); when the job finds it passed undecided it sets `verification_overdue_at` and
    # raises an alert, once.
    verification_due_at: Mapped[datetime | None] = mapped_column()
    verification_overdue_at: Mapped[datetime | None] = mapped_column()
