"""Webhook endpoints, the event feed and the delivery log, as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from market.common.schemas import StrictModel, examples


class EndpointCreate(StrictModel):
    model_config = examples(
        {
            "url": "https://hooks.example.cn/exchange",
            "description": "order events",
            "event_types": ["order.paid", "licence.issued"],
        }
    )

    url: str = Field(min_length=8, max_length=2000, examples=["https://hooks.example.cn/exchange"])
    description: str = Field(default="", max_length=200)
    event_types: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Only these event types (e.g. order.paid); empty: every type",
        examples=[["order.paid", "licence.issued"]],
    )


class EndpointOut(BaseModel):
    id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    audience: str = Field(description="participant, or operators for the exchange's own endpoints")
    status: str = Field(description="enabled | disabled (after repeated failure)")
    status_reason: str | None
    consecutive_failures: int
    created_at: datetime


class EndpointCreated(EndpointOut):
    secret: str = Field(
        description="Standard Webhooks signing secret (whsec_…), shown once: verify every delivery with it"
    )


class AttemptOut(BaseModel):
    number: int
    trigger: str
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryOut(BaseModel):
    id: uuid.UUID
    event_id: str = Field(description="The webhook-id header of every attempt")
    event_type: str
    status: str = Field(description="pending | delivered | failed")
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    log: list[AttemptOut]


class EventOut(BaseModel):
    id: str = Field(description="evt_…: the webhook-id of its deliveries")
    seq: int = Field(description="Position in your feed: pass it as ?after= to read on")
    type: str
    subject_type: str
    subject_id: str
    data: dict[str, Any]
    created_at: datetime


class EventPage(BaseModel):
    items: list[EventOut]
    next_after: int = Field(description="Read on with ?after= this (the same value when nothing is new)")
