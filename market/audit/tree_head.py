"""Signed tree heads (STH): the exchange's Ed25519 signature over (size, root, time).

Signed bytes, version 1 (documented so anyone can verify without this code):

    b"market-sth-v1\\n" + canonical_json({"root_hash": <64 lowercase hex>,
                                          "timestamp": "YYYY-MM-DDTHH:MM:SS.ffffffZ",
                                          "tree_size": <int>})

i.e. keys sorted, separators `,`/`:`, UTF-8. The domain prefix keeps an STH signature from ever
being valid as a certificate signature (or any other message signed by the same key), and the
version lets the format change without ambiguity. The tree size is authenticated only here: a
proof's own claim about its tree size is worth nothing without a verified head.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from market.audit.canonical import canonical_json
from market.audit.merkle import HASH_SIZE
from market.common.ed25519 import key_id

DOMAIN = b"market-sth-v1\n"


class SignedTreeHead(BaseModel):
    """A signed tree head as stored, served and exported (JSON via `model_dump_json`)."""

    model_config = ConfigDict(frozen=True)

    tree_size: int = Field(ge=0)
    root_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="MTH of the first tree_size leaves, hex")
    timestamp: AwareDatetime
    signature: str = Field(description="Ed25519 signature over signing_bytes, base64")
    key_id: str = Field(description="First 16 hex of SHA-256 of the raw public key")

    @property
    def root(self) -> bytes:
        return bytes.fromhex(self.root_hash)


def signing_bytes(tree_size: int, root_hash_hex: str, timestamp: datetime) -> bytes:
    """The exact bytes an STH signature covers (see the module docstring)."""
    return DOMAIN + canonical_json(
        {"root_hash": root_hash_hex, "timestamp": timestamp, "tree_size": tree_size}
    )


def sign_tree_head(
    tree_size: int, root: bytes, timestamp: datetime, private_key: Ed25519PrivateKey
) -> SignedTreeHead:
    """Sign (tree_size, root, timestamp); `timestamp` must be timezone-aware."""
    if len(root) != HASH_SIZE or tree_size < 0:
        raise ValueError("a tree head needs a 32-byte root and a non-negative size")
    signature = private_key.sign(signing_bytes(tree_size, root.hex(), timestamp))
    return SignedTreeHead(
        tree_size=tree_size,
        root_hash=root.hex(),
        timestamp=timestamp,
        signature=base64.b64encode(signature).decode("ascii"),
        key_id=key_id(private_key.public_key()),
    )


def verify_tree_head(sth: SignedTreeHead, public_key: Ed25519PublicKey) -> bool:
    """True iff the signature verifies under `public_key` and names that key. Never raises on
    malformed heads (bad base64, naive time, …): an adversarial head is simply False."""
    if sth.key_id != key_id(public_key):
        return False
    try:
        signature = base64.b64decode(sth.signature, validate=True)
        public_key.verify(signature, signing_bytes(sth.tree_size, sth.root_hash, sth.timestamp))
    except (InvalidSignature, binascii.Error, ValueError, TypeError):
        return False
    return True
