"""A fake Stripe behind the SDK's own HTTP-client seam (Stripe's servers are unreachable here).

It answers PaymentIntent and Refund creation like Stripe does, including replaying the first
response for a repeated Idempotency-Key, and records every request for assertions. `fault` makes
it fail like the real service can: unreachable, the answer lost after Stripe acted, a 500, or a
400 refusal.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import stripe

WEBHOOK_SECRET = "whsec_test_secret"


class FakeStripe(stripe.HTTPClient):
    name = "fake_stripe"

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[dict[str, Any]] = []
        self._by_key: dict[str, tuple[bytes, int, Mapping[str, str]]] = {}
        self._ids = itertools.count(1)
        self.made: list[str] = []  # ids of the objects Stripe really created, once each
        self.refunded: dict[str, int] = {}  # PaymentIntent id -> amount refunded so far
        self.cancelled: list[str] = []  # PaymentIntent ids cancelled
        self.fault: str | None = None  # "unreachable" | "answer lost" | "500" | "400"

    def _answer(self, method: str, url: str, headers: Mapping[str, str], post_data: Any) -> Any:
        body = dict(parse_qsl(post_data.decode() if isinstance(post_data, bytes) else post_data or ""))
        key = headers.get("Idempotency-Key")
        self.requests.append({"method": method, "url": url, "key": key, "body": body})
        if self.fault == "unreachable":
            raise stripe.APIConnectionError(  # type: ignore[no-untyped-call]
                "connection refused (fake)", should_retry=True
            )
        if self.fault == "500":
            error = {"error": {"type": "api_error", "message": "An unknown error occurred (fake)"}}
            return json.dumps(error).encode(), 500, {}
        if self.fault == "400":
            error = {
                "error": {
                    "type": "invalid_request_error",
                    "code": "parameter_invalid_integer",
                    "message": "Invalid integer: amount (fake)",
                }
            }
            return json.dumps(error).encode(), 400, {}
        answer = self._act(url, key, body)
        if self.fault == "answer lost":  # Stripe acted; the connection dropped on the way back
            raise stripe.APIConnectionError(  # type: ignore[no-untyped-call]
                "connection reset by peer (fake)", should_retry=True
            )
        return answer

    def _act(self, url: str, key: str | None, body: dict[str, str]) -> Any:
        if "/v1/charges/ch_for_" in url:
            intent = url.rsplit("/ch_for_", 1)[1]
            charge = {
                "id": f"ch_for_{intent}",
                "object": "charge",
                "payment_intent": intent,
                "amount_refunded": self.refunded.get(intent, 0),
            }
            return json.dumps(charge).encode(), 200, {}
        if key and key in self._by_key:
            content, status, headers = self._by_key[key]
            return content, status, {**headers, "Idempotent-Replayed": "true"}
        if "/v1/payment_intents/" in url and url.endswith("/cancel"):
            intent = url.rsplit("/", 2)[1]
            self.cancelled.append(intent)
            cancelled = {"id": intent, "object": "payment_intent", "status": "canceled"}
            return json.dumps(cancelled).encode(), 200, {}
        n = next(self._ids)
        if url.endswith("/v1/payment_intents"):
            obj = {
                "id": f"pi_fake_{n}",
                "object": "payment_intent",
                "amount": int(body["amount"]),
                "currency": body["currency"],
                "status": "requires_payment_method",
                "client_secret": f"pi_fake_{n}_secret_x",
                "metadata": {k[9:-1]: v for k, v in body.items() if k.startswith("metadata[")},
            }
        elif url.endswith("/v1/refunds"):
            intent = body["payment_intent"]
            obj = {
                "id": f"re_fake_{n}",
                "object": "refund",
                "amount": int(body["amount"]),
                "payment_intent": intent,
                "charge": f"ch_for_{intent}",
                "status": "succeeded",
            }
            self.refunded[intent] = self.refunded.get(intent, 0) + int(body["amount"])
        else:
            obj = {"error": {"message": f"fake Stripe does not know {url}"}}
            return json.dumps(obj).encode(), 404, {}
        self.made.append(str(obj["id"]))
        answer = (json.dumps(obj).encode(), 200, {"Request-Id": f"req_{n}"})
        if key:
            self._by_key[key] = answer
        return answer

    def request(
        self, method: str, url: str, headers: Any, post_data: Any = None, *, _usage: Any = None
    ) -> Any:
        return self._answer(method, url, headers or {}, post_data)

    async def request_async(self, method: str, url: str, headers: Any, post_data: Any = None) -> Any:
        return self._answer(method, url, headers or {}, post_data)

    async def sleep_async(self, secs: float) -> None:
        return None

    def close(self) -> None:
        return None

    async def close_async(self) -> None:
        return None

    def created(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["url"].endswith(f"/v1/{kind}")]


def signed_event(
    event_type: str, obj: dict[str, Any], event_id: str, secret: str = WEBHOOK_SECRET
) -> tuple[bytes, dict[str, str]]:
    payload = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": obj},
        }
    )
    header = stripe.WebhookSignature.generate_signature_header(payload, secret)
    return payload.encode(), {"Stripe-Signature": header, "Content-Type": "application/json"}
