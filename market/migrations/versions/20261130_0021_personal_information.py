"""personal information: consent records, holds, subject requests, licensee obligations

Revision ID: 0021
Revises: 0015
Create Date: 2026-11-30 13:17:17.004086

Consent records of personal resources in versions (with headcounts for the CAC 2024 cross-border
thresholds), personal-data holds, data-subject requests and the contact verifications of people
without an account, and the obligations an upheld withdrawal or deletion puts on licensees
(PIPL Art. 15, 44-50; Jilin Regulation 2023 Art. 41-44, 88). A cross-border filing on file now
says which it is: a security assessment (every existing row), a standard contract or a
certification.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_verifications",
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("contact", sa.String(length=254), nullable=False),
        sa.Column("contact_pseudonym", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_verifications")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_contact_verifications_token_hash")),
    )
    with op.batch_alter_table("contact_verifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_verifications_contact_pseudonym"), ["contact_pseudonym"], unique=False
        )

    op.create_table(
        "consent_records",
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("legal_basis", sa.String(length=24), nullable=False),
        sa.Column(
            "purposes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("onward_transfer_consented", sa.Boolean(), nullable=False),
        sa.Column("sensitive_separately_consented", sa.Boolean(), nullable=False),
        sa.Column("people_covered", sa.BigInteger(), nullable=False),
        sa.Column("sensitive_people_covered", sa.BigInteger(), nullable=False),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=False),
        sa.Column("evidence_description", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["data_resources.id"], name=op.f("fk_consent_records_resource_id_data_resources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
        sa.UniqueConstraint("resource_id", "version", name=op.f("uq_consent_records_resource_id_version")),
    )
    op.create_table(
        "personal_data_holds",
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("cause_type", sa.String(length=20), nullable=False),
        sa.Column("cause_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.String(length=80), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=80), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["data_resources.id"],
            name=op.f("fk_personal_data_holds_resource_id_data_resources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_data_holds")),
        sa.UniqueConstraint(
            "resource_id",
            "cause_type",
            "cause_id",
            name=op.f("uq_personal_data_holds_resource_id_cause_type_cause_id"),
        ),
    )
    with op.batch_alter_table("personal_data_holds", schema=None) as batch_op:
        batch_op.create_index("ix_personal_data_holds_open", ["resource_id", "released_at"], unique=False)

    op.create_table(
        "subject_requests",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("seller_id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=True),
        sa.Column("requester_participant_id", sa.Uuid(), nullable=True),
        sa.Column("verification_id", sa.Uuid(), nullable=True),
        sa.Column("requester_pseudonym", sa.String(length=64), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("subject_identifiers", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("warn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("warned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column(
            "refusal_reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "affected_resource_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalation_cause", sa.String(length=12), nullable=True),
        sa.Column("escalation_reason", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["requester_participant_id"],
            ["participants.id"],
            name=op.f("fk_subject_requests_requester_participant_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["data_resources.id"],
            name=op.f("fk_subject_requests_resource_id_data_resources"),
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["participants.id"], name=op.f("fk_subject_requests_seller_id_participants")
        ),
        sa.ForeignKeyConstraint(
            ["verification_id"],
            ["contact_verifications.id"],
            name=op.f("fk_subject_requests_verification_id_contact_verifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_requests")),
    )
    with op.batch_alter_table("subject_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_subject_requests_requester_created", ["requester_pseudonym", "created_at"], unique=False
        )
        batch_op.create_index("ix_subject_requests_seller_created", ["seller_id", "created_at"], unique=False)
        batch_op.create_index("ix_subject_requests_status_due", ["status", "due_at"], unique=False)

    op.create_table(
        "licensee_obligations",
        sa.Column("licence_id", sa.Uuid(), nullable=False),
        sa.Column("licensee_id", sa.Uuid(), nullable=False),
        sa.Column("seller_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("cause_type", sa.String(length=20), nullable=False),
        sa.Column("cause_id", sa.Uuid(), nullable=False),
        sa.Column("cause_kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=14), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=80), nullable=True),
        sa.Column("outcome", sa.String(length=14), nullable=True),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=80), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("resolution_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["licence_id"], ["licences.id"], name=op.f("fk_licensee_obligations_licence_id_licences")
        ),
        sa.ForeignKeyConstraint(
            ["licensee_id"],
            ["participants.id"],
            name=op.f("fk_licensee_obligations_licensee_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_licensee_obligations_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["data_resources.id"],
            name=op.f("fk_licensee_obligations_resource_id_data_resources"),
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["participants.id"], name=op.f("fk_licensee_obligations_seller_id_participants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licensee_obligations")),
        sa.UniqueConstraint(
            "licence_id",
            "resource_id",
            "cause_type",
            "cause_id",
            name=op.f("uq_licensee_obligations_licence_id_resource_id_cause_type_cause_id"),
        ),
    )
    with op.batch_alter_table("licensee_obligations", schema=None) as batch_op:
        batch_op.create_index("ix_licensee_obligations_licensee", ["licensee_id", "created_at"], unique=False)
        batch_op.create_index("ix_licensee_obligations_status_due", ["status", "due_at"], unique=False)

    with op.batch_alter_table("security_assessments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=24), nullable=False, server_default="security_assessment")
        )


def downgrade() -> None:
    with op.batch_alter_table("security_assessments", schema=None) as batch_op:
        batch_op.drop_column("kind")

    with op.batch_alter_table("licensee_obligations", schema=None) as batch_op:
        batch_op.drop_index("ix_licensee_obligations_status_due")
        batch_op.drop_index("ix_licensee_obligations_licensee")

    op.drop_table("licensee_obligations")
    with op.batch_alter_table("subject_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_subject_requests_status_due")
        batch_op.drop_index("ix_subject_requests_seller_created")
        batch_op.drop_index("ix_subject_requests_requester_created")

    op.drop_table("subject_requests")
    with op.batch_alter_table("personal_data_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_personal_data_holds_open")

    op.drop_table("personal_data_holds")
    op.drop_table("consent_records")
    with op.batch_alter_table("contact_verifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_verifications_contact_pseudonym"))

    op.drop_table("contact_verifications")
