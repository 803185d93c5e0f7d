"""audit log as a transparency log: entry MACs, tiles, checkpoints, cosignatures, log state

Revision ID: 0016
Revises: 0014
Create Date: 2026-11-30 12:19:31

- Entries gain a MAC and its key id (entries written from now on; older ones have none) and a
  unique leaf hash (new leaves carry a random nonce, so a duplicate can only be a replay).
- The tree's nodes become c2sp.org/tlog-tiles rows: tile (L, N) concatenates the nodes of level
  8L numbered N*256 to N*256+255 that exist, exactly as stored; every other node is hashed from
  a tile when needed. Entries still waiting to be sequenced (written by the previous version,
  so without a MAC) are sequenced here first, in insert order, as the previous sequencer would
  have; entries sequenced from now on must carry a valid MAC (`mac_required_from`).
- Heads gain the checkpoint note (signed from now on) and the witness quorum they need;
  cosignatures get their table; the log state row records the tree, the last checkpoint's time
  and any finding that stopped the log.

Downgrading rebuilds every node from the tiles; entries written after this revision keep their
version-3 leaves, which earlier code cannot read.
"""

import hashlib
from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WIDTH, HEIGHT, BATCH = 256, 8, 5000
EMPTY_ROOT = hashlib.sha256(b"").digest()

entries = sa.table(
    "audit_entries",
    sa.column("id", sa.BigInteger()),
    sa.column("seq", sa.BigInteger()),
    sa.column("leaf_hash", sa.LargeBinary()),
)
nodes = sa.table(
    "audit_tree_nodes",
    sa.column("level", sa.Integer()),
    sa.column("idx", sa.BigInteger()),
    sa.column("hash", sa.LargeBinary()),
)
tiles = sa.table(
    "audit_tiles",
    sa.column("level", sa.Integer()),
    sa.column("idx", sa.BigInteger()),
    sa.column("hashes", sa.LargeBinary()),
)
heads = sa.table(
    "audit_tree_heads", sa.column("timestamp", sa.DateTime(timezone=True)), sa.column("id", sa.BigInteger())
)
state = sa.table(
    "audit_log_state",
    sa.column("id", sa.Integer()),
    sa.column("tree_size", sa.BigInteger()),
    sa.column("root", sa.LargeBinary()),
    sa.column("checkpointed_at", sa.DateTime(timezone=True)),
    sa.column("published_size", sa.BigInteger()),
    sa.column("mac_required_from", sa.BigInteger()),
)


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _frontier(bind: sa.Connection, size: int) -> list[bytes]:
    """The perfect subtrees covering [0, size), largest first, read from the node table."""
    out, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            out.append(
                bytes(
                    bind.execute(
                        sa.select(nodes.c.hash).where(nodes.c.level == level, nodes.c.idx == start >> level)
                    ).scalar_one()
                )
            )
            start += 1 << level
    return out


def _root_from_tiles(bind: sa.Connection, size: int) -> bytes:
    """MTH of the tree from its edge tiles (what the service computes, from the same rows)."""
    parts, level = [], 0
    while size >> (HEIGHT * (level + 1)):
        level += 1
    for lv in range(level, -1, -1):
        width = (size >> (HEIGHT * lv)) % WIDTH
        if not width:
            continue
        data = bind.execute(
            sa.select(tiles.c.hashes).where(tiles.c.level == lv, tiles.c.idx == size >> (HEIGHT * (lv + 1)))
        ).scalar_one()
        run = [bytes(data[i : i + 32]) for i in range(0, width * 32, 32)]
        start = 0
        for bit in range(HEIGHT - 1, -1, -1):
            if width >> bit & 1:
                sub = run[start : start + (1 << bit)]
                while len(sub) > 1:
                    sub = [_node(sub[i], sub[i + 1]) for i in range(0, len(sub), 2)]
                parts.append(sub[0])
                start += 1 << bit
    return _fold(parts)


def _fold(frontier: list[bytes]) -> bytes:
    if not frontier:
        return EMPTY_ROOT
    digest = frontier[-1]
    for left in reversed(frontier[:-1]):
        digest = _node(left, digest)
    return digest


def _sequence_legacy_pending(bind: sa.Connection, size: int) -> int:
    """Sequence the entries the previous version left waiting, growing the node table."""
    if bind.execute(sa.select(entries.c.id).where(entries.c.seq.is_(None)).limit(1)).first() is None:
        return size
    frontier = _frontier(bind, size)
    while pending := bind.execute(
        sa.select(entries.c.id, entries.c.leaf_hash)
        .where(entries.c.seq.is_(None))
        .order_by(entries.c.id)
        .limit(BATCH)
    ).all():
        new_nodes = []
        for entry_id, leaf in pending:
            digest, index, level = bytes(leaf), size, 0
            new_nodes.append({"level": 0, "idx": index, "hash": digest})
            while index & 1:
                digest, index, level = _node(frontier.pop(), digest), index >> 1, level + 1
                new_nodes.append({"level": level, "idx": index, "hash": digest})
            frontier.append(digest)
            bind.execute(sa.update(entries).where(entries.c.id == entry_id).values(seq=size))
            size += 1
        bind.execute(sa.insert(nodes), new_nodes)
    return size


