"""file delivery: revisions, their files, licence revisions, downloads

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 10:00:00

A resource's dataset as revisions of files (bytes in the blob store under their SHA-256), the
revisions a licence was issued for, and each completed download (issue 16).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revisions",
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finalised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["data_resources.id"], name=op.f("fk_revisions_resource_id_data_resources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revisions")),
        sa.UniqueConstraint("resource_id", "number", name=op.f("uq_revisions_resource_id_number")),
    )
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revisions_manifest_sha256"), ["manifest_sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_revisions_resource_id"), ["resource_id"], unique=False)

    op.create_table(
        "revision_files",
        sa.Column("revision_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["revision_id"], ["revisions.id"], name=op.f("fk_revision_files_revision_id_revisions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revision_files")),
        sa.UniqueConstraint("revision_id", "name", name=op.f("uq_revision_files_revision_id_name")),
    )
    with op.batch_alter_table("revision_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revision_files_revision_id"), ["revision_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_revision_files_sha256"), ["sha256"], unique=False)

    op.create_table(
        "file_downloads",
        sa.Column("licence_id", sa.Uuid(), nullable=False),
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("bytes_sent", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["revision_files.id"], name=op.f("fk_file_downloads_file_id_revision_files")
        ),
        sa.ForeignKeyConstraint(
            ["licence_id"], ["licences.id"], name=op.f("fk_file_downloads_licence_id_licences")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_downloads")),
    )
    with op.batch_alter_table("file_downloads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_file_downloads_licence_id"), ["licence_id"], unique=False)

    op.create_table(
        "licence_revisions",
        sa.Column("licence_id", sa.Uuid(), nullable=False),
        sa.Column("revision_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["licence_id"], ["licences.id"], name=op.f("fk_licence_revisions_licence_id_licences")
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"], ["revisions.id"], name=op.f("fk_licence_revisions_revision_id_revisions")
        ),
        sa.PrimaryKeyConstraint("licence_id", "revision_id", name=op.f("pk_licence_revisions")),
    )


def downgrade() -> None:
    op.drop_table("licence_revisions")
    with op.batch_alter_table("file_downloads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_file_downloads_licence_id"))

    op.drop_table("file_downloads")
    with op.batch_alter_table("revision_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revision_files_sha256"))
        batch_op.drop_index(batch_op.f("ix_revision_files_revision_id"))

    op.drop_table("revision_files")
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revisions_resource_id"))
        batch_op.drop_index(batch_op.f("ix_revisions_manifest_sha256"))

    op.drop_table("revisions")
