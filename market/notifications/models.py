"""The notification outbox (events, written in the transaction of the change they report), the
webhook endpoints participants register, and each delivery with its log of attempts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from market.db.base import Base, IdMixin, json_type

BigId = BigInteger().with_variant(Integer(), "sqlite")


class NotificationEvent(IdMixin, Base):
    """One event for one recipient: a participant, or the exchange's operators."""

    __tablename__ = "notification_events"

    # The feed's order, given once the event is committed (see `delivery.sequence_events`), so a
    # reader paging with `after=` never skips an event that committed late.
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    recipient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("participants.id"))
    audience: Mapped[str] = mapped_column(String(12))  # participant | operators
    type: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(80))
    data: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    # Events that must be sent once only (a deadline warning) carry a key; a second is refused.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column()

    __table_args__ = (
        Index("ix_notification_events_recipient_seq", "recipient_id", "seq"),
        Index("ix_notification_events_audience_seq", "audience", "seq"),
    )


class WebhookEndpoint(IdMixin, Base):
    __tablename__ = "webhook_endpoints"

    participant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("participants.id"), index=True)
    audience: Mapped[str] = mapped_column(String(12))  # participant | operators
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_types: Mapped[list[str]] = mapped_column(json_type(), default=list)  # empty: every type
    # The Standard Webhooks signing secret (whsec_ + base64). Kept, since every delivery is
    # signed with it; shown to its owner once, at creation.
    secret: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="enabled")  # enabled | disabled | deleted
    status_reason: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()


class WebhookDelivery(IdMixin, Base):
    """An event on its way to one endpoint."""

    __tablename__ = "webhook_deliveries"

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notification_events.id"))
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_endpoints.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    # Taken by a sender until then; a sender that died mid-request lets it go by itself.
    claimed_until: Mapped[datetime | None] = mapped_column()
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column()
    # Who asked for the next attempt by hand (a manual replay), logged with that attempt.
    replay_requested_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column()

    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )


class WebhookAttempt(Base):
    """The delivery log: every request made, and what came back."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    number: Mapped[int] = mapped_column()
    trigger: Mapped[str] = mapped_column(String(10))  # automatic | replay
    attempted_at: Mapped[datetime] = mapped_column()
    status_code: Mapped[int | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column()
