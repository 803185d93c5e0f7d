"""audit entries store their leaf

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 11:00:00

Each entry now keeps the exact bytes its Merkle leaf hashed (`leaf`) instead of a payload
column from which the leaf had to be rebuilt. Existing entries get their version-1 leaf,
rebuilt here from their columns exactly as the version-1 writer did, so their stored leaf
hashes, the tree and every signed head stay valid. An entry whose columns had been tampered
with gets the bytes its columns now say, and the verifier reports it as edited, as before.
"""

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000

entries = sa.table(
    "audit_entries",
    sa.column("id", sa.BigInteger()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("subject_type", sa.String()),
    sa.column("subject_id", sa.String()),
    sa.column("payload", sa.Text()),
    sa.column("leaf", sa.Text()),
)


def _rfc3339(value: datetime) -> str:
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _canonical(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _replace_column(old: str, new: str, value_of: Callable[[sa.Row[Any]], str]) -> None:
    """Add text column `new`, set it to `value_of(row)` for every entry (in batches of ids),
    make it NOT NULL and drop `old`."""
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column(new, sa.Text(), nullable=True))
    bind = op.get_bind()
    last = -1
    while rows := bind.execute(
        sa.select(entries).where(entries.c.id > last).order_by(entries.c.id).limit(BATCH)
    ).all():
        bind.execute(
            entries.update().where(entries.c.id == sa.bindparam("row_id")),
            [{"row_id": row.id, new: value_of(row)} for row in rows],
        )
        last = rows[-1].id
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.alter_column(new, existing_type=sa.Text(), nullable=False)
        batch_op.drop_column(old)


def _version_1_leaf(row: sa.Row[Any]) -> str:
    return _canonical(
        {
            "v": 1,
            "created_at": _rfc3339(row.created_at),
            "actor": row.actor,
            "action": row.action,
            "subject_type": row.subject_type,
            "subject_id": row.subject_id,
            "payload": row.payload,
        }
    )


def _payload_of(row: sa.Row[Any]) -> str:
    leaf = json.loads(row.leaf)
    return str(leaf["payload"]) if leaf["v"] == 1 else _canonical(leaf["payload"])


def upgrade() -> None:
    _replace_column("payload", "leaf", _version_1_leaf)


def downgrade() -> None:
    # The payload comes back from the leaf; entries written as version 2 will no longer match
    # their leaf hashes under the version-1 code, so a downgrade past here is for emergencies.
    _replace_column("leaf", "payload", _payload_of)
