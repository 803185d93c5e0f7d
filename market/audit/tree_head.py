"""Signed tree heads: size, root, time, Ed25519 signature over a documented byte string."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import AwareDatetime, BaseModel

from market.registry.certificates import key_id

DOMAIN = b"market-sth-v1\n"


class SignedTreeHead(BaseModel):
    tree_size: int
    root_hash: str  # hex
    timestamp: AwareDatetime
    signature: str  # base64
    key_id: str


def signing_bytes(tree_size: int, root_hash_hex: str, timestamp: datetime) -> bytes:
    """b"market-sth-v1\\n" + {"root_hash":hex,"timestamp":RFC 3339 UTC,"tree_size":n} compact, sorted."""
    body = {
        "root_hash": root_hash_hex,
        "timestamp": timestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "tree_size": tree_size,
    }
    return DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def sign_tree_head(
    tree_size: int, root: bytes, timestamp: datetime, key: Ed25519PrivateKey
) -> SignedTreeHead:
    signature = key.sign(signing_bytes(tree_size, root.hex(), timestamp))
    return SignedTreeHead(
        tree_size=tree_size,
        root_hash=root.hex(),
        timestamp=timestamp,
        signature=base64.b64encode(signature).decode(),
        key_id=key_id(key.public_key()),
    )


def verify_tree_head(sth: SignedTreeHead, public_key: Ed25519PublicKey) -> bool:
    try:
        public_key.verify(
            base64.b64decode(sth.signature),
            signing_bytes(sth.tree_size, sth.root_hash, sth.timestamp),
        )
    except (InvalidSignature, ValueError):
        return False
    return sth.key_id == key_id(public_key)
