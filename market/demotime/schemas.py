"""Moving demo time: by a duration (`10d`, `2w`, `36h`) or to an instant."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from market.common.schemas import StrictModel


class ClockAdvance(StrictModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"by": "10d"}, {"until": "2026-12-15T00:00:00+08:00"}]}
    )

    by: str | None = Field(
        default=None,
        max_length=20,
        description="How far: weeks, days, hours, minutes, e.g. `10d`, `2w`, `1d12h`.",
    )
    until: datetime | None = Field(
        default=None, description="Or: the instant business time should reach (with its time zone)."
    )


class ClockOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "now": "2026-12-15T01:00:00+00:00",
                    "offset_seconds": 1296000,
                    "jobs": {"registry.finalise_due": 1},
                    "failed_jobs": [],
                }
            ]
        }
    )

    now: datetime = Field(description="Business time now.")
    offset_seconds: int = Field(description="How far business time is ahead of the wall clock.")
    jobs: dict[str, int] = Field(
        default_factory=dict, description="The periodic jobs run after moving, and what each did."
    )
    failed_jobs: list[str] = Field(default_factory=list, description="Jobs that failed (see the log).")
