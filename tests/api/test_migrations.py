"""Migrations build, from an empty database, exactly the schema the models describe."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from market import all_models  # noqa: F401
from market.audit.canonical import parse_leaf
from market.audit.log import record
from market.audit.macs import entry_keyring, session_info
from market.audit.merkle import leaf_hash, root
from market.audit.publisher import publish
from market.audit.tree_head import sign_tree_head
from market.audit.verify_db import verify_database
from market.db.base import Base
from market.db.migrate import alembic_config, ours, upgrade
from market.db.session import make_engine, make_sessionmaker
from market.settings import Settings
from market.storage import BlobStore
from tests.api.conftest import _create_database, _drop_database

# PostgreSQL-only indexes (full-text and trigram search) live in migrations, not in the models.
EXPRESSION_INDEXES = {"ix_products_search_fts", "ix_products_search_trgm"}


def not_expression_index(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Neither the PostgreSQL-only indexes nor procrastinate's tables (migration 0018) are models."""
    return not (type_ == "index" and name in EXPRESSION_INDEXES) and ours(
        obj, name, type_, reflected, compare_to
    )


async def test_upgrade_from_empty_reaches_every_head_and_matches_models(app: Any) -> None:
    heads = set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
    async with app.state.engine.connect() as conn:
        applied = {row[0] for row in await conn.execute(text("SELECT version_num FROM alembic_version"))}
        diffs = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"include_object": not_expression_index}),
                Base.metadata,
            )
        )
    assert applied == heads
    assert diffs == []


