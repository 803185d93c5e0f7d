"""Two `market witness` processes on loopback witness the exchange's log: they cosign its
checkpoints while it only grows, and both refuse it once history was rewritten, even when the
exchange itself was made to sign the rewritten tree."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from market.audit.checkpoints import log_verifier
from market.audit.log import record
from market.audit.models import AuditEntry
from market.audit.publisher import PublishOutcome
from market.settings import WitnessEndpoint
from tests.api.audit_factories import publish_now
from tests.api.factories import Api
from tests.api.test_audit_tamper import rebuild_tree, sql

MARKET = [sys.executable, "-m", "market.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_witness(
    tmp_path: Path, name: str, log_vkey: str
) -> tuple[subprocess.Popen[bytes], WitnessEndpoint]:
    key = tmp_path / f"{name.replace('/', '_')}.key"
    keygen = [*MARKET, "witness", "keygen", "--name", name, "--key-file", str(key)]
    made = subprocess.run(keygen, capture_output=True, text=True, check=True)  # noqa: S603 (our own command)
    vkey = made.stdout.strip()
    port = free_port()
    serve = [*MARKET, "witness", "serve", "--name", name, "--key-file", str(key)]
    serve += ["--state", str(tmp_path / f"{port}.db"), "--log", log_vkey, "--port", str(port)]
    process = subprocess.Popen(serve, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(
                f"witness {name} did not start: {process.stderr.read().decode() if process.stderr else ''}"
            )
        time.sleep(0.1)
    return process, WitnessEndpoint(name=name, url=url, vkey=vkey)


@pytest.fixture
def witnesses(app: Any, tmp_path: Path) -> Iterator[list[WitnessEndpoint]]:
    log = log_verifier(app.state.settings).vkey()
    started = [start_witness(tmp_path, name, log) for name in ("witness.test/one", "witness.test/two")]
    yield [endpoint for _, endpoint in started]
    for process, _ in started:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


async def write(app: Any, n: int, tag: str) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        for i in range(n):
            await record(
                session, actor="system", action="test.witnessed", subject_type="test", subject_id=f"{tag}-{i}"
            )


async def publish_with(app: Any, endpoints: list[WitnessEndpoint]) -> PublishOutcome:
    settings = app.state.settings.model_copy(update={"audit_witnesses": endpoints, "audit_witness_quorum": 2})
    return await publish_now(app, settings)


async def rewrite_without(app: Any, seq: int) -> None:
    """What an insider with the database would do to erase entry `seq` for good: delete it,
    renumber the rest, rebuild the tree and drop the checkpoints that remember the old one."""
    await sql(app, "DELETE FROM audit_entries WHERE seq = :s", s=seq)
    await sql(app, "UPDATE audit_entries SET seq = -seq WHERE seq > :s", s=seq)
    await sql(app, "UPDATE audit_entries SET seq = -seq - 1 WHERE seq < 0")
    async with app.state.sessionmaker() as session:
        stmt = select(AuditEntry.leaf_hash).where(AuditEntry.seq.is_not(None)).order_by(AuditEntry.seq)
        leaves = [bytes(h) for h in (await session.execute(stmt)).scalars()]
    await rebuild_tree(app, leaves)
    await sql(app, "DELETE FROM audit_cosignatures")
    await sql(app, "DELETE FROM audit_tree_heads")


async def test_two_witness_processes_cosign_a_growing_log_and_refuse_a_rewritten_one(
    api: Api, client: Any, app: Any, witnesses: list[WitnessEndpoint]
) -> None:
    await write(app, 6, "first")
    first = await publish_with(app, witnesses)
    assert first.quorum_met and first.cosigned_by == ["witness.test/one", "witness.test/two"], first
    await write(app, 9, "second")
    second = await publish_with(app, witnesses)  # from 6 to 15: a consistency proof each
    assert second.checkpoint_size == 15 and second.quorum_met, second
    served = (await client.get("/checkpoint")).text
    assert served.count("\u2014 witness.test/") == 2
    head = (await client.get("/v1/audit/tree-head")).json()
    assert head["witnesses"] == {
        "quorum": 2,
        "cosigned_by": ["witness.test/one", "witness.test/two"],
        "quorum_met": True,
    }

    await rewrite_without(app, 2)
    await write(app, 5, "after")  # the rewritten log grows past what the witnesses saw
    resigned = await publish_with(app, witnesses)
    # The exchange signed the rewritten tree (it could not tell), but no witness cosigns it.
    assert resigned.checkpoint_size == 19 and resigned.quorum_met is False and resigned.cosigned_by == []
    assert resigned.finding is not None and resigned.finding.kind == "witness_refused"
    assert "witness.test/one" in resigned.finding.detail and "witness.test/two" in resigned.finding.detail
    assert "does not verify" in resigned.finding.detail  # each answered 422 to the proof from 15
    operator = await api.staff("operator")
    refused = (await client.get("/v1/alerts?rule=audit_witness_refused", headers=operator)).json()["items"]
    assert {a["subject_id"] for a in refused} == {"witness.test/one", "witness.test/two"}
    answer = await client.get("/checkpoint")
    assert answer.status_code == 503 and answer.json()["finding"]["kind"] == "witness_refused"
    await asyncio.sleep(0)
    again = await publish_with(app, witnesses)  # it stays stopped: the witnesses do not relent
    assert again.finding is not None and again.finding.kind == "witness_refused"
