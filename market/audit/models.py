"""The append-only audit log table, and the quarantine of entries refused as forged.

Writers only INSERT (no lock, no counter): `seq` is assigned later, contiguously, by the
sequencer, so concurrent trades never queue behind one another to be logged.

`leaf` is the entry itself: its canonical bytes, exactly what the Merkle tree hashed. Reads
are served from it and verification is hashing it. `created_at`, `actor`, `action` and the
subject are copies of its fields kept as columns only so that they can be indexed and filtered;
the verifier checks that they still agree with the leaf. `mac` authenticates the writer
(`market.audit.macs`); entries sequenced before revision 0016 have none.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from market.db.base import Base, utcnow

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(80), index=True)
    action: Mapped[str] = mapped_column(String(80), index=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(80))
    leaf: Mapped[str] = mapped_column(Text)
    # Unique: a genuine entry's leaf carries a random nonce, so a second row with the same leaf
    # can only be a copy replayed into the table.
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    mac_key_id: Mapped[str | None] = mapped_column(String(16))

    # AUTOINCREMENT on SQLite: an id is never given twice, not even after the row holding the
    # largest one was quarantined (removed), so "entry 8" names one entry forever.
    __table_args__ = (
        Index("ix_audit_entries_subject", "subject_type", "subject_id"),
        # The sequencer's queue: only entries not yet sequenced, so finding them stays cheap
        # however long the log grows (an index on seq holds every sequenced entry before them).
        Index(
            "ix_audit_entries_pending",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
        {"sqlite_autoincrement": True},
    )


class QuarantinedEntry(Base):
    """A row found in the log's queue without a valid MAC: moved here, never sequenced, and
    its quarantine recorded in the log itself (`audit.entry_quarantined`)."""

    __tablename__ = "audit_quarantine"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime | None] = mapped_column()
    actor: Mapped[str | None] = mapped_column(String(80))
    action: Mapped[str | None] = mapped_column(String(80))
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[str | None] = mapped_column(String(80))
    leaf: Mapped[str | None] = mapped_column(Text)
    leaf_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    mac_key_id: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    quarantined_at: Mapped[datetime] = mapped_column()
