"""Revisions and their files, as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from market.revisions.models import RevisionFile
from market.revisions.service import Registration, RevisionView


class RevisionFileOut(BaseModel):
    id: uuid.UUID
    revision_id: uuid.UUID
    name: str
    media_type: str
    size: int
    sha256: str
    created_at: datetime


class RevisionOut(BaseModel):
    id: uuid.UUID
    resource_id: uuid.UUID
    number: int
    status: Literal["draft", "finalised"]
    manifest_sha256: str | None
    registration: Registration
    file_count: int
    total_bytes: int
    files: list[RevisionFileOut]
    created_at: datetime
    finalised_at: datetime | None


class RevisionList(BaseModel):
    items: list[RevisionOut]


def file_out(row: RevisionFile) -> RevisionFileOut:
    return RevisionFileOut(
        id=row.id,
        revision_id=row.revision_id,
        name=row.name,
        media_type=row.media_type,
        size=row.size,
        sha256=row.sha256,
        created_at=row.created_at,
    )


def revision_out(view: RevisionView) -> RevisionOut:
    r = view.revision
    return RevisionOut(
        id=r.id,
        resource_id=r.resource_id,
        number=r.number,
        status="finalised" if r.status == "finalised" else "draft",
        manifest_sha256=r.manifest_sha256,
        registration=view.registration,
        file_count=len(view.files),
        total_bytes=sum(f.size for f in view.files),
        files=[file_out(f) for f in view.files],
        created_at=r.created_at,
        finalised_at=r.finalised_at,
    )
