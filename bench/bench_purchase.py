"""Purchases per second through the real HTTP stack, against this machine's own pace.

Starts `market serve` (uvicorn) on a free loopback port against a fresh PostgreSQL database
`market_bench_<random>` (dropped at the end), seeds a seller with listed non-exclusive products
and N buyers through the HTTP API, then for a bounded time runs, with a bounded number of
concurrent clients, the purchase flow quote -> order (Idempotency-Key) -> operator offline
confirmation -> GET licence. In the same run and at the same concurrency it measures a trivial
endpoint (GET /readyz: one SELECT 1 through the same stack) and, when the binary exists,
pgbench TPC-B on the same server. Ratios, not raw rates, are the figures that travel:

    purchases/s / trivial req/s   goal >= 1/3
    purchase p99 / p50            goal <= 10
    server RSS (peak)             goal <= 300 MB

    .venv/bin/python bench/bench_purchase.py [--seconds 20] [--concurrency 8] [--buyers 20]

Env MARKET_BENCH_DATABASE_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/test) names
the server and a database to connect to for CREATE/DROP DATABASE. Writes bench/README.md's
figures (between its markers) unless --no-readme.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: import this checkout's `market`

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from market.participants.credit_code import (  # noqa: E402
    ALPHABET,
    credit_code_check_char,
    organisation_check_char,
)

PASSWORD = "bench horse battery staple"  # noqa: S105 - throwaway accounts in a dropped db
PURPOSE = "risk_control"
SCENARIO = "credit risk scoring"
CHECKLIST = {
    "classification_present": True,
    "lawful_source": True,
    "fingerprint": True,
    "rights_evidence": True,
}


def credit_code(rng: random.Random) -> str:
    while True:
        body = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
        org = body + organisation_check_char(body)
        if all(ch in ALPHABET for ch in org):  # an 'X' check char is not allowed here
            first17 = "91220100" + org
            return first17 + credit_code_check_char(first17)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    try:
        import psutil

        return float(psutil.Process(pid).memory_info().rss) / 2**20
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def pg_connect(url: Any, database: str | None = None) -> asyncpg.Connection:
    return await asyncpg.connect(
        user=url.username,
        password=url.password,
        host=url.host,
        port=url.port or 5432,
        database=database or url.database,
    )


class Server:
    """`market serve` in a child process with its own database and data dir."""

    def __init__(self, database_url: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.data_dir = Path(tempfile.mkdtemp(prefix="market-bench-"))
        self.env = {
            **os.environ,
            "MARKET_DATABASE_URL": database_url,
            "MARKET_DATA_DIR": str(self.data_dir),
            "MARKET_MODE": "embedded",
            "MARKET_PAYMENT_PROVIDER": "offline",
            "MARKET_LOG_JSON": "false",
            # The installed `market` script must import this checkout's packages.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        self.market = str(Path(sys.executable).with_name("market"))
        self.proc: subprocess.Popen[bytes] | None = None

    def create_staff(self, email: str, role: str) -> None:
        subprocess.run(
            [self.market, "create-staff", email, "--role", role, "--password", PASSWORD],
            env=self.env,
            check=True,
            capture_output=True,
            cwd=ROOT,
        )

    def spawn(self) -> subprocess.Popen[bytes]:
        log = open(self.data_dir / "server.log", "wb")
        return subprocess.Popen(
            [self.market, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--no-seed"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )

    async def start(self) -> None:
        self.proc = self.spawn()
        async with httpx.AsyncClient(base_url=self.base) as c:
            for _ in range(300):
                if self.proc.poll() is not None:
                    raise SystemExit("server exited:\n" + self.log_tail())
                try:
                    if (await c.get("/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise SystemExit("server did not become ready in 30 s")

    def log_tail(self) -> str:
        return "\n".join((self.data_dir / "server.log").read_text().splitlines()[-30:])

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def ok(r: httpx.Response, *codes: int) -> dict[str, Any]:
    if r.status_code not in (codes or (200, 201)):
        raise RuntimeError(f"{r.request.method} {r.request.url.path} -> {r.status_code} {r.text[:300]}")
    body: dict[str, Any] = r.json()
    return body


async def login(c: httpx.AsyncClient, email: str) -> dict[str, str]:
    r = ok(await c.post("/v1/auth/token", data={"username": email, "password": PASSWORD}))
    return {"Authorization": f"Bearer {r['access_token']}"}


async def sign_up(c: httpx.AsyncClient, rng: random.Random, roles: list[str]) -> dict[str, str]:
    n = secrets.token_hex(4)
    email = f"bench-{n}@org{n}.example.cn"
    ok(
        await c.post(
            "/v1/participants",
            json={
                "kind": "organisation",
                "name": f"Bench {n}",
                "credit_code": credit_code(rng),
                "roles": roles,
                "user": {"email": email, "password": PASSWORD, "display_name": f"Bench {n}"},
            },
        )
    )
    return await login(c, email)


async def seed(server: Server, db: Any, db_name: str, products: int, buyers: int) -> dict[str, Any]:
    """Seller, registered resource, listed products, buyers: through the API, bar one step."""
    rng = random.Random(7)
    server.create_staff("operator@bench.example.cn", "operator")
    async with httpx.AsyncClient(base_url=server.base, timeout=60) as c:
        operator = await login(c, "operator@bench.example.cn")
        seller = await sign_up(c, rng, ["seller"])
        resource = ok(
            await c.post(
                "/v1/resources",
                headers=seller,
                json={
                    "title": "长春企业经营数据",
                    "category": "enterprise",
                    "grade": "general",
                    "lawful_source": "collected in our own operations under contract",
                },
            )
        )
        sample = b"id,revenue\n1,100\n"
        import hashlib

        ok(
            await c.put(
                f"/v1/resources/{resource['id']}/sample",
                content=sample,
                headers={**seller, "X-Expected-SHA256": hashlib.sha256(sample).hexdigest()},
            )
        )
        reg = ok(
            await c.post(
                "/v1/registrations",
                headers=seller,
                json={"resource_id": resource["id"], "rights_evidence": "own collection, contracts on file"},
            )
        )
        approved = ok(
            await c.post(
                f"/v1/registrations/{reg['id']}/decision",
                headers=operator,
                json={"decision": "approve", "checklist": CHECKLIST},
            )
        )
        # Let the 10-working-day publicity period pass: demo time (embedded mode) moves the
        # server's business clock past its end and runs the finalisation job; no database edit.
        ok(
            await c.post(
                "/v1/admin/clock/advance",
                headers=operator,
                json={"until": approved["publicity_ends_at"]},
            )
        )
        ok(await c.post("/v1/registrations/finalise-due", headers=operator))
        tree = ok(await c.get(f"/v1/resources/{resource['id']}/rights", headers=seller))
        holding = next(n["grant"]["id"] for n in tree["roots"] if n["grant"]["revoked_at"] is None)
        seller_id = reg["applicant_id"]
        product_ids = []
        for i in range(products):
            p = ok(
                await c.post(
                    "/v1/products",
                    headers=seller,
                    json={
                        "title": f"长春企业经营指数 {i}",
                        "resource_ids": [resource["id"]],
                        "delivery_mode": "api",
                        "scenarios": [SCENARIO],
                        "exclusivity": "non_exclusive",
                        "price_plan": {"kind": "fixed", "unit_price": "2.00", "currency": "CNY"},
                        "licence_template": {
                            "permitted_purposes": [PURPOSE],
                            "scenarios": [SCENARIO],
                            "term_days": 365,
                        },
                    },
                )
            )
            ok(
                await c.post(
                    "/v1/grants",
                    headers=seller,
                    json={
                        "parent_grant_id": holding,
                        "kind": "operating",
                        "holder_id": seller_id,
                        "subject_kind": "product",
                        "subject_id": p["id"],
                        "purposes": [PURPOSE],
                    },
                )
            )
            listing = ok(await c.post(f"/v1/products/{p['id']}/listing", headers=seller))
            if listing["product"]["listing_status"] != "listed":
                ok(
                    await c.post(
                        f"/v1/listings/{p['id']}/decision",
                        headers=operator,
                        json={"action": "list", "reason": "bench"},
                    )
                )
            product_ids.append(p["id"])
        buyer_headers = [await sign_up(c, rng, ["buyer"]) for _ in range(buyers)]
    return {"operator": operator, "products": product_ids, "buyers": buyer_headers}


async def purchase(c: httpx.AsyncClient, world: dict[str, Any], rng: random.Random) -> None:
    buyer = rng.choice(world["buyers"])
    quote = ok(
        await c.post(
            "/v1/quotes",
            headers=buyer,
            json={
                "product_id": rng.choice(world["products"]),
                "quantity": 1,
                "purpose": PURPOSE,
                "scenario": SCENARIO,
            },
        )
    )
    order = ok(
        await c.post(
            "/v1/orders",
            json={"quote_id": quote["id"]},
            headers={**buyer, "Idempotency-Key": uuid.uuid4().hex},
        )
    )
    paid = ok(await c.post(f"/v1/payments/{order['id']}/confirmation", headers=world["operator"]))
    ok(await c.get(f"/v1/licences/{paid['licence_id']}", headers=buyer), 200)


async def readyz(c: httpx.AsyncClient, world: dict[str, Any], rng: random.Random) -> None:
    ok(await c.get("/readyz"), 200)


async def load(
    base: str,
    step: Callable[[httpx.AsyncClient, dict[str, Any], random.Random], Awaitable[None]],
    world: dict[str, Any],
    concurrency: int,
    seconds: float,
    pid: int,
) -> dict[str, float]:
    latencies: list[float] = []
    errors: list[str] = []
    peak_rss = rss_mb(pid)
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(n: int) -> None:
        rng = random.Random(n)
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as c:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    await step(c, world, rng)
                except Exception as exc:  # counted, shown once; a failed flow is not a sample
                    errors.append(str(exc))
                    continue
                latencies.append(time.perf_counter() - t0)

    async def sampler() -> None:
        nonlocal peak_rss
        while time.perf_counter() < deadline:
            peak_rss = max(peak_rss, rss_mb(pid))
            await asyncio.sleep(0.2)

    started = time.perf_counter()
    await asyncio.gather(sampler(), *(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    if errors:
        print(f"  {len(errors)} failed flows, first: {errors[0]}")
    qs = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    return {
        "rate": len(latencies) / elapsed,
        "count": len(latencies),
        "errors": len(errors),
        "p50_ms": qs[49] * 1000,
        "p99_ms": qs[98] * 1000,
        "rss_mb": peak_rss,
    }


def pgbench(db: Any, name: str, concurrency: int, seconds: int) -> float | None:
    exe = shutil.which("pgbench")
    if not exe:
        return None
    conn = ["-h", db.host, "-p", str(db.port or 5432), "-U", db.username or "postgres"]
    env = {**os.environ, **({"PGPASSWORD": db.password} if db.password else {})}
    subprocess.run([exe, *conn, "-i", "-q", name], env=env, check=True, capture_output=True)
    out = subprocess.run(
        [exe, *conn, "-c", str(concurrency), "-j", str(concurrency), "-T", str(seconds), name],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for line in out.splitlines():
        if line.startswith("tps =") and "without initial" in line:
            return float(line.split()[2])
    return None


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}"


def write_readme_section(script: str, figures: str) -> None:
    """Rewrite `script`'s figures in bench/README.md: only the text between its two markers,
    so each bench keeps its own figures and the hand-written ones stay."""
    start, end = f"<!-- {script} figures: rewritten by bench/{script} -->", f"<!-- /{script} figures -->"
    path = ROOT / "bench" / "README.md"
    content = path.read_text()
    if start not in content or end not in content:
        print(f"bench/README.md has no markers for {script}; not rewritten")
        return
    head, rest = content.split(start, 1)
    path.write_text(f"{head}{start}\n\n{figures}\n{end}{rest.split(end, 1)[1]}")


@asynccontextmanager
async def scratch_database(prefix: str) -> AsyncIterator[tuple[Any, str, str]]:
    """(server URL, name, URL) of a new database on MARKET_BENCH_DATABASE_URL's server, dropped
    on the way out, also after a failure."""
    server_url = make_url(
        os.environ.get("MARKET_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    )
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = await pg_connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = server_url.set(drivername="postgresql+asyncpg", database=name)
    try:
        yield server_url, name, url.render_as_string(hide_password=False)
    finally:
        admin = await pg_connect(server_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--buyers", type=int, default=20)
    ap.add_argument("--products", type=int, default=5)
    ap.add_argument("--pgbench-seconds", type=int, default=10)
    ap.add_argument("--no-readme", action="store_true")
    args = ap.parse_args()

    async with scratch_database("market_bench") as (server_url, name, db_url):
        buy, ready, idle_rss, tps = await measure(Server(db_url), server_url, name, args)
    report = figures(args, server_url, buy, ready, idle_rss, tps)
    print(report)
    if not args.no_readme:
        write_readme_section("bench_purchase.py", report)


async def measure(
    server: Server, server_url: Any, name: str, args: argparse.Namespace
) -> tuple[dict[str, float], dict[str, float], float, float | None]:
    try:
        await server.start()
        assert server.proc is not None
        print(f"server pid {server.proc.pid} on {server.base}, database {name}; seeding")
        world = await seed(server, server_url, name, args.products, args.buyers)
        idle_rss = rss_mb(server.proc.pid)
        print(f"purchase flow: {args.concurrency} clients for {args.seconds:g} s")
        buy = await load(server.base, purchase, world, args.concurrency, args.seconds, server.proc.pid)
        print(f"  {buy}")
        print(f"trivial GET /readyz: {args.concurrency} clients for {args.seconds:g} s")
        ready = await load(server.base, readyz, world, args.concurrency, args.seconds, server.proc.pid)
        print(f"  {ready}")
    except Exception:
        print(server.log_tail())
        raise
    finally:
        server.stop()
    tps = pgbench(server_url, name, args.concurrency, args.pgbench_seconds)
    return buy, ready, idle_rss, tps


def figures(
    args: argparse.Namespace,
    server_url: Any,
    buy: dict[str, float],
    ready: dict[str, float],
    idle_rss: float,
    tps: float | None,
) -> str:
    ratio = buy["rate"] / ready["rate"]
    spread = buy["p99_ms"] / buy["p50_ms"]
    peak = max(buy["rss_mb"], ready["rss_mb"])

    def verdict(good: bool) -> str:
        return "met" if good else "**missed**"

    return "\n".join(
        [
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; "
            f"PostgreSQL on {server_url.host}; one uvicorn worker; {args.concurrency} concurrent "
            f"clients, {args.seconds:g} s per phase; {args.products} products, {args.buyers} buyers.",
            "",
            "| figure | value | goal |",
            "|---|---|---|",
            f"| purchases/s (quote, order, confirmation, licence) | {buy['rate']:.1f} "
            f"({buy['count']:.0f} done, {buy['errors']:.0f} failed) | |",
            f"| purchase latency p50 / p99 | {buy['p50_ms']:.0f} ms / {buy['p99_ms']:.0f} ms | |",
            f"| trivial GET /readyz req/s | {ready['rate']:.1f} (p50 {ready['p50_ms']:.1f} ms) | |",
            f"| **purchases/s ÷ trivial req/s** | **{ratio:.3f}** | ≥ 0.333, {verdict(ratio >= 1 / 3)} |",
            f"| per HTTP request: 4 × purchases/s ÷ trivial req/s | {4 * ratio:.3f} | |",
            f"| **purchase p99 ÷ p50** | **{spread:.2f}** | ≤ 10, {verdict(spread <= 10)} |",
            f"| **server RSS, peak** (idle after seeding {idle_rss:.0f} MB) | **{peak:.0f} MB** "
            f"| ≤ 300 MB, {verdict(peak <= 300)} |",
            f"| pgbench TPC-B tps (scale 1, -c {args.concurrency} -T {args.pgbench_seconds}) | "
            + (f"{tps:.0f} | |" if tps is not None else "pgbench not found | |"),
            "",
        ]
    )


if __name__ == "__main__":
    asyncio.run(main())
