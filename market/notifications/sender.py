"""The port through which webhooks leave the exchange, and its HTTP implementation."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import httpx

from market.errors import InvalidInput
from market.notifications import targets
from market.runtime import Port
from market.settings import Settings


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender(Protocol):
    async def send(self, url: str, headers: dict[str, str], body: bytes) -> SendResult: ...


WEBHOOK_SENDER: Port[WebhookSender] = Port("webhook sender")


class HttpxWebhookSender:
    """POSTs with a timeout, no redirects followed (a redirect could lead to a private target),
    the target re-checked first in production."""

    def __init__(self, settings: Settings) -> None:
        self.timeout = settings.webhook_timeout_seconds
        self.production = settings.mode == "production"

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> SendResult:
        started = time.monotonic()
        try:
            await targets.check(url, production=self.production)
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
                response = await client.post(
                    url, content=body, headers={**headers, "user-agent": "jilin-data-exchange-webhooks/1"}
                )
        except InvalidInput as refused:
            return SendResult(None, f"target refused: {refused.message}", _ms(started))
        except httpx.HTTPError as error:
            return SendResult(None, f"{type(error).__name__}: {error}"[:500], _ms(started))
        return SendResult(response.status_code, None, _ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
