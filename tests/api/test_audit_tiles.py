"""The log as C2SP publishes logs: a signed-note checkpoint, tiles and entry bundles served and
mirrored to the blob store, verified from the outside with the public keys alone."""

from __future__ import annotations

import asyncio
import hashlib
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from typer.testing import CliRunner

from market.audit.checkpoints import log_verifier
from market.audit.log import record
from market.audit.models import AuditEntry
from market.audit.note import Signer, Verifier, open_checkpoint
from market.audit.tiles import WIDTH, perfect_root, split_hashes, unbundle
from market.audit.tlog_client import verify_tiles
from market.audit.tree_head import SignedTreeHead, verify_tree_head
from market.audit.tree_models import LogState, TreeHead
from market.cli import app as cli
from market.common.ed25519 import public_key_from_b64
from market.settings import WitnessEndpoint
from market.witness.app import witness_app
from market.witness.core import Witness
from market.witness.state import WitnessState
from tests.api import runtime_swaps as swaps
from tests.api.audit_factories import blob_store, public_key, publish_now
from tests.api.factories import Api

README = Path(__file__).resolve().parents[2] / "README.md"


async def write_entries(app: Any, n: int, note: str = "tile") -> None:
    """`n` entries written as the service writes them (MAC'd, in one transaction)."""
    async with app.state.sessionmaker() as session, session.begin():
        for i in range(n):
            await record(
                session,
                actor="system",
                action="test.filled",
                subject_type="test",
                subject_id=str(i),
                payload={"i": i, "note": note},
            )


@pytest.fixture
async def fresh_store(app: Any, tmp_path: Path) -> AsyncIterator[None]:
    """A blob store of this test's own: the app outlives one test's log, a store must not."""
    from market.storage import BlobStore

    with swaps.blob_store(app, BlobStore((tmp_path / "objects").as_uri())):
        yield


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def live_url(app: Any) -> AsyncIterator[str]:
    """The app served over real HTTP on loopback, in this test's event loop (so it shares the
    test's database engine); no lifespan, which would dispose of that engine."""
    port = free_port()
    # log_config=None: uvicorn leaves this process's logging (and later tests' loggers) alone.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


def in_process_witnesses(
    app: Any, tmp_path: Path, names: list[str]
) -> tuple[list[WitnessEndpoint], dict[str, httpx.AsyncBaseTransport]]:
    """Witnesses trusting this exchange's log key, each reached over its own ASGI transport
    (mount them on an httpx client: `httpx.AsyncClient(mounts=...)`)."""
    log = log_verifier(app.state.settings)
    endpoints: list[WitnessEndpoint] = []
    mounts: dict[str, httpx.AsyncBaseTransport] = {}
    for name in names:
        signer = Signer(name, "cosignature", Ed25519PrivateKey.generate())
        witness = Witness(signer, {log.name: log}, WitnessState(tmp_path / f"{name.replace('/', '_')}.db"))
        host = name.replace("/", ".")
        endpoints.append(WitnessEndpoint(name=name, url=f"http://{host}", vkey=signer.verifier.vkey()))
        mounts[f"http://{host}"] = httpx.ASGITransport(app=witness_app(witness))
    return endpoints, mounts


async def test_the_checkpoint_is_a_signed_note_and_the_json_head_a_view_of_it(
    api: Api, client: Any, app: Any, fresh_store: None
) -> None:
    await write_entries(app, 5)
    assert (await publish_now(app)).checkpoint_size == 5
    served = await client.get("/checkpoint")
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/plain")
    log = log_verifier(app.state.settings)
    checkpoint, _ = open_checkpoint(served.content, log)
    assert checkpoint.origin == app.state.settings.log_origin and checkpoint.size == 5
    head = (await client.get("/v1/audit/tree-head")).json()
    assert head["checkpoint"] == served.text and head["log_vkey"] == log.vkey()
    assert (head["tree_size"], head["root_hash"]) == (checkpoint.size, checkpoint.root.hex())
    assert verify_tree_head(SignedTreeHead.model_validate(head), public_key_from_b64(public_key(app)))
    assert head["witnesses"] == {"quorum": 0, "cosigned_by": [], "quorum_met": True}
    # The mirror: the same checkpoint and its tiles, as files a bucket or CDN can serve.
    assert await blob_store(app).get("checkpoint") == served.content
    assert await blob_store(app).get("tile/0/000.p/5") == (await client.get("/tile/0/000.p/5")).content


