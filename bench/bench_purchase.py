"""Purchases per second through the real HTTP stack, against this machine's own pace.

Starts `market serve` (uvicorn) on a free loopback port against a fresh PostgreSQL database
`market_bench_<random>` (dropped at the end), seeds a seller with listed non-exclusive products
and N buyers with topped-up prepaid accounts through the HTTP API, then for a bounded time runs,
with a bounded number of concurrent clients, the prepaid purchase quote -> order paid from the
balance, the offline purchase quote -> order (Idempotency-Key) -> operator offline confirmation
-> GET licence, and a trivial endpoint (GET /readyz: one SELECT 1 through the same stack), each
`--runs` times, measuring the server's CPU per flow; then, when the binary exists, pgbench TPC-B
on the same server. Ratios, not raw rates, are the figures that travel:

    server CPU per prepaid purchase / per /readyz   goal <= 5
    prepaid purchases/s / /readyz req/s             goal >= 0.2
    server CPU per offline purchase / per /readyz   goal <= 12
    prepaid purchase p99 / p50                      goal <= 5
    server RSS (peak)                               goal <= 300 MB

    .venv/bin/python bench/bench_purchase.py [--seconds 20] [--concurrency 8] [--buyers 20] [--runs 3]

Env MARKET_BENCH_DATABASE_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/test) names
the server and a database to connect to for CREATE/DROP DATABASE. Writes bench/README.md's
figures (between its markers) unless --no-readme.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
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
VERIFICATION = {
    "identity_documents": True,
    "legal_representative": True,
    "contact": True,
    "intended_use": True,
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


class PeakRss:
    """The highest resident set size of a process seen while sampling it (every 0.2 s)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, rss_mb(pid)

    async def sample_until(self, deadline: float) -> None:
        while time.perf_counter() < deadline:
            self.peak = max(self.peak, rss_mb(self.pid))
            await asyncio.sleep(0.2)


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far (user + system), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
            # The seed signs up a seller and every buyer from one address, more than the
            # sign-up limit per address allows in an hour.
            "MARKET_RATE_LIMIT_SIGNUP_IP": "1000/hour",
            # ... and logs each of them in, more than the logins per address allow in a minute
            # once there are more than 30 (bench_growth seeds 40 buyers).
            "MARKET_RATE_LIMIT_LOGIN_IP": "1000/minute",
            # The 50 anonymous catalogue clients all come from this one address too; the limit
            # per address still runs (its cost is measured), it just does not refuse them.
            "MARKET_RATE_LIMIT_PUBLIC_IP": "1000000/minute",
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


