"""Request and response models for random allocation draws."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from market.common.schemas import StrictModel, examples


class DrawCreate(StrictModel):
    model_config = examples(
        {
            "product_id": "6f1c2b9e-4a7d-4e2f-9b1a-3c5d7e9f0a12",
            "winners_wanted": 10,
            "opens_at": "2027-01-04T09:00:00+08:00",
            "closes_at": "2027-01-08T17:00:00+08:00",
        }
    )

    product_id: uuid.UUID = Field(description="A product whose plan has a random-allocation discount.")
    winners_wanted: int = Field(ge=1, le=100_000, strict=True)
    opens_at: AwareDatetime = Field(description="Not before now: the commitment is published first.")
    closes_at: AwareDatetime


class DrawOut(BaseModel):
    """A draw as anyone sees it: the commitment from the start; the seed, the entrants and the
    winners once revealed, so anyone can recompute the draw (`pricing.allocation`)."""

    id: uuid.UUID
    product_id: uuid.UUID
    rule: str
    winners_wanted: int
    commitment: str = Field(description="SHA-256 of the seed (lowercase hex), published before the window.")
    announced_at: datetime
    opens_at: datetime
    closes_at: datetime
    entrant_count: int
    revealed_at: datetime | None
    seed: str | None = Field(description="Revealed after the window closes; null before.")
    entrants: list[str] | None
    entrants_digest: str | None
    winners: list[str] | None
    result: dict[str, Any] | None = Field(
        description="The full AllocationResult JSON (announcement, seed, entrants, winners): "
        "`pricing.AllocationResult.model_validate` re-checks it."
    )
    how_to_verify: str


class EntryOut(BaseModel):
    draw_id: uuid.UUID
    participant_id: uuid.UUID
    entered_at: datetime
