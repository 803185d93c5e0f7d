"""Revisions, their files (metadata only: the bytes are in the blob store under `sha256/<hex>`),
and which revisions a licence was issued for."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.db.base import Base, IdMixin, utcnow


class Revision(IdMixin, Base):
    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("resource_id", "number"),)

    resource_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_resources.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per resource
    status: Mapped[str] = mapped_column(String(12), default="draft")  # see states.RevisionStatus
    # SHA-256 of the canonical manifest (manifest.py), set when finalised: the fingerprint
    # a registration certifies.
    manifest_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finalised_at: Mapped[datetime | None] = mapped_column()


class RevisionFile(IdMixin, Base):
    __tablename__ = "revision_files"
    __table_args__ = (UniqueConstraint("revision_id", "name"),)

    revision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("revisions.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LicenceRevision(Base):
    """A revision a licence was issued for (a one-off purchase covers the revisions current
    when it was bought; a subscription also those finalised during its term)."""

    __tablename__ = "licence_revisions"

    licence_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("licences.id"), primary_key=True)
    revision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("revisions.id"), primary_key=True)
    # Never loaded (set `licence_id`): it tells the unit of work to write the licence first when
    # both are written in one flush (issue 21). Named, not imported: licences are a layer above.
    licence: Mapped[Any] = relationship("LicenceRow", lazy="raise")