async def test_reads_never_sequence_or_sign(api: Api, client: Any, app: Any, fresh_store: None) -> None:
    await write_entries(app, 3)
    await publish_now(app)
    await write_entries(app, 4)  # committed, not yet sequenced
    auditor = await api.staff("auditor")

    async def snapshot() -> tuple[int, int, int]:
        async with app.state.sessionmaker() as s:
            pending = await s.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.seq.is_(None))
            )
            heads = await s.scalar(select(func.count()).select_from(TreeHead))
            size = await s.scalar(select(LogState.tree_size))
        return int(pending or 0), int(heads or 0), int(size or 0)

    before = await snapshot()
    for url in [
        "/v1/audit/tree-head",
        "/checkpoint",
        "/v1/audit/export",
        "/v1/audit/entries",
        "/v1/audit/proofs/consistency?first=1&second=3",
        "/v1/audit/proofs/inclusion?seq=0&tree_size=3",
        "/tile/0/000.p/3",
        "/tile/entries/000.p/3",
    ]:
        for _ in range(3):
            assert (await client.get(url, headers=auditor)).status_code == 200, url
    assert await snapshot() == before and before[0] == 5 and before[2] == 3


async def test_tiles_and_bundles_follow_the_spec(api: Api, client: Any, app: Any, fresh_store: None) -> None:
    await write_entries(app, WIDTH + 44)
    assert (await publish_now(app)).checkpoint_size == 300
    full = await client.get("/tile/0/000")
    assert full.status_code == 200 and len(full.content) == WIDTH * 32
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert full.headers["content-type"] == "application/octet-stream"
    partial = await client.get("/tile/0/001.p/44")
    assert len(partial.content) == 44 * 32
    level1 = await client.get("/tile/1/000.p/1")  # the root of the full tile below
    assert level1.content == perfect_root(split_hashes(full.content))
    # Entry bundles hold the entries: auditors only. Each entry hashes to its leaf in the tile.
    assert (await client.get("/tile/entries/000")).status_code == 401
    buyer = await api.org(roles=("buyer",))
    assert (await client.get("/tile/entries/000", headers=buyer.headers)).status_code == 403
    auditor = await api.staff("auditor")
    leaves = unbundle((await client.get("/tile/entries/000", headers=auditor)).content)
    assert [hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves] == split_hashes(full.content)
    for bad in [
        "/tile/0/1",
        "/tile/0/x000/001",
        "/tile/0/000.p/256",
        "/tile/64/000",
        "/tile/0/002",
        "/tile/0/001.p/45",
    ]:
        answer = await client.get(bad)
        assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json", bad
    # Served from the store where the publisher wrote them, else from the database: the same bytes.
    await blob_store(app).delete("tile/0/000")
    assert (await client.get("/tile/0/000")).content == full.content


async def test_an_outsider_verifies_everything_from_the_tiles(
    api: Api, client: Any, app: Any, fresh_store: None, tmp_path: Path
) -> None:
    endpoints, mounts = in_process_witnesses(app, tmp_path, ["w1.example/a", "w2.example/b"])
    witness_http = httpx.AsyncClient(mounts=mounts)
    settings = app.state.settings.model_copy(update={"audit_witnesses": endpoints, "audit_witness_quorum": 2})
    await write_entries(app, 20)
    outcome = await publish_now(app, settings, witness_http)
    assert outcome.quorum_met and outcome.cosigned_by == ["w1.example/a", "w2.example/b"]
    kept = open_checkpoint((await client.get("/checkpoint")).content, log_verifier(settings))[0]
    await write_entries(app, WIDTH)
    outcome = await publish_now(app, settings, witness_http)
    assert outcome.quorum_met and outcome.checkpoint_size == 276
    auditor = await api.staff("auditor")
    client.headers.update(auditor)
    witnesses = [Verifier.parse(e.vkey) for e in endpoints]
    opened, report = await verify_tiles(client, log_verifier(settings), witnesses, 2, [kept])
    assert report.ok and report.tree_size == 276 and report.heads_checked == 2, report
    assert opened.cosigned_by == ["w1.example/a", "w2.example/b"]
    # A bucket rewritten behind the exchange's back: the bundle no longer matches the tiles.
    bundle = await blob_store(app).get("tile/entries/000")
    await blob_store(app).put("tile/entries/000", bundle.replace(b'"note":"tile"', b'"note":"TILE"', 1))
    _, tampered = await verify_tiles(client, log_verifier(settings), witnesses, 2, [kept])
    assert not tampered.ok and tampered.first_bad_seq == 0 and tampered.kind == "edited"
    await witness_http.aclose()


