"""The audit log against this machine's own limits, every figure a ratio measured in one run.

    .venv/bin/python bench/bench_audit.py [--entries 200000] [--runs 3] [--rate 500] \\
        [--seconds 8] [--tile-seconds 4] [--concurrency 8] [--memory-entries 1000000] [--no-readme]

Needs PostgreSQL (MARKET_BENCH_DATABASE_URL, as bench_purchase.py; a scratch database is
created and dropped). `--entries` realistic entries are written as the service writes them
(`entry_values`: canonical leaf, nonce, MAC). Each figure is measured `--runs` times, its
baseline beside it in the same run; the table gives min / median / max of the ratios.

1. verify from PostgreSQL: `verify_database` (entries, index columns, tree leaves, MACs, the
   signed head) ÷ `COPY (the same SELECT) TO STDOUT (FORMAT binary)` into /dev/null. Goal ≥ 0.8.
2. verify an export, and from tiles: `market audit verify --export` (the JSONL the API
   exports) and `verify_tiles` (entry bundles and hash tiles as the blob store holds them, read
   through an in-process HTTP transport, so the network is not measured) ÷ raw
   `hashlib.sha256` over exactly the bytes a verifier must hash (each `0x00 || leaf`, each
   interior `0x01 || l || r`), prebuilt. Goal ≥ 0.5.
3. sequencing and integration (`publisher.sequence_all`: MAC and leaf checks, numbering, tiles)
   ÷ a plain multi-row INSERT (`INSERT … SELECT * FROM unnest(…)`, the same batch size) of the
   same rows into a copy of the table. Goal ≥ 0.5.
4. integration latency at a steady `--rate` entries/s for `--seconds`: entries written in small
   transactions as trades write them, publisher rounds running as the job's shift runs them; from each
   entry's commit to the end of the round that gave it its place. Goal p99 ≤ 1 s.
5. `GET /tile/0/000` (a full tile, from the blob store) ÷ `GET /readyz`, requests/s against one
   `market serve`, `--concurrency` clients. Goal ≥ 0.5.
6. proof generation at `--memory-entries` ÷ at 1,000 entries (from memory). Goal ≤ 3.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as a script, bench/ is first on sys.path; put the checkout first so `market` is this one.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from bench_purchase import Server, load, machine, scratch_database, write_readme_section  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from market.audit.checkpoints import log_verifier  # noqa: E402
from market.audit.cli import verify_export  # noqa: E402
from market.audit.log import entry_values, record  # noqa: E402
from market.audit.macs import entry_keyring, session_info  # noqa: E402
from market.audit.merkle import TreeBuilder, consistency_proof, inclusion_proof, leaf_hash, range_hash  # noqa: E402
from market.audit.models import AuditEntry  # noqa: E402
from market.audit.offline import export_line  # noqa: E402
from market.audit.publisher import PublishOutcome, publish, sequence_all  # noqa: E402
from market.audit.sequencer import BATCH, COPIED  # noqa: E402
from market.audit.tlog_client import verify_tiles  # noqa: E402
from market.audit.verify_db import verify_database  # noqa: E402
from market.audit.verify_pg import ENTRIES  # noqa: E402
from market.db.migrate import upgrade  # noqa: E402
from market.db.session import make_engine, make_sessionmaker  # noqa: E402
from market.registry.certificates import public_key_b64  # noqa: E402
from market.settings import Settings  # noqa: E402
from market.storage import BlobStore  # noqa: E402

BENCH_ROOT = "YmVuY2gtYXVkaXQtcm9vdC1zZWNyZXQtMzItYnl0ZXMhIQ=="
SIGNING_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
COLUMNS = list(COPIED[1:])  # an entry's columns as a writer inserts them (all but its id)
TYPES = ["timestamptz", "varchar", "varchar", "varchar", "varchar", "text", "bytea", "bytea", "varchar"]
ACTIONS = ("order.created", "order.paid", "licence.issued", "listing.published", "grant.revoked")
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def synthetic(settings: Settings, n: int, seed: int = 7) -> list[dict[str, Any]]:
    """n entries as writers make them: UUID-like ids, a ~90-byte payload, 0-50 ms apart."""
    rng, keys, when, rows = random.Random(seed), entry_keyring(settings), T0, []
    for i in range(n):
        when += timedelta(microseconds=rng.randrange(50_000))
        action = ACTIONS[i % len(ACTIONS)]
        payload = {
            "amount_fen": rng.randrange(10**9),
            "currency": "CNY",
            "note": f"数据产品 {i}",
            "status": "ok",
        }
        rows.append(
            entry_values(
                actor=f"{rng.getrandbits(128):032x}",
                action=action,
                subject_type=action.split(".")[0],
                subject_id=f"{rng.getrandbits(128):032x}",
                payload=payload,
                keys=keys,
                created_at=when,
            )
        )
    return rows


def spread(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def verdict(values: list[float], goal: float, at_least: bool = True) -> str:
    median = statistics.median(values)
    met = median >= goal if at_least else median <= goal
    return f"{'≥' if at_least else '≤'} {goal}, {'met' if met else '**missed**'}"


class Bench:
    def __init__(self, url: str, args: argparse.Namespace, work: Path) -> None:
        self.url, self.args, self.work = url, args, work
        self.dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.settings = Settings(
            mode="embedded",
            database_url=url,
            data_dir=work,
            root_secret=BENCH_ROOT,
            signing_key=SIGNING_KEY,
            audit_head_interval_seconds=3600,
            audit_sequence_interval_seconds=0.25,
            storage_url=(work / "objects").as_uri(),
        )
        self.engine = make_engine(url)
        self.sessionmaker = make_sessionmaker(self.engine, session_info(self.settings))
        self.store = BlobStore(self.settings.effective_storage_url)
        self.rows = synthetic(self.settings, args.entries)

    async def reset(self, conn: asyncpg.Connection, with_rows: bool = True) -> None:
        await conn.execute(
            "TRUNCATE audit_entries, audit_tiles, audit_log_state, audit_cosignatures, audit_tree_heads, "
            "audit_quarantine, risk_alerts"
        )
        if with_rows:
            records = [tuple(r[c] for c in COLUMNS) for r in self.rows]
            await conn.copy_records_to_table("audit_entries", records=records, columns=COLUMNS)
        await conn.execute("VACUUM ANALYZE audit_entries")

    async def sequencing(self, conn: asyncpg.Connection) -> tuple[float, float, float]:
        """(ratio, INSERT rows/s, sequencing entries/s) for one run."""
        await conn.execute("DROP TABLE IF EXISTS bench_insert")
        await conn.execute("CREATE TABLE bench_insert (LIKE audit_entries INCLUDING ALL)")
        columns = ", ".join(COLUMNS)
        unnest = ", ".join(f"${i + 1}::{kind}[]" for i, kind in enumerate(TYPES))
        statement = f"INSERT INTO bench_insert ({columns}) SELECT * FROM unnest({unnest})"
        started = time.perf_counter()
        for i in range(0, len(self.rows), BATCH):
            batch = self.rows[i : i + BATCH]
            await conn.execute(statement, *([r[c] for r in batch] for c in COLUMNS))
        inserted = time.perf_counter() - started
        await self.reset(conn)
        started = time.perf_counter()
        while True:
            outcome = PublishOutcome()
            await sequence_all(self.sessionmaker, self.settings, outcome)
            assert outcome.consistent and not outcome.quarantined, outcome
            if not outcome.sequenced:
                break
        sequenced = time.perf_counter() - started
        n = len(self.rows)
        return inserted / sequenced, n / inserted, n / sequenced

    async def verify_db(self, conn: asyncpg.Connection) -> tuple[float, float, float, float]:
        """(ratio with MACs, ratio without, COPY rows/s, verify entries/s)."""
        started = time.perf_counter()
        await conn.copy_from_query(ENTRIES, output=os.devnull, format="binary")  # asyncpg writes the file
        copied = time.perf_counter() - started
        key = public_key_b64(self.settings.exchange_signing_key().public_key())
        started = time.perf_counter()
        report = await verify_database(self.url, key, mac_keys=entry_keyring(self.settings))
        with_macs = time.perf_counter() - started
        assert report.ok and report.entries == len(self.rows) and report.heads_checked, report
        started = time.perf_counter()
        assert (await verify_database(self.url, key)).ok
        without = time.perf_counter() - started
        return copied / with_macs, copied / without, len(self.rows) / copied, len(self.rows) / with_macs


def raw_inputs(leaves: list[bytes]) -> list[bytes]:
    """Every byte string a verifier hashes: each 0x00 || leaf, each interior 0x01 || l || r."""
    inputs = [b"\x00" + leaf for leaf in leaves]
    frontier: list[bytes] = []
    for i, leaf in enumerate(leaves):
        digest = leaf_hash(leaf)
        while i & 1:
            inputs.append(b"\x01" + frontier.pop() + digest)
            digest = hashlib.sha256(inputs[-1]).digest()
            i >>= 1
        frontier.append(digest)
    return inputs


def raw_hashing(inputs: list[bytes]) -> float:
    sha256, started = hashlib.sha256, time.perf_counter()
    for data in inputs:
        sha256(data).digest()
    return time.perf_counter() - started


def tiles_transport(store_dir: Path) -> httpx.MockTransport:
    """The blob store's directory as a static file server (no network: what a CDN serves)."""

    def serve(request: httpx.Request) -> httpx.Response:
        path = store_dir / request.url.path.lstrip("/")
        return httpx.Response(200, content=path.read_bytes()) if path.is_file() else httpx.Response(404)

    return httpx.MockTransport(serve)


