"""The tree as tiles, the signed checkpoints, their witness cosignatures and the log's state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from market.audit.models import BigId
from market.db.base import Base


class TreeTile(Base):
    """Tile (level, idx) of c2sp.org/tlog-tiles: up to 256 hashes of tree level 8 * level,
    concatenated. A tile only grows; once 256 wide it never changes again."""

    __tablename__ = "audit_tiles"

    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hashes: Mapped[bytes] = mapped_column(LargeBinary)


class TreeHead(Base):
    """A signed checkpoint: `note` is the c2sp.org/tlog-checkpoint signed by the log's key
    (heads signed before revision 0016 have only the JSON signature); `signature` is the JSON
    tree head's signature over the same size and root (`market.audit.tree_head`)."""

    __tablename__ = "audit_tree_heads"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[datetime] = mapped_column()
    signature: Mapped[str] = mapped_column(String(120))
    key_id: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    witness_quorum: Mapped[int] = mapped_column(Integer, default=0)  # cosignatures it needs


class Cosignature(Base):
    """A witness's cosignature line on a checkpoint (c2sp.org/tlog-cosignature)."""

    __tablename__ = "audit_cosignatures"

    head_id: Mapped[int] = mapped_column(ForeignKey("audit_tree_heads.id"), primary_key=True)
    witness: Mapped[str] = mapped_column(String(200), primary_key=True)
    line: Mapped[str] = mapped_column(Text)
    cosigned_at: Mapped[int] = mapped_column(BigInteger)  # the cosignature's POSIX time


class LogState(Base):
    """One row (id 1): the integrated tree, the last checkpoint's time, and what stopped the
    log, if anything. The publisher locks it, so one process at a time sequences and signs."""

    __tablename__ = "audit_log_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(BigInteger, default=0)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    checkpointed_at: Mapped[datetime | None] = mapped_column()
    published_size: Mapped[int] = mapped_column(BigInteger, default=0)  # tiles in the blob store
    mac_required_from: Mapped[int] = mapped_column(BigInteger, default=0)  # seqs before: no MAC
    halted_kind: Mapped[str | None] = mapped_column(String(40))
    halted_detail: Mapped[str | None] = mapped_column(Text)
    halted_at: Mapped[datetime | None] = mapped_column()
