"""The API gateway against calling its upstream directly, on this machine, in the same run.

Starts a small upstream (one uvicorn worker, a fixed JSON body) and `market serve` (one uvicorn
worker; SQLite in a scratch data dir, or MARKET_BENCH_DATABASE_URL's PostgreSQL with --postgres),
seeds an API product whose upstream is that server and a buyer's licence of 2,000,000 calls,
then, `--runs` times, measures the same GET directly and through `/gateway/{product}/rates`:

    gateway calls/s ÷ direct calls/s (--concurrency clients each)   goal >= 0.5
    added p50 latency (gateway p50 - direct p50, one client)          goal <= 2 ms
    gateway p99 ÷ p50 (one client)                                    goal <= 5
    gateway server RSS (peak)                                         goal <= 200 MB

Latency is measured with one client, so it is the time the gateway adds to a call rather than
queueing behind the other clients; the figures at --concurrency are printed beside it. After
the runs the gateway is stopped (SIGTERM: it writes its counts and gives its reservation
back) and the licence's counted calls are checked against the 2xx answers the clients saw.

    .venv/bin/python bench/bench_gateway.py [--seconds 8] [--concurrency 16] [--runs 3] [--no-readme]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: import this checkout's `market` and `tests`

import httpx  # noqa: E402
from bench_purchase import (  # noqa: E402
    PeakRss,
    Server,
    free_port,
    machine,
    scratch_database,
    write_readme_section,
)

QUANTITY = 2_000_000
BODY = b'{"currency":"CNY","rate":"7.1234","as_of":"2026-11-30"}'


async def upstream_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The seller's API: a fixed JSON body, whatever is asked."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": BODY})


def start_upstream() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench_gateway:upstream_app",
            "--app-dir",
            str(ROOT / "bench"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
            "--lifespan",
            "off",
        ],
        cwd=ROOT,
    )
    return proc, f"http://127.0.0.1:{port}"


async def wait_up(url: str) -> None:
    async with httpx.AsyncClient() as c:
        for _ in range(200):
            try:
                await c.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


async def seed(server: Server, database_url: str, upstream_url: str) -> dict[str, str]:
    """In-process, on the database the server will use: an API product whose upstream is the
    bench upstream, bought by a buyer (quote, order, payment), and the buyer's credential."""
    from market.app import create_app
    from market.db.migrate import upgrade
    from market.settings import Settings
    from tests.api.factories import Api
    from tests.api.gateway_factories import bought_api

    await asyncio.to_thread(upgrade, database_url)
    settings = Settings(mode="embedded", data_dir=server.data_dir, database_url=database_url, log_json=False)
    app = create_app(settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://seed") as c:
            b = await bought_api(
                Api(c, app),
                quantity=QUANTITY,
                plan={
                    "kind": "fixed",
                    "unit_price": "0.01",
                    "unit": "per_call",
                    "currency": "CNY",
                    "plan_version": 1,
                },
                upstream={
                    "base_url": upstream_url,
                    "allowed_path_prefixes": ["/"],
                    "rate_limit": "1000000/second",
                },
            )
    finally:
        await app.state.engine.dispose()
    return {"product_id": b.product_id, "licence_id": b.licence_id, "credential": b.credential}


async def calls_counted(server: Server, database_url: str, licence_id: str) -> int:
    from sqlalchemy import select

    from market.app import create_app
    from market.delivery.models import Entitlement
    from market.settings import Settings

    app = create_app(Settings(mode="embedded", data_dir=server.data_dir, database_url=database_url))
    try:
        async with app.state.sessionmaker() as s:
            used = await s.scalar(
                select(Entitlement.calls_used).where(Entitlement.licence_id == uuid.UUID(licence_id))
            )
    finally:
        await app.state.engine.dispose()
    return int(used or 0)


async def load(
    url: str, headers: dict[str, str], concurrency: int, seconds: float, pid: int
) -> dict[str, float]:
    latencies: list[float] = []
    failures: dict[int, int] = {}
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(timeout=30, limits=limits, headers=headers) as c:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                r = await c.get(url)
                if r.status_code != 200:
                    failures[r.status_code] = failures.get(r.status_code, 0) + 1
                    continue
                latencies.append(time.perf_counter() - t0)

        started, rss = time.perf_counter(), PeakRss(pid)
        await asyncio.gather(rss.sample_until(deadline), *(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if failures:
        print(f"  non-200 answers: {failures}")
    qs = statistics.quantiles(latencies, n=100)
    return {
        "rate": len(latencies) / elapsed,
        "count": len(latencies),
        "p50_ms": qs[49] * 1000,
        "p99_ms": qs[98] * 1000,
        "rss_mb": rss.peak,
    }


async def one_run(
    n: int,
    direct_url: str,
    gateway_url: str,
    auth: dict[str, str],
    args: argparse.Namespace,
    pids: tuple[int, int],
) -> dict[str, Any]:
    up_pid, gw_pid = pids
    warm = await load(gateway_url, auth, args.concurrency, 1.0, gw_pid)  # connections, caches, a block
    await load(direct_url, {}, args.concurrency, 1.0, up_pid)
    out: dict[str, Any] = {}
    for label, conc in (("busy", args.concurrency), ("one", 1)):
        direct = await load(direct_url, {}, conc, args.seconds, up_pid)
        gateway = await load(gateway_url, auth, conc, args.seconds, gw_pid)
        out[label] = {"direct": direct, "gateway": gateway}
        print(
            f"run {n} {conc:>2} client(s): direct {direct['rate']:.0f}/s p50 {direct['p50_ms']:.2f} ms "
            f"p99 {direct['p99_ms']:.2f} ms | gateway {gateway['rate']:.0f}/s p50 {gateway['p50_ms']:.2f} ms "
            f"p99 {gateway['p99_ms']:.2f} ms rss {gateway['rss_mb']:.0f} MB"
        )
    busy, one = out["busy"], out["one"]
    return {
        "ratio": busy["gateway"]["rate"] / busy["direct"]["rate"],
        "added_p50": one["gateway"]["p50_ms"] - one["direct"]["p50_ms"],
        "spread": one["gateway"]["p99_ms"] / one["gateway"]["p50_ms"],
        "rss": max(busy["gateway"]["rss_mb"], one["gateway"]["rss_mb"]),
        "busy_added_p50": busy["gateway"]["p50_ms"] - busy["direct"]["p50_ms"],
        "busy_spread": busy["gateway"]["p99_ms"] / busy["gateway"]["p50_ms"],
        "direct_rate": busy["direct"]["rate"],
        "gateway_rate": busy["gateway"]["rate"],
        "calls": warm["count"] + sum(p["gateway"]["count"] for p in out.values()),
    }


def report(runs: list[dict[str, Any]], args: argparse.Namespace, database: str, counted: str) -> str:
    def row(label: str, key: str, unit: str, goal: str | None, good: Any, fmt: str = ".2f") -> str:
        values = sorted(r[key] for r in runs)
        median = statistics.median(values)
        verdict = "" if goal is None else f"{goal}, {'met' if good(median) else '**missed**'}"
        low, high = f"{values[0]:{fmt}}{unit}", f"{values[-1]:{fmt}}{unit}"
        return f"| {label} | {low} | **{median:{fmt}}{unit}** | {high} | {verdict} |"

    return "\n".join(
        [
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}, load average "
            f"{os.getloadavg()[0]:.1f} at the end; {database}; one uvicorn worker each for the upstream "
            f"and the gateway; {args.runs} runs of {args.seconds:g} s per phase; httpx clients in this "
            "process.",
            "",
            "| figure | min | median | max | goal (judged on the median) |",
            "|---|---|---|---|---|",
            row(f"direct calls/s ({args.concurrency} clients)", "direct_rate", "", None, None, ".0f"),
            row(f"gateway calls/s ({args.concurrency} clients)", "gateway_rate", "", None, None, ".0f"),
            row("**gateway ÷ direct calls/s**", "ratio", "", "≥ 0.5", lambda v: v >= 0.5),
            row("**added p50 latency** (1 client)", "added_p50", " ms", "≤ 2 ms", lambda v: v <= 2),
            row("**gateway p99 ÷ p50** (1 client)", "spread", "", "≤ 5", lambda v: v <= 5),
            row("**gateway RSS, peak**", "rss", " MB", "≤ 200 MB", lambda v: v <= 200, ".0f"),
            row(f"added p50 latency ({args.concurrency} clients)", "busy_added_p50", " ms", None, None),
            row(f"gateway p99 ÷ p50 ({args.concurrency} clients)", "busy_spread", "", None, None),
            "",
            f"Counting: {counted}.",
            "",
        ]
    )


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--postgres", action="store_true", help="MARKET_BENCH_DATABASE_URL's PostgreSQL, not SQLite"
    )
    ap.add_argument("--no-readme", action="store_true")
    args = ap.parse_args()
    if args.postgres:
        async with scratch_database("market_gateway_bench") as (server_url, _name, url):
            text = await bench(args, url, f"PostgreSQL on {server_url.host}")
    else:
        text = await bench(args, None, "SQLite (the embedded default)")
    print(text)
    if not args.no_readme:
        write_readme_section("bench_gateway.py", text)


async def bench(args: argparse.Namespace, database_url: str | None, database: str) -> str:
    upstream, upstream_url = start_upstream()
    server = Server(database_url or "")
    url = database_url or f"sqlite+aiosqlite:///{server.data_dir / 'market.db'}"
    server.env["MARKET_DATABASE_URL"] = url
    try:
        await wait_up(upstream_url)
        world = await seed(server, url, upstream_url)
        logging.getLogger("httpx").setLevel(logging.WARNING)  # the seed's app logs every request
        await server.start()
        assert server.proc is not None
        auth = {"X-Delivery-Credential": world["credential"]}
        gateway_url = f"{server.base}/gateway/{world['product_id']}/rates"
        runs = [
            await one_run(
                n + 1, f"{upstream_url}/rates", gateway_url, auth, args, (upstream.pid, server.proc.pid)
            )
            for n in range(args.runs)
        ]
        server.proc.send_signal(signal.SIGTERM)  # lifespan end: counts written, reservation given back
        server.proc.wait(30)
        answered = sum(r["calls"] for r in runs)
        counted = await calls_counted(server, url, world["licence_id"])
        print(f"gateway 200s seen by the clients: {answered}; calls counted on the licence: {counted}")
        check = (
            f"the clients saw {answered} successful gateway calls; after the gateway stopped the licence "
            f"counted {counted} ({'exact' if answered == counted else '**not exact**'})"
        )
        return report(runs, args, database, check)
    except Exception:
        print(server.log_tail())
        raise
    finally:
        server.stop()
        upstream.terminate()
        upstream.wait(10)


if __name__ == "__main__":
    asyncio.run(main())
