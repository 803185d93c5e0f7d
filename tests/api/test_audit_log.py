"""The audit log through the API and against a tampering database administrator."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from sqlalchemy import text
from typer.testing import CliRunner

from market.audit.jobs import publish_checkpoint
from market.audit.merkle import verify_consistency, verify_inclusion
from market.audit.verify_db import verify_database
from market.cli import app as cli
from market.common.ed25519 import public_key_from_b64
from tests.api.audit_factories import public_key
from tests.api.factories import Api
from tests.api.jobs import app_of, run


async def busy_log(api: Api, client: Any, n: int = 6) -> tuple[list[Any], dict[str, str]]:
    parties = [await api.org() for _ in range(n)]
    operator = await api.staff("operator")
    for p in parties[:3]:
        await client.patch(
            f"/v1/participants/{p.participant_id}/credit",
            headers=operator,
            json={"status": "watch", "reason": "late filings"},
        )
    return parties, operator


async def head(client: Any) -> dict[str, Any]:
    """The latest checkpoint, after the publishing job has run (as a worker runs it)."""
    await run(app_of(client), publish_checkpoint)
    r = await client.get("/v1/audit/tree-head")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_tree_head_inclusion_and_consistency_proofs_verify(api: Api, client: Any) -> None:
    parties, _operator = await busy_log(api, client)
    first = await head(client)
    assert first["tree_size"] >= 9
    key = public_key_from_b64(first["public_key"])
    from market.audit.tree_head import SignedTreeHead, verify_tree_head

    assert verify_tree_head(SignedTreeHead.model_validate(first), key)
    auditor = await api.staff("auditor")
    root = bytes.fromhex(first["root_hash"])
    for seq in range(first["tree_size"]):
        proof = (
            await client.get(
                f"/v1/audit/proofs/inclusion?seq={seq}&tree_size={first['tree_size']}",
                headers=auditor,
            )
        ).json()
        # The README's recipe: hash the entry's leaf text as served, nothing re-serialised.
        leaf = hashlib.sha256(b"\x00" + proof["entry"]["leaf"].encode("utf-8")).digest()
        assert leaf.hex() == proof["leaf_hash"]
        assert json.loads(proof["entry"]["leaf"])["payload"] == proof["entry"]["payload"]
        assert verify_inclusion(
            leaf,
            seq,
            first["tree_size"],
            [bytes.fromhex(p) for p in proof["audit_path"]],
            root,
        )
    await busy_log(api, client, 3)
    second = await head(client)
    assert second["tree_size"] > first["tree_size"]
    cons = (
        await client.get(
            f"/v1/audit/proofs/consistency?first={first['tree_size']}&second={second['tree_size']}"
        )
    ).json()
    assert verify_consistency(
        first["tree_size"],
        second["tree_size"],
        root,
        bytes.fromhex(second["root_hash"]),
        [bytes.fromhex(p) for p in cons["consistency_path"]],
    )
    # A participant may prove entries about itself, not others'.
    mine = (
        await client.get("/v1/audit/entries?subject_id=" + parties[0].participant_id, headers=auditor)
    ).json()["items"][0]
    own = await client.get(
        f"/v1/audit/proofs/inclusion?seq={mine['seq']}&tree_size={second['tree_size']}",
        headers=parties[0].headers,
    )
    assert own.status_code == 200
    other = await client.get(
        f"/v1/audit/proofs/inclusion?seq={mine['seq']}&tree_size={second['tree_size']}",
        headers=parties[1].headers,
    )
    assert other.status_code == 404


async def test_reading_the_tree_head_signs_nothing(api: Api, client: Any, app: Any) -> None:
    first = await client.get("/v1/audit/tree-head")
    assert first.status_code == 200 and first.json()["tree_size"] == 0  # nothing published yet
    await busy_log(api, client, 2)
    published = await head(client)
    await busy_log(api, client, 2)
    again = (await client.get("/v1/audit/tree-head")).json()
    assert again == published  # the log grew, but only the publisher signs
    assert await run(app, publish_checkpoint) == 1
    assert (await client.get("/v1/audit/tree-head")).json()["tree_size"] > published["tree_size"]
    assert await run(app, publish_checkpoint) == 0  # nothing new: no new head


async def test_bad_proof_requests_are_4xx(api: Api, client: Any) -> None:
    await busy_log(api, client, 2)
    size = (await head(client))["tree_size"]
    auditor = await api.staff("auditor")
    for url in [
        f"/v1/audit/proofs/inclusion?seq=0&tree_size={size + 5}",
        f"/v1/audit/proofs/inclusion?seq={size}&tree_size={size}",
        f"/v1/audit/proofs/consistency?first={size}&second={size + 1}",
        "/v1/audit/proofs/consistency?first=3&second=2",
        "/v1/audit/proofs/consistency?first=0&second=2",
        "/v1/audit/proofs/inclusion?seq=-1&tree_size=2",
    ]:
        r = await client.get(url, headers=auditor)
        assert r.status_code in (404, 422), url


async def test_entries_filter_export_and_roles(api: Api, client: Any, app: Any, tmp_path: Path) -> None:
    parties, _operator = await busy_log(api, client, 4)
    auditor = await api.staff("auditor")
    changed = (
        await client.get("/v1/audit/entries?action=participant.credit_changed", headers=auditor)
    ).json()
    assert len(changed["items"]) == 3 and all(e["payload"]["reason"] for e in changed["items"])
    page = (await client.get("/v1/audit/entries?limit=2", headers=auditor)).json()
    after = (
        await client.get(f"/v1/audit/entries?limit=2&cursor={page['next_cursor']}", headers=auditor)
    ).json()
    assert {e["id"] for e in page["items"]}.isdisjoint({e["id"] for e in after["items"]})
    assert (await client.get("/v1/audit/entries", headers=parties[0].headers)).status_code == 403
    assert (await client.get("/v1/audit/export", headers=parties[0].headers)).status_code == 403
    assert (await client.get("/v1/audit/export")).status_code == 401
    await run(app, publish_checkpoint)  # the export holds what the publisher has sequenced
    jsonl = await client.get("/v1/audit/export?format=jsonl", headers=auditor)
    lines = [json.loads(x) for x in jsonl.text.splitlines()]
    assert len(lines) >= 9 and [x["seq"] for x in lines] == list(range(len(lines)))
    csv_text = (await client.get("/v1/audit/export?format=csv", headers=auditor)).text
    assert (
        csv_text.splitlines()[0].startswith("seq,id,created_at")
        and len(csv_text.splitlines()) == len(lines) + 1
    )
    # The export verifies offline against a signed head with the public key alone.
    current = await head(client)
    export, heads = tmp_path / "audit.jsonl", tmp_path / "head.json"
    export.write_text(jsonl.text, encoding="utf-8")
    heads.write_text(json.dumps(current), encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "verify",
            "--export",
            str(export),
            "--heads",
            str(heads),
            "--public-key",
            current["public_key"],
        ],
    )
    assert result.exit_code == 0, result.output
    routes = [r for r in app.routes if getattr(r, "path", "").startswith("/v1/audit")]
    assert all(getattr(r, "methods", {"GET"}) <= {"GET", "HEAD"} for r in routes)  # nothing can change it


async def tamper_and_verify(app: Any, sql: str) -> Any:
    async with app.state.engine.begin() as conn:
        await conn.execute(text(sql))
    return await verify_database(app.state.settings.effective_database_url, public_key(app))


async def test_verifier_names_the_first_tampered_entry(api: Api, client: Any, app: Any) -> None:
    await busy_log(api, client, 5)
    size = (await head(client))["tree_size"]
    key = public_key(app)
    clean = await verify_database(app.state.settings.effective_database_url, key)
    assert clean.ok and clean.entries == size and clean.heads_checked >= 1

    edited = await tamper_and_verify(
        app,
        "UPDATE audit_entries SET leaf = replace(leaf, 'late', 'LATE') "
        "WHERE action = 'participant.credit_changed' AND seq = "
        "(SELECT min(seq) FROM audit_entries WHERE action = 'participant.credit_changed')",
    )
    assert not edited.ok and edited.kind == "edited"
    first_changed = edited.first_bad_seq
    async with app.state.engine.connect() as conn:
        subject_of_3 = (
            await conn.execute(text("SELECT subject_id FROM audit_entries WHERE seq = 3"))
        ).scalar_one()
    async with app.state.engine.begin() as conn:
        await conn.execute(text("UPDATE audit_entries SET leaf = replace(leaf, 'LATE', 'late')"))
    assert (await verify_database(app.state.settings.effective_database_url, key)).ok
    # An index column steered away from its entry (to hide it from a subject's history).
    steered = await tamper_and_verify(app, "UPDATE audit_entries SET subject_id = 'elsewhere' WHERE seq = 3")
    assert not steered.ok and (steered.first_bad_seq, steered.kind) == (3, "edited")
    assert "subject_id" in steered.detail
    async with app.state.engine.begin() as conn:
        await conn.execute(
            text("UPDATE audit_entries SET subject_id = :s WHERE seq = 3"), {"s": subject_of_3}
        )
    swap = (
        "UPDATE audit_entries SET seq = -1 WHERE seq = 2; UPDATE audit_entries SET seq = 2 WHERE seq = 3; "
        "UPDATE audit_entries SET seq = 3 WHERE seq = -1"
    )
    for statement in swap.split("; ")[:-1]:
        async with app.state.engine.begin() as conn:
            await conn.execute(text(statement))
    swapped = await tamper_and_verify(app, swap.split("; ")[-1])
    assert not swapped.ok and swapped.first_bad_seq == 2 and swapped.kind == "reordered"
    for statement in swap.split("; "):  # swap back
        async with app.state.engine.begin() as conn:
            await conn.execute(text(statement))
    assert (await verify_database(app.state.settings.effective_database_url, key)).ok
    deleted = await tamper_and_verify(app, "DELETE FROM audit_entries WHERE seq = 4")
    assert not deleted.ok and deleted.first_bad_seq == 4 and deleted.kind == "deleted"
    async with app.state.engine.begin() as conn:  # a copy of entry 1, far beyond the tree
        await conn.execute(
            text(
                "INSERT INTO audit_entries (seq, created_at, actor, action, subject_type, subject_id, leaf, "
                f"leaf_hash) SELECT {size + 100}, created_at, actor, action, subject_type, subject_id, leaf, "
                ":digest FROM audit_entries WHERE seq = 1"
            ),
            {"digest": hashlib.sha256(b"another leaf hash").digest()},
        )
    inserted = await verify_database(app.state.settings.effective_database_url, key)
    assert not inserted.ok
    assert first_changed is not None
    import asyncio

    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        [
            "audit",
            "verify",
            "--database-url",
            app.state.settings.effective_database_url,
            "--public-key",
            key,
        ],
    )
    assert result.exit_code == 1 and "first bad sequence number 4" in result.output, result.output
