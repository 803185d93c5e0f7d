"""A licence's files as the buyer sees them."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class DeliveredFile(BaseModel):
    id: uuid.UUID
    revision_id: uuid.UUID
    revision_number: int
    name: str
    media_type: str
    size: int
    sha256: str
    download_path: str


class DeliveredRevision(BaseModel):
    id: uuid.UUID
    resource_id: uuid.UUID
    number: int
    manifest_sha256: str | None
    finalised_at: datetime | None


class DeliveredFiles(BaseModel):
    licence_id: uuid.UUID
    completed_downloads: int
    revisions: list[DeliveredRevision]
    files: list[DeliveredFile]


class SignedUrl(BaseModel):
    url: str
    path: str
    expires_at: int
