"""forget the API-key secrets that idempotency records kept in clear

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 16:00:00

An API key is "shown once and stored hashed", but a creation sent with an Idempotency-Key kept
its whole first answer, secret included, to replay it. New records leave the secret out; this
removes it from the records already written. There is no way back: the downgrade keeps them so.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

records = sa.table(
    "idempotency_records",
    sa.column("id", sa.Uuid()),
    sa.column("operation", sa.String()),
    sa.column("response_body", sa.Text()),
)


def upgrade() -> None:
    bind = op.get_bind()
    stored = bind.execute(
        sa.select(records.c.id, records.c.response_body).where(records.c.operation == "api_keys.create")
    ).all()
    for record_id, body in stored:
        answer = json.loads(body)
        if answer.pop("key", None) is not None:
            bind.execute(
                records.update().where(records.c.id == record_id).values(response_body=json.dumps(answer))
            )


def downgrade() -> None:
    pass  # a forgotten secret cannot be restored, and older code replays what is there
