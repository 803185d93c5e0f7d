"""Standard Webhooks signatures (standardwebhooks.com): the receiver checks any delivery with
the endpoint's secret and a stock library.

- headers `webhook-id` (the event's id, the same on every retry: receivers deduplicate on it),
  `webhook-timestamp` (integer Unix seconds of this attempt) and `webhook-signature`;
- the secret is `whsec_` + base64 of 32 random bytes; the HMAC key is those bytes;
- the signature is `v1,` + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")), several
  separated by spaces during a secret rotation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105  (a format prefix, not a secret)
TOLERANCE_SECONDS = 5 * 60


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a Standard Webhooks secret starts with whsec_")
    return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
        "content-type": "application/json",
    }


def verify(secret: str, received: dict[str, str], body: bytes, now: int) -> bool:
    """What a receiver does: any `v1` signature matches and the timestamp is recent."""
    try:
        message_id = received["webhook-id"]
        timestamp = int(received["webhook-timestamp"])
        expected = sign(secret, message_id, timestamp, body).encode()
    except (KeyError, ValueError, binascii.Error):
        return False
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        return False
    offered = received.get("webhook-signature", "").split(" ")
    return any(hmac.compare_digest(expected, s.encode()) for s in offered if s.startswith("v1,"))
