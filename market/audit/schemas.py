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


class WitnessesOut(BaseModel):
    quorum: int = Field(description="Cosignatures this checkpoint needs (MARKET_AUDIT_WITNESS_QUORUM)")
    cosigned_by: list[str] = Field(description="Witnesses whose cosignature it carries")
    quorum_met: bool


class TreeHeadOut(BaseModel):
    """The latest checkpoint as JSON: the same size and root as `GET /checkpoint`."""

    tree_size: int
    root_hash: str
    timestamp: datetime
    signature: str
    key_id: str
    public_key: str = Field(description="Base64 Ed25519 public key of the exchange")
    signed_bytes: str = Field(
        default='b"market-sth-v1\\n" + {"root_hash","timestamp","tree_size"} as compact sorted JSON'
    )
    checkpoint: str | None = Field(
        default=None,
        description="The c2sp.org/tlog-checkpoint signed note with witness cosignatures, as GET "
        "/checkpoint serves it (null for heads signed before checkpoints existed)",
    )
    log_vkey: str = Field(description="The log's note verifier key: <origin>+<key id>+<base64 key>")
    witnesses: WitnessesOut


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