@asynccontextmanager
async def empty_database(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a new, empty database of this kind, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    server = request.getfixturevalue("postgres_server_url")
    url, name = await _create_database(server)
    try:
        yield url
    finally:
        await _drop_database(server, name)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_a_log_written_before_leaves_were_stored_still_verifies_after_the_upgrade(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Revision 0012 rebuilds each existing entry's version-1 leaf from its columns: the stored
    leaf hashes, the tree and the head signed before the upgrade must all still check."""
    signing_key = Ed25519PrivateKey.generate()
    async with empty_database(kind, request, tmp_path) as url:
        await asyncio.to_thread(upgrade, url, "0011")
        leaves = []
        engine = make_engine(url)
        async with engine.begin() as conn:
            for seq in range(5):
                # Written by the version-1 writer: the payload is embedded as canonical JSON text.
                v1 = (
                    f'{{"action":"order.paid","actor":"user-{seq}","created_at":"2026-11-22T10:05:0{seq}.000042Z",'
                    f'"payload":"{{\\"amount_fen\\":{100 + seq},\\"note\\":\\"数据\\"}}",'
                    f'"subject_id":"o-{seq}","subject_type":"order","v":1}}'
                ).encode()
                leaves.append(leaf_hash(v1))
                await conn.execute(
                    text(
                        "INSERT INTO audit_entries (seq, created_at, actor, action, subject_type, subject_id,"
                        " payload, leaf_hash) VALUES (:seq, :at, :actor, 'order.paid', 'order', :sid, :p, :h)"
                    ),
                    {
                        "seq": seq,
                        "at": datetime(2026, 11, 22, 10, 5, seq, 42, tzinfo=UTC),
                        "actor": f"user-{seq}",
                        "sid": f"o-{seq}",
                        "p": f'{{"amount_fen":{100 + seq},"note":"数据"}}',
                        "h": leaves[-1],
                    },
                )
                await conn.execute(
                    text("INSERT INTO audit_tree_nodes (level, idx, hash) VALUES (0, :i, :h)"),
                    {"i": seq, "h": leaves[-1]},
                )
            sth = sign_tree_head(5, root(leaves), datetime(2026, 11, 22, 11, tzinfo=UTC), signing_key)
            await conn.execute(
                text(
                    "INSERT INTO audit_tree_heads (tree_size, root_hash, timestamp, signature, key_id) "
                    "VALUES (5, :r, :t, :s, :k)"
                ),
                {"r": sth.root_hash, "t": sth.timestamp, "s": sth.signature, "k": sth.key_id},
            )
        await engine.dispose()
        await asyncio.to_thread(upgrade, url)
        public = base64.b64encode(signing_key.public_key().public_bytes_raw()).decode()
        report = await verify_database(url, public)
        assert report.ok, report
        assert (report.entries, report.heads_checked, report.unsigned_entries) == (5, 1, 0)
        engine = make_engine(url)
        async with engine.connect() as conn:
            stored = (await conn.execute(text("SELECT leaf FROM audit_entries WHERE seq = 3"))).scalar_one()
        await engine.dispose()
        assert parse_leaf(stored).payload == {"amount_fen": 103, "note": "数据"}
        # And back: the payload column returns with the text each entry had.
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0011")
        engine = make_engine(url)
        async with engine.connect() as conn:
            payload = (
                await conn.execute(text("SELECT payload FROM audit_entries WHERE seq = 3"))
            ).scalar_one()
        await engine.dispose()
        assert payload == '{"amount_fen":103,"note":"数据"}'
        # Up again, and the log goes on from there.
        await asyncio.to_thread(upgrade, url)
        await publisher_carries_on(url, tmp_path, signing_key)


async def publisher_carries_on(url: str, tmp_path: Path, signing_key: Ed25519PrivateKey) -> None:
    """The upgraded log goes on: the publisher accepts the entries written before MACs existed,
    new entries carry theirs, and the whole log verifies, with the MAC key too."""
    seed = base64.b64encode(signing_key.private_bytes_raw()).decode()
    settings = Settings(mode="test", database_url=url, data_dir=tmp_path / "home", signing_key=seed)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine, session_info(settings))
    try:
        async with sessions() as session, session.begin():
            await record(session, actor="system", action="test.upgraded", subject_type="t", subject_id="1")
        outcome = await publish(sessions, settings, BlobStore((tmp_path / "objects").as_uri()), force=True)
    finally:
        await engine.dispose()
    assert outcome.consistent and outcome.quarantined == [], outcome
    assert (outcome.sequenced, outcome.checkpoint_size) == (1, 6)
    public = base64.b64encode(signing_key.public_key().public_bytes_raw()).decode()
    report = await verify_database(url, public, mac_keys=entry_keyring(settings))
    assert report.ok, report
    assert (report.entries, report.heads_checked) == (6, 2)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_api_key_secrets_kept_by_idempotency_records_are_forgotten(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Revision 0014 removes the clear-text secret that older code stored to replay a creation."""
    async with empty_database(kind, request, tmp_path) as url:
        await asyncio.to_thread(upgrade, url, "0013")
        engine = make_engine(url)
        insert = text(
            "INSERT INTO idempotency_records (id, owner, key, operation, request_hash, status_code,"
            " response_body, created_at) VALUES (:id, 'user:1', :k, :op, 'h', 201, :body, :at)"
        )
        async with engine.begin() as conn:
            for n, (op, body) in enumerate(
                [
                    ("api_keys.create", '{"id": "k1", "name": "nightly", "key": "mk_live_SECRET"}'),
                    ("grants.create", '{"id": "g1", "key": "not a secret, a field of a grant"}'),
                ]
            ):
                ident = uuid.UUID(int=n + 1)
                await conn.execute(
                    insert,
                    {
                        "id": ident if kind == "postgres" else ident.hex,
                        "k": f"key-{n}",
                        "op": op,
                        "body": body,
                        "at": datetime(2026, 11, 22, tzinfo=UTC),
                    },
                )
        await engine.dispose()
        await asyncio.to_thread(upgrade, url)
        engine = make_engine(url)
        async with engine.connect() as conn:
            bodies: dict[str, str] = dict(
                (await conn.execute(text("SELECT operation, response_body FROM idempotency_records"))).all()
            )
        await engine.dispose()
        assert json.loads(bodies["api_keys.create"]) == {"id": "k1", "name": "nightly"}
        assert json.loads(bodies["grants.create"])["key"] == "not a secret, a field of a grant"
