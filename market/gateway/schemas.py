"""Request and response models of the gateway: an API product's upstream, a licence's usage."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime

from limits import parse_many
from pydantic import BaseModel, Field, field_validator

from market.common.schemas import StrictModel, examples

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# Hop-by-hop headers (RFC 9110 §7.6.1) and those the gateway itself sets: not the seller's to use.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
RESERVED_HEADERS = HOP_BY_HOP | {"host", "content-length", "content-type", "x-delivery-credential", "cookie"}
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP field name (RFC 9110 §5.1)


class UpstreamIn(StrictModel):
    """Where the gateway forwards a licensee's calls, and how the exchange authenticates there."""

    model_config = examples(
        {
            "base_url": "https://api.seller.example/v1",
            "auth_header": "X-Api-Key",
            "auth_secret": "the-sellers-upstream-key",
            "allowed_methods": ["GET"],
            "allowed_path_prefixes": ["/indicators"],
            "timeout_seconds": 5,
            "count_failed_calls": False,
            "rate_limit": "20/second",
        }
    )

    base_url: str = Field(
        min_length=8,
        max_length=2000,
        description="http(s) URL the gateway path is appended to, e.g. https://api.seller.example/v1",
    )
    auth_header: str | None = Field(
        default=None, max_length=100, description="Header the exchange sends its secret in, e.g. X-Api-Key"
    )
    auth_secret: str | None = Field(
        default=None,
        min_length=1,
        max_length=4000,
        description="The secret (sealed at rest, never shown again); omitted: the current one is kept",
    )
    allowed_methods: list[str] = Field(default_factory=lambda: ["GET"], min_length=1, max_length=7)
    allowed_path_prefixes: list[str] = Field(default_factory=lambda: ["/"], min_length=1, max_length=50)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    count_failed_calls: bool = Field(
        default=False,
        description=(
            "Whether calls the upstream failed (no answer, a timeout, a 5xx) count against the quota: "
            "false is AWS Data Exchange's 'per successful request', true its 'per request'"
        ),
    )
    rate_limit: str = Field(
        default="100/second", max_length=40, description="Per licence, e.g. 100/second or 1000/minute"
    )

    @field_validator("auth_header")
    @classmethod
    def _header_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _TOKEN.match(value):
            raise ValueError("must be an HTTP header name")
        if value.lower() in RESERVED_HEADERS:
            raise ValueError(f"{value} is set by the gateway or hop-by-hop")
        return value

    @field_validator("allowed_methods")
    @classmethod
    def _methods(cls, value: list[str]) -> list[str]:
        methods = sorted({m.upper() for m in value})
        unknown = [m for m in methods if m not in METHODS]
        if unknown:
            raise ValueError(f"unknown methods {unknown}; allowed: {', '.join(METHODS)}")
        return methods

    @field_validator("allowed_path_prefixes")
    @classmethod
    def _prefixes(cls, value: list[str]) -> list[str]:
        for prefix in value:
            if not prefix.startswith("/") or any(part in (".", "..") for part in prefix.split("/")):
                raise ValueError(f"{prefix!r}: a prefix starts with / and has no . or .. segment")
            if len(prefix) > 500:
                raise ValueError("a prefix is at most 500 characters")
        return value

    @field_validator("rate_limit")
    @classmethod
    def _rate(cls, value: str) -> str:
        try:
            limits = parse_many(value)
        except ValueError as exc:
            raise ValueError("write a rate as N/second, N/minute or N/hour") from exc
        if len(limits) != 1:
            raise ValueError("one rate, e.g. 100/second")
        return value


class UpstreamOut(BaseModel):
    product_id: uuid.UUID
    base_url: str
    auth_header: str | None
    auth_secret_set: bool = Field(description="Whether a secret is held; the secret itself is never shown")
    allowed_methods: list[str]
    allowed_path_prefixes: list[str]
    timeout_seconds: float
    count_failed_calls: bool
    rate_limit: str
    gateway_path: str = Field(description="Where licensees call it: /gateway/{product_id}/{path}")
    updated_at: datetime


class UsageDayOut(BaseModel):
    day: date
    calls: int = Field(description="Calls counted against the quota")
    failed_calls: int = Field(description="Calls the upstream failed that did not count")


class UsageOut(BaseModel):
    licence_id: uuid.UUID
    call_quota: int | None
    calls_used: int
    quota_period: str | None
    days: list[UsageDayOut]
