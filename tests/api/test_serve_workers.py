"""`market serve --workers N`: N server processes share the port, each with its own pool, and
each stays within the memory goal (300 MB RSS)."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path

import httpx

from market.db.migrate import upgrade
from tests.api.conftest import _create_database, _drop_database
from tests.api.factories import PASSWORD, valid_credit_code
from tests.api.replica_processes import Cluster, free_port, wait_ready

RSS_GOAL_KB = 300 * 1024


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


async def test_serve_runs_n_workers_within_the_memory_goal(postgres_server_url: str) -> None:
    url, name = await _create_database(postgres_server_url)
    data_dir = Path(tempfile.mkdtemp(prefix="market-workers-"))
    await asyncio.to_thread(upgrade, url)
    cluster = Cluster(url, data_dir)
    port = free_port()
    server = cluster.start(
        ["serve", "--host", "127.0.0.1", "--port", str(port), "--no-migrate", "--no-seed", "--workers", "2"],
        "serve",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base, within=120)
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            answers = await asyncio.gather(*(client.get("/readyz") for _ in range(40)))
            assert {r.status_code for r in answers} == {200}
            n = uuid.uuid4().hex[:8]
            signed_up = await client.post(
                "/v1/participants",
                json={
                    "kind": "organisation",
                    "name": f"Workers {n}",
                    "credit_code": valid_credit_code(),
                    "roles": ["buyer"],
                    "user": {"email": f"w{n}@workers.example.cn", "password": PASSWORD, "display_name": "W"},
                },
            )
            assert signed_up.status_code == 201, signed_up.text
        workers = await asyncio.to_thread(_children, server.pid)
        assert len(workers) >= 2, workers  # the workers (and multiprocessing's helper, if any)
        for pid in workers:
            rss = await asyncio.to_thread(_rss_kb, pid)
            assert rss <= RSS_GOAL_KB, (pid, rss)
    except BaseException:
        print(cluster.log("serve")[-4000:])
        raise
    finally:
        cluster.stop_all()
        await _drop_database(postgres_server_url, name)