async def sign_up(
    c: httpx.AsyncClient, rng: random.Random, roles: list[str], operator: dict[str, str]
) -> dict[str, str]:
    """An organisation signed up, verified by the operator (only a verified participant lists
    or buys, issue 18), and its user signed in."""
    n = secrets.token_hex(4)
    email = f"bench-{n}@org{n}.example.cn"
    signed_up = ok(
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
    participant = signed_up["participant"]
    if participant["verification_status"] != "verified":
        ok(
            await c.post(
                f"/v1/participants/{participant['id']}/verification",
                headers=operator,
                json={"decision": "verify", "checklist": VERIFICATION, "reason": "bench participant"},
            )
        )
    return await login(c, email)


async def register(
    c: httpx.AsyncClient, seller: dict[str, str], operator: dict[str, str], title: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A resource with its sample, its registration approved: (resource, approved registration)."""
    resource = ok(
        await c.post(
            "/v1/resources",
            headers=seller,
            json={
                "title": title,
                "category": "enterprise",
                "grade": "general",
                "lawful_source": "collected in our own operations under contract",
            },
        )
    )
    sample = b"id,revenue\n1,100\n"
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
    return resource, approved


async def list_product(
    c: httpx.AsyncClient,
    seller: dict[str, str],
    operator: dict[str, str],
    seller_id: str,
    resource_id: str,
    holding: str,
    name: str,
) -> str:
    """A product over the resource, its operating right granted, listed; its id."""
    p = ok(
        await c.post(
            "/v1/products",
            headers=seller,
            json={
                "title": f"长春企业经营指数 {name}",
                "resource_ids": [resource_id],
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
    return str(p["id"])


async def seed(server: Server, db: Any, db_name: str, products: int, buyers: int) -> dict[str, Any]:
    """Seller, registered resources, listed products, buyers: through the API, bar one step.

    The purchases buy `products` products over one resource; the rest of a catalogue page
    (CATALOGUE_PAGE listed products in all) is listed over a second resource, so the purchases'
    rights tree (a holding right and one operating right per product) stays as small as with
    five products, and the catalogue phase still pages through 50."""
    rng = random.Random(7)
    server.create_staff("operator@bench.example.cn", "operator")
    async with httpx.AsyncClient(base_url=server.base, timeout=60) as c:
        operator = await login(c, "operator@bench.example.cn")
        seller = await sign_up(c, rng, ["seller"], operator)
        registered = [
            await register(c, seller, operator, title) for title in ("长春企业经营数据", "吉林物流数据")
        ]
        # Let the 10-working-day publicity period pass: demo time (embedded mode) moves the
        # server's business clock past its end and runs the finalisation job; no database edit.
        ok(
            await c.post(
                "/v1/admin/clock/advance",
                headers=operator,
                json={"until": max(approved["publicity_ends_at"] for _, approved in registered)},
            )
        )
        ok(await c.post("/v1/registrations/finalise-due", headers=operator))
        seller_id = registered[0][1]["applicant_id"]
        product_ids = []
        for n, (resource, _) in enumerate(registered):
            tree = ok(await c.get(f"/v1/resources/{resource['id']}/rights", headers=seller))
            holding = next(r["grant"]["id"] for r in tree["roots"] if r["grant"]["revoked_at"] is None)
            count = products if n == 0 else max(0, CATALOGUE_PAGE - products)
            for i in range(count):
                p = await list_product(c, seller, operator, seller_id, resource["id"], holding, f"{n}-{i}")
                if n == 0:
                    product_ids.append(p)
        buyer_headers = [await sign_up(c, rng, ["buyer"], operator) for _ in range(buyers)]
        for headers in buyer_headers:  # each buyer's prepaid account, opened and topped up
            me = ok(await c.get("/v1/auth/me", headers=headers))
            account = ok(
                await c.post(
                    "/v1/accounts",
                    json={"participant_id": me["participant_id"], "currency": "CNY"},
                    headers={**operator, "Idempotency-Key": uuid.uuid4().hex},
                )
            )
            top_up = ok(
                await c.post(
                    f"/v1/accounts/{account['id']}/top-ups",
                    json={"amount_minor": 10**11, "method": "bank_transfer"},
                    headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                )
            )
            ok(await c.post(f"/v1/top-ups/{top_up['id']}/confirmation", headers=operator))
    return {"operator": operator, "products": product_ids, "buyers": buyer_headers}


async def quoted(
    c: httpx.AsyncClient, world: dict[str, Any], rng: random.Random
) -> tuple[dict[str, str], dict[str, Any]]:
    """A random buyer and its quote for a random product: the first request of every purchase."""
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
    return buyer, quote


async def ordered(c: httpx.AsyncClient, buyer: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    return ok(await c.post("/v1/orders", json=body, headers={**buyer, "Idempotency-Key": uuid.uuid4().hex}))


async def prepaid_purchase(c: httpx.AsyncClient, world: dict[str, Any], rng: random.Random) -> None:
    """A machine buyer's purchase: quote, then an order paid from its balance, delivered at once."""
    buyer, quote = await quoted(c, world, rng)
    order = await ordered(c, buyer, {"quote_id": quote["id"], "payment_method": "account"})
    if order["status"] != "delivered" or not order["delivery"]:
        raise RuntimeError(f"prepaid order not delivered: {order['status']}")


async def purchase(c: httpx.AsyncClient, world: dict[str, Any], rng: random.Random) -> None:
    """The offline purchase: quote, order, an operator confirms the transfer, the licence."""
    buyer, quote = await quoted(c, world, rng)
    order = await ordered(c, buyer, {"quote_id": quote["id"]})
    paid = ok(await c.post(f"/v1/payments/{order['id']}/confirmation", headers=world["operator"]))
    ok(await c.get(f"/v1/licences/{paid['licence_id']}", headers=buyer), 200)


async def readyz(c: httpx.AsyncClient, world: dict[str, Any], rng: random.Random) -> None:
    ok(await c.get("/readyz"), 200)


async def catalogue_page(c: httpx.AsyncClient, world: dict[str, Any], rng: random.Random) -> None:
    """An anonymous visitor's catalogue page of 50 products."""
    page = ok(await c.get(f"/v1/catalog?limit={CATALOGUE_PAGE}"), 200)
    if len(page["items"]) != CATALOGUE_PAGE:
        raise RuntimeError(f"a catalogue page of {len(page['items'])}, not {CATALOGUE_PAGE}")


CATALOGUE_PAGE = 50


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

    started, cpu_before = time.perf_counter(), cpu_seconds(pid)
    rss = PeakRss(pid)
    await asyncio.gather(rss.sample_until(deadline), *(worker(i) for i in range(concurrency)))
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu_before
    if errors:
        print(f"  {len(errors)} failed flows, first: {errors[0]}")
    qs = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    return {
        "rate": len(latencies) / elapsed,
        "count": len(latencies),
        "errors": len(errors),
        "p50_ms": qs[49] * 1000,
        "p99_ms": qs[98] * 1000,
        "rss_mb": rss.peak,
        # Server CPU (user + system) per completed flow, in milliseconds.
        "cpu_ms": cpu * 1000 / max(1, len(latencies)),
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
    ap.add_argument("--products", type=int, default=5, help="Products the purchases buy (over one resource).")
    ap.add_argument("--catalogue-clients", type=int, default=50)
    ap.add_argument("--runs", type=int, default=3, help="Repetitions of the phases (min/median/max).")
    ap.add_argument("--pgbench-seconds", type=int, default=10)
    ap.add_argument("--no-readme", action="store_true")
    ap.add_argument(
        "--only",
        default="",
        help="Comma-separated phases to run (prepaid, offline, readyz, catalogue, readyz_catalogue) "
        "for a quick look while profiling: prints each phase's figures and CPU over /readyz's, "
        "writes nothing and skips pgbench.",
    )
    args = ap.parse_args()

    async with scratch_database("market_bench") as (server_url, name, db_url):
        runs, idle_rss, tps = await measure(Server(db_url), server_url, name, args)
    if args.only:
        for run in runs:
            readyz_cpu = run.get("readyz", {}).get("cpu_ms")
            for phase, got in run.items():
                over = f", CPU / readyz {got['cpu_ms'] / readyz_cpu:.2f}" if readyz_cpu else ""
                print(f"{phase}: {got['rate']:.1f}/s, CPU {got['cpu_ms']:.2f} ms{over}")
        return
    report = figures(args, server_url, runs, idle_rss, tps)
    print(report)
    if not args.no_readme:
        write_readme_section("bench_purchase.py", report)


Run = dict[str, dict[str, float]]


async def measure(
    server: Server, server_url: Any, name: str, args: argparse.Namespace
) -> tuple[list[Run], float, float | None]:
    """Each run: the prepaid purchase (quote, order from the balance), the four-request offline
    purchase, and GET /readyz, one after the other against the same server."""
    runs: list[Run] = []
    try:
        await server.start()
        assert server.proc is not None
        pid = server.proc.pid
        print(f"server pid {pid} on {server.base}, database {name}; seeding")
        world = await seed(server, server_url, name, args.products, args.buyers)
        idle_rss = rss_mb(pid)
        for n in range(args.runs):
            run: Run = {}
            for phase, step, clients in (
                ("prepaid", prepaid_purchase, args.concurrency),
                ("offline", purchase, args.concurrency),
                ("readyz", readyz, args.concurrency),
                # Issue 21's catalogue goal: 50 anonymous clients, a page of 50, against /readyz
                # at the same concurrency.
                ("catalogue", catalogue_page, args.catalogue_clients),
                ("readyz_catalogue", readyz, args.catalogue_clients),
            ):
                if args.only and phase not in args.only.split(","):
                    continue
                print(f"run {n + 1}/{args.runs} {phase}: {clients} clients for {args.seconds:g} s")
                run[phase] = await load(server.base, step, world, clients, args.seconds, pid)
                print(f"  {run[phase]}")
            runs.append(run)
    except Exception:
        print(server.log_tail())
        raise
    finally:
        server.stop()
    if args.only:
        return runs, idle_rss, None
    tps = pgbench(server_url, name, args.concurrency, args.pgbench_seconds)
    return runs, idle_rss, tps


def prepaid_round_trips() -> int:
    """Database round trips (statements, BEGIN and COMMIT included) of a returning buyer's
    prepaid purchase on PostgreSQL as this script makes it, quote (with no Idempotency-Key) +
    order: the ceilings tests/api/test_statement_counts.py pins (a buyer's first order in a
    process takes one more, which finds the account; a keyed quote two more, BEGIN and COMMIT)."""
    from tests.api.test_statement_counts import ORDER_MAX, UNKEYED_QUOTE_MAX

    return UNKEYED_QUOTE_MAX["postgres"] + ORDER_MAX["postgres"]


def figures(
    args: argparse.Namespace, server_url: Any, runs: list[Run], idle_rss: float, tps: float | None
) -> str:
    med = statistics.median

    def verdict(good: bool) -> str:
        return "met" if good else "**missed**"

    def row(label: str, values: list[float], fmt: str, goal: tuple[str, float] | None = None) -> str:
        """A figure's min / **median** / max; with a goal (at most or at least), in bold with its
        verdict on the median."""
        spread = f"{min(values):{fmt}} / **{med(values):{fmt}}** / {max(values):{fmt}}"
        if goal is None:
            return f"| {label} | {spread} | |"
        sign, bound = goal
        good = med(values) <= bound if sign == "≤" else med(values) >= bound
        return f"| **{label}** | {spread} | {sign} {bound:g}, {verdict(good)} |"

    def of(phase: str, key: str) -> list[float]:
        return [r[phase][key] for r in runs]

    def ratio(phase: str, key: str, to: tuple[str, str] | None = None) -> list[float]:
        """`phase`'s `key` over `to` (a phase and key; by default /readyz's same key), per run."""
        over_phase, over_key = to or ("readyz", key)
        return [r[phase][key] / r[over_phase][over_key] for r in runs]

    trips = prepaid_round_trips()
    peak = max(r[p]["rss_mb"] for r in runs for p in r)
    return "\n".join(
        [
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; "
            f"PostgreSQL on {server_url.host}; one uvicorn worker; {args.concurrency} concurrent "
            f"clients, {args.seconds:g} s per phase, {len(runs)} runs (each: prepaid purchases, "
            f"offline purchases, /readyz, then catalogue pages and /readyz with "
            f"{args.catalogue_clients} clients, one after the other); {args.products} products, "
            f"{args.buyers} buyers. Values are min / **median** / max over the runs; the verdict "
            "is the median's.",
            "",
            "| figure | min / **median** / max | goal |",
            "|---|---|---|",
            row("prepaid purchases/s (quote, order paid from the balance)", of("prepaid", "rate"), ".1f"),
            row("prepaid purchase latency p50 (ms)", of("prepaid", "p50_ms"), ".0f"),
            row("server CPU per prepaid purchase (ms)", of("prepaid", "cpu_ms"), ".1f"),
            row("offline purchases/s (quote, order, confirmation, licence)", of("offline", "rate"), ".1f"),
            row("server CPU per offline purchase (ms)", of("offline", "cpu_ms"), ".1f"),
            row("GET /readyz req/s", of("readyz", "rate"), ".0f"),
            row("server CPU per /readyz (ms)", of("readyz", "cpu_ms"), ".2f"),
            row("server CPU per prepaid purchase ÷ per /readyz", ratio("prepaid", "cpu_ms"), ".1f", ("≤", 5)),
            row("prepaid purchases/s ÷ /readyz req/s", ratio("prepaid", "rate"), ".3f", ("≥", 0.2)),
            f"| **round trips per prepaid purchase** (a returning buyer's, unkeyed quote, BEGIN and COMMIT "
            f"counted, pinned by "
            f"tests/api/test_statement_counts.py) | {trips} | ≤ 12, {verdict(trips <= 12)} |",
            row(
                "server CPU per offline purchase ÷ per /readyz", ratio("offline", "cpu_ms"), ".1f", ("≤", 12)
            ),
            row("offline purchases/s ÷ /readyz req/s", ratio("offline", "rate"), ".3f"),
            row(
                f"catalogue page of {CATALOGUE_PAGE} p50 (ms), {args.catalogue_clients} anonymous clients",
                of("catalogue", "p50_ms"),
                ".0f",
            ),
            row(
                f"GET /readyz p50 (ms), {args.catalogue_clients} clients",
                of("readyz_catalogue", "p50_ms"),
                ".0f",
            ),
            row(
                f"catalogue p50 ÷ /readyz p50 at {args.catalogue_clients} clients",
                ratio("catalogue", "p50_ms", to=("readyz_catalogue", "p50_ms")),
                ".2f",
                ("≤", 5),
            ),
            row(
                "prepaid purchase p99 ÷ p50",
                ratio("prepaid", "p99_ms", to=("prepaid", "p50_ms")),
                ".2f",
                ("≤", 5),
            ),
            f"| **server RSS, peak** (idle after seeding {idle_rss:.0f} MB) | {peak:.0f} MB "
            f"| ≤ 300 MB, {verdict(peak <= 300)} |",
            f"| pgbench TPC-B tps (scale 1, -c {args.concurrency} -T {args.pgbench_seconds}) | "
            + (f"{tps:.0f} | |" if tps is not None else "pgbench not found | |"),
            "",
        ]
    )


if __name__ == "__main__":
    asyncio.run(main())
