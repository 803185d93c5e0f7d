"""A database administrator tampering with the log: forged inserts are refused, a broken tail
stops the log loudly (503, alert, gauge) until the database is restored, and a consistent
rewrite is still pinned to the first wrong entry by the MACs."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from market.audit.canonical import entry_leaf
from market.audit.macs import entry_keyring
from market.audit.merkle import leaf_hash
from market.audit.models import AuditEntry, QuarantinedEntry
from market.audit.tiles import TileEdge
from market.audit.tree_models import LogState, TreeHead
from market.audit.verify_db import verify_database
from tests.api.audit_factories import public_key, publish_now
from tests.api.factories import Api
from tests.api.test_audit_log import busy_log

PROBLEM = "https://jilin-data-exchange.example/problems/"


def forged_leaf(actor: str = "operator:ghost") -> bytes:
    return entry_leaf(
        created_at=datetime(2026, 11, 30, 3, 0, tzinfo=UTC),
        actor=actor,
        action="order.paid",
        subject_type="order",
        subject_id="00000000-0000-0000-0000-00000000f04d",
        payload={"amount_fen": 1, "note": "never happened"},
    ).encode()


async def insert_entry(app: Any, leaf: bytes, **columns: Any) -> int:
    """What someone with only database access can do: insert a row that looks like an entry."""
    values = {
        "seq": None,
        "created_at": datetime(2026, 11, 30, 3, 0, tzinfo=UTC),
        "actor": "operator:ghost",
        "action": "order.paid",
        "subject_type": "order",
        "subject_id": "00000000-0000-0000-0000-00000000f04d",
        "leaf": leaf.decode(),
        "leaf_hash": leaf_hash(leaf),
        "mac": None,
        "mac_key_id": None,
        **columns,
    }
    async with app.state.sessionmaker() as session, session.begin():
        entry = AuditEntry(**values)
        session.add(entry)
        await session.flush()
        return int(entry.id)


async def sql(app: Any, statement: str, **params: Any) -> Any:
    async with app.state.engine.begin() as conn:
        return await conn.execute(text(statement), params)


async def rebuild_tree(app: Any, leaves: list[bytes]) -> None:
    """Recompute every tile and the recorded size and root from these leaves, as a database
    administrator covering a rewrite would."""
    edge = TileEdge()
    tiles = edge.append(leaves)
    await sql(app, "DELETE FROM audit_tiles")
    for (level, index), data in tiles.items():
        await sql(
            app, "INSERT INTO audit_tiles (level, idx, hashes) VALUES (:l, :i, :h)", l=level, i=index, h=data
        )
    await sql(app, "UPDATE audit_log_state SET tree_size = :n, root = :r", n=edge.size, r=edge.root())


async def audit_gets(client: Any, auditor: dict[str, str]) -> dict[str, Any]:
    """Every audit endpoint that states something about the log, as a caller sees it."""
    urls = [
        "/v1/audit/tree-head",
        "/checkpoint",
        "/v1/audit/proofs/consistency?first=1&second=2",
        "/v1/audit/proofs/inclusion?seq=0&tree_size=2",
        "/v1/audit/export",
        "/tile/0/000.p/2",
        "/tile/entries/000.p/2",
    ]
    return {url: await client.get(url, headers=auditor) for url in urls}


def assert_stopped(responses: dict[str, Any], kind: str) -> None:
    for url, response in responses.items():
        assert response.status_code == 503, (url, response.status_code, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["type"] == PROBLEM + "audit-log-inconsistent", body
        assert body["finding"]["kind"] == kind and kind in body["detail"], body


async def test_a_forged_insert_is_refused_quarantined_alerted_and_named(
    api: Api, client: Any, app: Any
) -> None:
    await busy_log(api, client, 3)
    assert (await publish_now(app)).consistent
    keys = entry_keyring(app.state.settings)
    url = app.state.settings.effective_database_url
    unsigned = await insert_entry(app, forged_leaf())
    # A MAC under the right key id but made without the key: as good as none.
    guessed = forged_leaf("operator:someone")
    faked = await insert_entry(
        app, guessed, mac=hmac.digest(secrets.token_bytes(32), guessed, "sha256"), mac_key_id=keys.current_id
    )
    before = await verify_database(url, public_key(app), mac_keys=keys)
    assert not before.ok and before.kind == "forged" and sorted(before.forged_ids) == [unsigned, faked]
    assert f"entry {unsigned}" in before.finding

    outcome = await publish_now(app)
    assert outcome.consistent and sorted(outcome.quarantined) == [unsigned, faked]
    async with app.state.sessionmaker() as session:
        assert (
            await session.scalar(select(AuditEntry.id).where(AuditEntry.id.in_([unsigned, faked])))
        ) is None
        quarantined = {q.id: q.reason for q in (await session.execute(select(QuarantinedEntry))).scalars()}
        recorded = list(
            (
                await session.execute(
                    select(AuditEntry)
                    .where(AuditEntry.action == "audit.entry_quarantined")
                    .order_by(AuditEntry.id)
                )
            ).scalars()
        )
    assert "no MAC" in quarantined[unsigned] and "does not verify" in quarantined[faked]
    # The refusal is itself in the log, sequenced like any entry.
    assert [e.subject_id for e in recorded] == [str(unsigned), str(faked)]
    assert all(e.seq is not None for e in recorded)
    operator = await api.staff("operator")
    alerts = (await client.get("/v1/alerts?rule=audit_entry_forged", headers=operator)).json()["items"]
    assert {a["subject_id"] for a in alerts} == {str(unsigned), str(faked)}
    assert all(a["severity"] == "critical" for a in alerts)
    after = await verify_database(url, public_key(app), mac_keys=keys)
    assert after.ok and any(f"entry {unsigned} was refused" in note for note in after.notes)
    metrics = (await client.get("/metrics")).text
    assert "market_audit_entries_quarantined 2.0" in metrics


async def test_a_replayed_copy_of_a_genuine_entry_cannot_even_be_inserted(
    api: Api, client: Any, app: Any
) -> None:
    await busy_log(api, client, 1)
    async with app.state.sessionmaker() as session:
        genuine = (await session.execute(select(AuditEntry).limit(1))).scalar_one()
    try:
        await insert_entry(app, genuine.leaf.encode(), mac=genuine.mac, mac_key_id=genuine.mac_key_id)
    except Exception as exc:  # the unique leaf hash: each genuine leaf carries its own nonce
        assert "leaf_hash" in str(exc) or "UNIQUE" in str(exc) or "unique" in str(exc)
    else:
        raise AssertionError("a replayed entry was accepted")


async def test_a_forged_entry_at_the_tail_stops_the_log_until_it_is_removed(
    api: Api, client: Any, app: Any
) -> None:
    await busy_log(api, client, 3)
    assert (await publish_now(app)).consistent
    auditor = await api.staff("auditor")
    async with app.state.sessionmaker() as session:
        size = int(await session.scalar(select(LogState.tree_size)) or 0)
    forged = await insert_entry(app, forged_leaf(), seq=size)
    outcome = await publish_now(app)
    assert not outcome.consistent and outcome.finding is not None and outcome.finding.kind == "inserted"
    assert_stopped(await audit_gets(client, auditor), "inserted")
    assert "market_audit_log_consistent 0.0" in (await client.get("/metrics")).text
    operator = await api.staff("operator")
    alert = (await client.get("/v1/alerts?rule=audit_log_inconsistent", headers=operator)).json()["items"]
    assert len(alert) == 1 and alert[0]["severity"] == "critical" and str(size) in alert[0]["summary"]
    # Trading goes on meanwhile; its entries wait to be sequenced.
    await busy_log(api, client, 1)
    assert not (await publish_now(app)).consistent  # still there: still stopped, no new alert
    assert (
        len((await client.get("/v1/alerts?rule=audit_log_inconsistent", headers=operator)).json()["items"])
        == 1
    )

    await sql(app, "DELETE FROM audit_entries WHERE id = :id", id=forged)  # the repair
    outcome = await publish_now(app)
    assert outcome.consistent and outcome.resumed and outcome.checkpoint_size is not None
    assert all(r.status_code == 200 for r in (await audit_gets(client, auditor)).values())
    assert "market_audit_log_consistent 1.0" in (await client.get("/metrics")).text
    head = (await client.get("/v1/audit/tree-head")).json()
    assert head["tree_size"] > size  # what waited was sequenced, and the resumption recorded
    resumed = (await client.get("/v1/audit/entries?action=audit.log_resumed", headers=auditor)).json()[
        "items"
    ]
    assert resumed and resumed[0]["payload"]["was"] == "inserted"
    assert (await verify_database(app.state.settings.effective_database_url, public_key(app))).ok


async def test_a_deleted_last_entry_stops_the_log_until_it_is_restored(
    api: Api, client: Any, app: Any
) -> None:
    await busy_log(api, client, 3)
    assert (await publish_now(app)).consistent
    auditor = await api.staff("auditor")
    async with app.state.sessionmaker() as session:
        last = (
            await session.execute(
                select(AuditEntry).where(AuditEntry.seq.is_not(None)).order_by(AuditEntry.seq.desc()).limit(1)
            )
        ).scalar_one()
        saved = {c.key: getattr(last, c.key) for c in AuditEntry.__table__.columns}
    await sql(app, "DELETE FROM audit_entries WHERE id = :id", id=saved["id"])
    outcome = await publish_now(app)
    assert outcome.finding is not None and outcome.finding.kind == "deleted"
    assert str(saved["seq"]) in outcome.finding.detail
    responses = await audit_gets(client, auditor)
    assert_stopped(responses, "deleted")
    for _ in range(3):  # not an endless "retry": the same clear answer every time
        assert (await client.get("/v1/audit/tree-head")).status_code == 503
    async with app.state.sessionmaker() as session, session.begin():  # restored from a backup
        session.add(AuditEntry(**saved))
    assert (await publish_now(app)).consistent
    assert all(r.status_code == 200 for r in (await audit_gets(client, auditor)).values())


async def test_a_consistent_rewrite_is_pinned_to_its_entry_by_the_macs(
    api: Api, client: Any, app: Any, tmp_path: Any
) -> None:
    await busy_log(api, client, 4)
    assert (await publish_now(app)).consistent
    kept = tmp_path / "checkpoint.txt"
    kept.write_bytes((await client.get("/checkpoint")).content)  # what an outsider saved
    async with app.state.sessionmaker() as session:
        rows = list((await session.execute(select(AuditEntry).order_by(AuditEntry.seq))).scalars())
        heads = list((await session.execute(select(TreeHead))).scalars())
    victim = next(r for r in rows if "late filings" in r.leaf)  # a credit change of busy_log's
    # Rewrite that entry's content, its leaf hash, every tile and the recorded root: all that a
    # database administrator can recompute. Only the MAC and the signatures are out of reach.
    changed = victim.leaf.replace("late filings", "no reason").encode()
    assert changed != victim.leaf.encode()
    await sql(
        app,
        "UPDATE audit_entries SET leaf = :leaf, leaf_hash = :h WHERE id = :id",
        leaf=changed.decode(),
        h=leaf_hash(changed),
        id=victim.id,
    )
    await rebuild_tree(app, [leaf_hash(changed) if r.id == victim.id else bytes(r.leaf_hash) for r in rows])

    url, key = app.state.settings.effective_database_url, public_key(app)
    without_key = await verify_database(url, key)
    # Entries, hashes and tiles agree: only the signed roots see it, and they bound a range.
    assert not without_key.ok and without_key.kind == "root_mismatch" and without_key.first_bad_seq is None
    assert without_key.bad_range == (0, heads[-1].tree_size)
    with_key = await verify_database(url, key, mac_keys=entry_keyring(app.state.settings))
    assert not with_key.ok and (with_key.first_bad_seq, with_key.kind) == (victim.seq, "forged")
    assert with_key.forged_ids == [victim.id]
    # The publisher sees the tree no longer has its signed root and stops rather than sign it.
    outcome = await publish_now(app)
    assert outcome.finding is not None and outcome.finding.kind == "changed_tile"
    assert (await client.get("/checkpoint")).status_code == 503
    assert hashlib.sha256(kept.read_bytes()).digest()  # the saved checkpoint still pins the old root


async def test_a_missing_tile_is_a_503_even_before_the_publisher_looks(
    api: Api, client: Any, app: Any
) -> None:
    await busy_log(api, client, 3)
    assert (await publish_now(app)).consistent
    auditor = await api.staff("auditor")
    await sql(app, "DELETE FROM audit_tiles")
    proof = await client.get("/v1/audit/proofs/inclusion?seq=0&tree_size=3", headers=auditor)
    assert proof.status_code == 503 and proof.json()["finding"]["kind"] == "missing_tile", proof.text
    consistency = await client.get("/v1/audit/proofs/consistency?first=1&second=3")
    assert consistency.status_code == 503
    outcome = await publish_now(app)
    assert outcome.finding is not None and outcome.finding.kind == "missing_tile"
    assert_stopped(await audit_gets(client, auditor), "missing_tile")