def readme_snippet() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(
        r"<!-- outsider-check: run by tests/api/test_audit_tiles.py -->\s*```python\n(.*?)```", text, re.S
    )
    assert match, "the README's outsider check is missing"
    return match.group(1)


async def test_the_readme_outsider_check_runs_against_a_live_exchange(
    api: Api, client: Any, app: Any, fresh_store: None, tmp_path: Path, live_url: str
) -> None:
    endpoints, mounts = in_process_witnesses(app, tmp_path, ["w1.example/a", "w2.example/b"])
    witness_http = httpx.AsyncClient(mounts=mounts)
    settings = app.state.settings.model_copy(update={"audit_witnesses": endpoints, "audit_witness_quorum": 2})
    await write_entries(app, 30)
    assert (await publish_now(app, settings, witness_http)).quorum_met
    async with app.state.sessionmaker() as session:
        entry = (await session.execute(select(AuditEntry).where(AuditEntry.seq == 17))).scalar_one()
    namespace: dict[str, Any] = {}
    exec(compile(readme_snippet(), "README.md", "exec"), namespace)  # noqa: S102 (our own README)
    size = await namespace["outsider_check"](
        live_url, log_verifier(settings).vkey(), [e.vkey for e in endpoints], 2, entry.leaf, 17
    )
    assert size == 30
    with pytest.raises(AssertionError):  # the same check refuses an entry that is not in the log
        await namespace["outsider_check"](
            live_url, log_verifier(settings).vkey(), [e.vkey for e in endpoints], 2, entry.leaf + " ", 17
        )
    # And the command line, from the tiles alone (the entry bundles with an auditor's token).
    token = (await api.staff("auditor"))["Authorization"].split()[1]
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        [
            "audit",
            "verify",
            "--tiles",
            live_url,
            "--log-vkey",
            log_verifier(settings).vkey(),
            "--token",
            token,
            *[arg for e in endpoints for arg in ("--witness", e.vkey)],
            "--quorum",
            "2",
        ],
    )
    assert result.exit_code == 0 and "log intact" in result.output, result.output
    assert "cosigned by w1.example/a, w2.example/b" in result.output
    await witness_http.aclose()


async def test_a_checkpoint_without_its_quorum_is_marked_so_and_offered_again(
    client: Any, app: Any, fresh_store: None, tmp_path: Path
) -> None:
    endpoints, mounts = in_process_witnesses(app, tmp_path, ["w1.example/a", "w2.example/b"])
    settings = app.state.settings.model_copy(update={"audit_witnesses": endpoints, "audit_witness_quorum": 2})
    both = httpx.AsyncClient(mounts=mounts)
    one_down = httpx.AsyncClient(mounts={"http://w1.example.a": mounts["http://w1.example.a"]})
    await write_entries(app, 7)
    partly = await publish_now(app, settings, one_down)
    # An unreachable witness is not a refusal: the log goes on, its checkpoint marked unwitnessed.
    assert partly.consistent and partly.quorum_met is False and partly.cosigned_by == ["w1.example/a"]
    head = (await client.get("/v1/audit/tree-head")).json()
    assert head["witnesses"] == {"quorum": 2, "cosigned_by": ["w1.example/a"], "quorum_met": False}
    again = await publish_now(app, settings, both)  # the tree did not grow: signed afresh, offered again
    assert (
        again.checkpoint_size == 7
        and again.quorum_met
        and again.cosigned_by == ["w1.example/a", "w2.example/b"]
    )
    assert (await client.get("/v1/audit/tree-head")).json()["witnesses"]["quorum_met"] is True
    await one_down.aclose()
    await both.aclose()
