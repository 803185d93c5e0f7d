"""Response models of the audit API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class EntryOut(BaseModel):
    id: int
    seq: int | None = Field(description="Position in the log; null until sequenced (seconds)")
    created_at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    payload: dict[str, Any]
    leaf: str = Field(
        description="The entry's canonical JSON exactly as the log hashed it: "
        "leaf_hash = SHA-256(0x00 || UTF-8 of this text); the fields above are read from it"
    )
    leaf_hash: str


class TreeHeadOut(BaseModel):
    tree_size: int
    root_hash: str
    timestamp: datetime
    signature: str
    key_id: str
    public_key: str = Field(description="Base64 Ed25519 public key of the exchange")
    signed_bytes: str = Field(
        default='b"market-sth-v1\\n" + {"root_hash","timestamp","tree_size"} as compact sorted JSON'
    )


class InclusionProofOut(BaseModel):
    leaf_index: int
    tree_size: int
    leaf_hash: str
    audit_path: list[str]
    entry: EntryOut


class ConsistencyProofOut(BaseModel):
    first: int
    second: int
    consistency_path: list[str]


class EntryPage(BaseModel):
    items: list[EntryOut]
    next_cursor: str | None = None