def _tiles_from_nodes(bind: sa.Connection) -> None:
    level = 0
    while True:
        rows = bind.execute(
            sa.select(nodes.c.idx, nodes.c.hash).where(nodes.c.level == HEIGHT * level).order_by(nodes.c.idx)
        ).all()
        if not rows:
            return
        grouped: dict[int, list[bytes]] = {}
        for idx, digest in rows:
            grouped.setdefault(int(idx) // WIDTH, []).append(bytes(digest))
        bind.execute(
            sa.insert(tiles), [{"level": level, "idx": i, "hashes": b"".join(h)} for i, h in grouped.items()]
        )
        level += 1


def upgrade() -> None:
    op.create_table(
        "audit_log_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("checkpointed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_size", sa.BigInteger(), nullable=False),
        sa.Column("mac_required_from", sa.BigInteger(), nullable=False),
        sa.Column("halted_kind", sa.String(length=40), nullable=True),
        sa.Column("halted_detail", sa.Text(), nullable=True),
        sa.Column("halted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log_state")),
    )
    op.create_table(
        "audit_quarantine",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=True),
        sa.Column("action", sa.String(length=80), nullable=True),
        sa.Column("subject_type", sa.String(length=40), nullable=True),
        sa.Column("subject_id", sa.String(length=80), nullable=True),
        sa.Column("leaf", sa.Text(), nullable=True),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("mac", sa.LargeBinary(length=32), nullable=True),
        sa.Column("mac_key_id", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("quarantined_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_quarantine")),
    )
    op.create_table(
        "audit_tiles",
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_audit_tiles")),
    )
    op.create_table(
        "audit_cosignatures",
        sa.Column("head_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("witness", sa.String(length=200), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("cosigned_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["head_id"], ["audit_tree_heads.id"], name=op.f("fk_audit_cosignatures_head_id_audit_tree_heads")
        ),
        sa.PrimaryKeyConstraint("head_id", "witness", name=op.f("pk_audit_cosignatures")),
    )
    with op.batch_alter_table("audit_tree_heads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("witness_quorum", sa.Integer(), nullable=False, server_default="0"))

    bind = op.get_bind()
    top = bind.execute(sa.select(sa.func.max(entries.c.seq))).scalar()
    size = _sequence_legacy_pending(bind, 0 if top is None else int(top) + 1)
    _tiles_from_nodes(bind)
    last_head = bind.execute(sa.select(heads.c.timestamp).order_by(heads.c.id.desc()).limit(1)).scalar()
    bind.execute(
        sa.insert(state).values(
            id=1,
            tree_size=size,
            root=_root_from_tiles(bind, size),
            checkpointed_at=last_head,
            published_size=0,
            mac_required_from=size,
        )
    )
    op.drop_table("audit_tree_nodes")
    # On SQLite the table is rebuilt, now with AUTOINCREMENT: ids are never reused.
    with op.batch_alter_table(
        "audit_entries", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("mac", sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column("mac_key_id", sa.String(length=16), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_audit_entries_leaf_hash"), ["leaf_hash"])
        batch_op.create_index(
            "ix_audit_entries_pending",
            ["id"],
            postgresql_where=sa.text("seq IS NULL"),
            sqlite_where=sa.text("seq IS NULL"),
        )


def _nodes_of_tile(level: int, index: int, data: bytes) -> Iterator[dict[str, object]]:
    run = [data[i : i + 32] for i in range(0, len(data), 32)]
    for height in range(HEIGHT):
        first = (index * WIDTH) >> height
        for offset, digest in enumerate(run):
            yield {"level": HEIGHT * level + height, "idx": first + offset, "hash": digest}
        run = [_node(run[i], run[i + 1]) for i in range(0, len(run) - 1, 2)]


def downgrade() -> None:
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_pending")
        batch_op.drop_constraint(batch_op.f("uq_audit_entries_leaf_hash"), type_="unique")
        batch_op.drop_column("mac_key_id")
        batch_op.drop_column("mac")
    op.create_table(
        "audit_tree_nodes",
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_audit_tree_nodes")),
    )
    bind = op.get_bind()
    for level, idx, data in bind.execute(sa.select(tiles.c.level, tiles.c.idx, tiles.c.hashes)).all():
        # Heights 0-7 of each tile: height 8, its root, is a hash of the tile above.
        bind.execute(sa.insert(nodes), list(_nodes_of_tile(int(level), int(idx), bytes(data))))
    with op.batch_alter_table("audit_tree_heads", schema=None) as batch_op:
        batch_op.drop_column("witness_quorum")
        batch_op.drop_column("note")
    op.drop_table("audit_cosignatures")
    op.drop_table("audit_tiles")
    op.drop_table("audit_quarantine")
    op.drop_table("audit_log_state")
