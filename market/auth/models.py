"""Who may sign in: users (people, with passwords and roles) and API keys (machines). A user
belongs to a participant, except exchange staff, who belong to none."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from market.db.base import Base, IdMixin, TimestampMixin, json_type, utcnow


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    participant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("participants.id", ondelete="RESTRICT"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(json_type())
    is_active: Mapped[bool] = mapped_column(default=True)
    # In every access token; raised (logout, a password change) to end all of the user's sessions.
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")


class RefreshToken(IdMixin, Base):
    """A refresh token, stored as a hash. Each use rotates it (a new one in the same family);
    a used one presented again means it was stolen, and the whole family is revoked."""

    __tablename__ = "refresh_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_version: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


class ApiKey(IdMixin, Base):
    __tablename__ = "api_keys"

    participant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("participants.id", ondelete="RESTRICT"), index=True
    )
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(100))
    # Public lookup half of the key; the secret half is stored only as a SHA-256 digest
    # (high-entropy secrets need no slow hash, and lookups stay O(1)).
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    roles: Mapped[list[str]] = mapped_column(json_type())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    def as_dict(self) -> dict[str, Any]:
        return {"id": str(self.id), "name": self.name, "prefix": self.prefix}