async def latency(bench: Bench, conn: asyncpg.Connection, rate: int, seconds: float) -> list[float]:
    """Seconds from commit to sequenced, for every entry written at `rate`/s for `seconds`."""
    await bench.reset(conn, with_rows=False)
    committed: dict[int, float] = {}
    sequenced_at: dict[int, float] = {}
    stop = asyncio.Event()

    async def writer() -> None:
        tick, per_tick, n = 0.02, max(1, rate // 50), 0
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            async with bench.sessionmaker() as session, session.begin():
                entries = [
                    await record(
                        session,
                        actor="bench",
                        action="bench.trade",
                        subject_type="order",
                        subject_id=str(n + i),
                    )
                    for i in range(per_tick)
                ]
            at = time.perf_counter()
            committed.update((e.id, at) for e in entries)
            n += per_tick
            await asyncio.sleep(max(0.0, started + (n / per_tick) * tick - time.perf_counter()))
        stop.set()

    async def publisher() -> None:
        size = 0
        while not (stop.is_set() and len(sequenced_at) >= len(committed)):
            await publish(bench.sessionmaker, bench.settings, bench.store)
            done = time.perf_counter()
            for (entry_id,) in await conn.fetch("SELECT id FROM audit_entries WHERE seq >= $1", size):
                sequenced_at.setdefault(entry_id, done)
            size = len(sequenced_at)
            await asyncio.sleep(bench.settings.audit_sequence_interval_seconds)

    await asyncio.gather(writer(), publisher())
    return [sequenced_at[i] - at for i, at in committed.items()]


def proof_scaling(n: int) -> float:
    """Inclusion + consistency proofs and a root at n entries ÷ at 1,000, from memory."""

    class Levels:
        def __init__(self, size: int) -> None:
            self.levels: list[list[bytes]] = [[]]
            builder = TreeBuilder()
            for i in range(size):
                for level, _index, digest in builder.append(leaf_hash(i.to_bytes(8, "big"))):
                    if level == len(self.levels):
                        self.levels.append([])
                    self.levels[level].append(digest)

        def node(self, level: int, index: int) -> bytes:
            return self.levels[level][index]

    def timed(nodes: Levels, size: int, rounds: int = 2000) -> float:
        rng = random.Random(size)
        picks = [(rng.randrange(size), rng.randrange(1, size + 1)) for _ in range(rounds)]
        started = time.perf_counter()
        for index, first in picks:
            inclusion_proof(index, size, nodes)
            consistency_proof(first, size, nodes)
            range_hash(nodes, 0, size)
        return time.perf_counter() - started

    return timed(Levels(n), n) / timed(Levels(1000), 1000)


async def tile_serving(bench: Bench, args: argparse.Namespace) -> list[tuple[float, float, float]]:
    """(ratio, tile req/s, readyz req/s) per run, against one `market serve`."""
    server = Server(bench.url)
    server.env |= {
        "MARKET_ROOT_SECRET": BENCH_ROOT,
        "MARKET_STORAGE_URL": bench.settings.effective_storage_url,
    }
    await server.start()
    runs = []
    try:
        world: dict[str, Any] = {}

        async def tile(c: httpx.AsyncClient, _w: dict[str, Any], _r: random.Random) -> None:
            response = await c.get("/tile/0/000")
            assert response.status_code == 200 and len(response.content) == 8192, response.status_code

        async def readyz(c: httpx.AsyncClient, _w: dict[str, Any], _r: random.Random) -> None:
            assert (await c.get("/readyz")).status_code == 200

        pid = server.proc.pid if server.proc else 0
        for _ in range(args.runs):
            tiles = await load(server.base, tile, world, args.concurrency, args.tile_seconds, pid)
            ready = await load(server.base, readyz, world, args.concurrency, args.tile_seconds, pid)
            runs.append((tiles["rate"] / ready["rate"], tiles["rate"], ready["rate"]))
    finally:
        server.stop()
    return runs


async def run(url: str, args: argparse.Namespace) -> str:
    await asyncio.to_thread(upgrade, url)
    work = Path(tempfile.mkdtemp(prefix="market-bench-audit-"))
    bench = Bench(url, args, work)
    n, lines = args.entries, []
    conn = await asyncpg.connect(bench.dsn)
    try:
        seq_runs = [await bench.sequencing(conn) for _ in range(args.runs)]
        print("sequencing:", seq_runs, flush=True)
        outcome = await publish(bench.sessionmaker, bench.settings, bench.store, force=True)
        assert outcome.checkpoint_size == n, outcome
        verify_runs = [await bench.verify_db(conn) for _ in range(args.runs)]
        print("verify:", verify_runs, flush=True)

        leaves = [r["leaf"].encode() for r in bench.rows]
        inputs = raw_inputs(leaves)
        export = work / "audit.jsonl"
        async with bench.sessionmaker() as session:
            rows = (await session.execute(select(AuditEntry).order_by(AuditEntry.seq))).scalars()
            export.write_text(
                "".join(
                    export_line(e.seq, e.id, e.leaf, bytes(e.leaf_hash), e.mac, e.mac_key_id) + "\n"
                    for e in rows
                )
            )
        heads = work / "heads.json"
        head = await conn.fetchrow(
            "SELECT tree_size, root_hash, timestamp, signature, key_id FROM audit_tree_heads"
        )
        heads.write_text(json.dumps({**dict(head), "timestamp": head["timestamp"].isoformat()}))
        key = public_key_b64(bench.settings.exchange_signing_key().public_key())
        export_runs, tile_runs = [], []
        log = log_verifier(bench.settings)
        for _ in range(args.runs):
            raw = raw_hashing(inputs)
            started = time.perf_counter()
            assert verify_export(export, heads, key).ok
            export_runs.append((raw / (time.perf_counter() - started), n / (time.perf_counter() - started)))
            raw = raw_hashing(inputs)
            async with httpx.AsyncClient(
                transport=tiles_transport(work / "objects"), base_url="http://cdn"
            ) as c:
                started = time.perf_counter()
                _, report = await verify_tiles(c, log)
                elapsed = time.perf_counter() - started
            assert report.ok and report.tree_size == n, report
            tile_runs.append((raw / elapsed, n / elapsed))
        print("export:", export_runs, "tiles:", tile_runs, flush=True)

        latency_runs = []
        for _ in range(args.runs):
            waits = sorted(await latency(bench, conn, args.rate, args.seconds))
            q = statistics.quantiles(waits, n=100)
            latency_runs.append((q[49], q[98], waits[-1], len(waits)))
        print("latency:", latency_runs, flush=True)
        # Tiles for the serving figure: a log of the bench's size again, mirrored to the store.
        await bench.reset(conn)
        assert (
            await publish(bench.sessionmaker, bench.settings, bench.store, force=True)
        ).checkpoint_size == n
        assert await bench.store.head("tile/0/000") is not None
    finally:
        await conn.close()
        await bench.engine.dispose()
    serving = await tile_serving(bench, args)
    print("serving:", serving, flush=True)
    scaling = proof_scaling(args.memory_entries)

    def row(figure: str, ratios: list[float], rates: str, goal: str) -> str:
        return f"| {figure} | **{spread(ratios)}** | {rates} | {goal} |"

    def medians(runs: Sequence[tuple[float | int, ...]], i: int) -> float:
        return statistics.median(r[i] for r in runs)

    first = [r[0] for r in verify_runs]
    lines += [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; PostgreSQL on 127.0.0.1; {n:,} entries, "
        f"{args.runs} runs of each figure (min / median / max of the ratio; rates are medians).",
        "",
        "| figure | ratio min / median / max | rates (median) | goal |",
        "|---|---|---|---|",
        row(
            "1. verify from PostgreSQL, with the MACs ÷ COPY of the same columns to /dev/null",
            first,
            f"verify {medians(verify_runs, 3):,.0f}/s, COPY {medians(verify_runs, 2):,.0f} rows/s",
            verdict(first, 0.8),
        ),
        row("1'. the same without the MAC key (an auditor's copy)", [r[1] for r in verify_runs], "", ""),
        row(
            "2a. verify an export ÷ raw hashlib on the same bytes",
            [r[0] for r in export_runs],
            f"{medians(export_runs, 1):,.0f} entries/s",
            verdict([r[0] for r in export_runs], 0.5),
        ),
        row(
            "2b. verify from tiles (bundles and hash tiles) ÷ raw hashlib on the same bytes",
            [r[0] for r in tile_runs],
            f"{medians(tile_runs, 1):,.0f} entries/s",
            verdict([r[0] for r in tile_runs], 0.5),
        ),
        row(
            "3. sequencing and integration ÷ a multi-row INSERT of the same rows",
            [r[0] for r in seq_runs],
            f"sequencing {medians(seq_runs, 2):,.0f}/s, INSERT {medians(seq_runs, 1):,.0f} rows/s",
            verdict([r[0] for r in seq_runs], 0.5),
        ),
        row(
            f"4. integration latency p99, seconds, at {args.rate} entries/s for {args.seconds:g} s",
            [r[1] for r in latency_runs],
            f"p50 {medians(latency_runs, 0):.2f} s, max {max(r[2] for r in latency_runs):.2f} s",
            verdict([r[1] for r in latency_runs], 1.0, at_least=False),
        ),
        row(
            f"5. GET a full tile ÷ GET /readyz, requests/s, {args.concurrency} clients",
            [r[0] for r in serving],
            f"tile {medians(serving, 1):,.0f}/s, readyz {medians(serving, 2):,.0f}/s",
            verdict([r[0] for r in serving], 0.5),
        ),
        row(
            f"6. proofs and root at {args.memory_entries:,} ÷ at 1,000 entries",
            [scaling],
            "",
            verdict([scaling], 3, at_least=False),
        ),
    ]
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--tile-seconds", type=float, default=4)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--memory-entries", type=int, default=1_000_000)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    async with scratch_database("market_audit_bench") as (_server, _name, url):
        figures = await run(url, args)
    print(figures)
    if not args.no_readme:
        write_readme_section("bench_audit.py", figures)


if __name__ == "__main__":
    asyncio.run(main())
