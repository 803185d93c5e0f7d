"""Order and catalogue-search latency as the tables grow, against the same server at a small size.

One run, one fresh PostgreSQL database `market_growth_<random>` (dropped at the end, also on
failure), one `market serve` process. The realistic base objects (seller, registered resource,
listed products, buyers) are seeded through the HTTP API as bench_purchase.py does; then the
big tables are bulk-loaded with SQL (INSERT ... SELECT FROM generate_series, COPY) to a small
size, the server is measured, the same tables are grown to the large size, and the same server
is measured again. The figures that travel are the ratios:

    POST /v1/orders p50 at 1,000,000 orders and audit entries / at 10,000     goal <= 1.2
    GET /v1/catalog p50 at 100,000 listed products / at 1,000                 goal <= 3

    .venv/bin/python bench/bench_growth.py [--orders 1000000] [--listings 100000] \
        [--small-orders 10000] [--small-listings 1000] [--explain] [--no-readme]

A quick smoke run: `--orders 20000 --listings 5000`. Env MARKET_BENCH_DATABASE_URL (default
postgresql+asyncpg://postgres@127.0.0.1:5432/test) names the server and a database to connect to
for CREATE/DROP DATABASE. Rewrites its own figures in bench/README.md unless --no-readme.

What is bulk-loaded, and why (market/orders/service.py `create_order` is what is timed):
- products: listed (plus 10% drafts, delisted, suspended...) with Chinese titles and
  descriptions from a vocabulary with skewed word frequencies, prices spread log-uniformly, made
  by many sellers, each linked to the registered resource (`resource_ids_of` reads that link);
- orders, each with its sealed quote (`quotes`, FK), its payment (`payments`, unique order_id and
  provider_ref) and its idempotency record (the order path looks them up and inserts into their
  unique indexes). Orders are spread over 2 years and over a fixed pool of buyers, and over
  products by a Zipf law: the timed "bestseller" products hold the top ranks, the timed
  "long-tail" products sit at the median rank. Ledger lines, licences and compliance decisions
  are not loaded: creating an order only inserts into them (or does not touch them);
- audit entries, built with `market.audit.log.entry_values` (the service's column values, so
  this keeps working when the columns change) from the loaded orders' lifecycle, COPYed, then
  sequenced with the sequencer's own `reconcile` and `sequence` (what the publisher runs) in the
  same transaction, which holds the publisher's lock (the log state row) so the server's
  publisher does not interleave: the tree and its proofs stay valid. The entries are MAC'd
  with the key of the root secret the script gives the server (BENCH_ROOT).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import random
import resource
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: import this checkout's `market`
sys.path.insert(0, str(ROOT / "bench"))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from bench_purchase import (  # noqa: E402
    PURPOSE,
    SCENARIO,
    Server,
    credit_code,
    machine,
    ok,
    pg_connect,
    scratch_database,
    seed,
    write_readme_section,
)
from sqlalchemy import select  # noqa: E402
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect  # noqa: E402
from sqlalchemy.engine import URL  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from market.audit.consistency import locked_state  # noqa: E402
from market.audit.log import entry_values  # noqa: E402
from market.audit.macs import entry_keyring  # noqa: E402
from market.audit.sequencer import reconcile, sequence  # noqa: E402
from market.catalog.models import Product  # noqa: E402
from market.catalog.search import catalogue_query  # noqa: E402
from market.common.pagination import keyset_page  # noqa: E402
from market.compliance.rules import RULESET_VERSION, rules_for  # noqa: E402
from market.orders.models import Order  # noqa: E402
from market.orders.repository import product_history  # noqa: E402
from market.settings import Settings, Thresholds  # noqa: E402

# The server's root secret, fixed so the entries loaded here carry MACs the server accepts.
BENCH_ROOT = "YmVuY2gtZ3Jvd3RoLXJvb3Qtc2VjcmV0LTMyLWJ5dGVzISE="
BENCH_KEYS = entry_keyring(Settings(root_secret=BENCH_ROOT))
HOT = 5  # API-seeded products at Zipf ranks 1..5 ("bestsellers")
TAIL = 5  # API-seeded products at the median rank ("long tail")
PHASE_BUYERS = 20  # API-seeded buyers timing orders, a fresh set per size
ACTIVE = ("pending_payment", "needs_review", "paid", "delivered", "completed", "disputed")

# Vocabulary of the bulk catalogue. Sectors are drawn by a Zipf law (the first ~20%, the last ~1%).
REGIONS = ["长春", "吉林", "四平", "辽源", "通化", "白山", "松原", "白城", "延边", "梅河口", "公主岭", "珲春"]
SECTORS = [
    "企业经营",
    "交通出行",
    "气象环境",
    "农业种植",
    "医疗健康",
    "金融信用",
    "电力能耗",
    "商贸零售",
    "房地产",
    "汽车制造",
    "文化旅游",
    "教育培训",
    "人力社保",
    "市场监管",
    "生态林业",
    "水利水务",
    "粮食储备",
    "通信网络",
    "物流仓储",
    "冷链物流",
    "石油化工",
    "装备制造",
    "医药流通",
    "城市治理",
    "应急管理",
    "知识产权",
    "跨境贸易",
    "养老服务",
    "体育健身",
    "新能源",
]
KINDS = ["数据集", "指数", "月报", "API 服务", "画像", "统计", "监测数据", "名录", "年鉴", "分析报告"]
FREQUENCIES = ["日", "周", "月", "季度"]
SCENARIOS = [
    ("credit risk scoring", "risk_control"),
    ("marketing analytics", "marketing"),
    ("supply chain planning", "commercial_analytics"),
    ("urban planning", "public_governance"),
    ("insurance pricing", "risk_control"),
    ("academic research", "academic_research"),
    ("site selection", "commercial_analytics"),
    ("fraud detection", "risk_control"),
]
LIFECYCLE = ("compliance.decided", "order.created", "payment.created", "order.paid", "order.completed")
TRADE_RULES = [r.rule_id for r in rules_for("trade")]


def registration_code(i: int) -> str:
    """The registration number the i-th bulk product's description cites (same formula as SQL)."""
    return f"JLDR-{2019 + i % 7}-R-{i:06d}"


def jwt_claims(headers: dict[str, str]) -> dict[str, Any]:
    token = headers["Authorization"].split()[1]
    body = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return claims


@dataclass
class Buyer:
    headers: dict[str, str]
    participant_id: uuid.UUID
    actor: str


@dataclass
class World:
    operator: dict[str, str]
    seller_id: uuid.UUID
    resource_id: uuid.UUID
    hot: list[str]
    tail: list[str]
    buyers: list[Buyer]
    quote_body: str
    price_plan: str
    licence_template: str
    password_hash: str


@dataclass
class Stats:
    samples: list[float]
    errors: int = 0
    cpu: list[float] = field(default_factory=list)  # server + its backends, per request

    @property
    def cpu_mean(self) -> float:
        return statistics.fmean(self.cpu) * 1000 if self.cpu else math.nan

    @property
    def p50(self) -> float:
        return statistics.median(self.samples) * 1000 if self.samples else math.nan

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples) * 1000 if self.samples else math.nan


@dataclass
class Phase:
    label: str
    orders: int = 0
    audit: int = 0
    listed: int = 0
    load_s: dict[str, float] = field(default_factory=dict)
    figures: dict[str, Stats] = field(default_factory=dict)
    goals: dict[str, float | None] = field(default_factory=dict)
    orders_per_product: dict[str, list[int]] = field(default_factory=dict)
    sequenced: int = 0
    matches: dict[str, int] = field(default_factory=dict)
    sizes: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Seeding through the API


async def seed_world(server: Server, server_url: URL, name: str) -> World:
    base = await seed(server, server_url, name, HOT + TAIL, 2 * PHASE_BUYERS)
    buyers = []
    for headers in base["buyers"]:
        claims = jwt_claims(headers)
        buyers.append(Buyer(headers, uuid.UUID(claims["pid"]), f"user:{claims['sub']}"))
    async with httpx.AsyncClient(base_url=server.base, timeout=60) as c:
        # One quote, so that the bulk quotes carry the body the pricing engine really writes.
        quote = ok(
            await c.post(
                "/v1/quotes",
                headers=buyers[0].headers,
                json={
                    "product_id": base["products"][0],
                    "quantity": 1,
                    "purpose": PURPOSE,
                    "scenario": SCENARIO,
                },
            )
        )
    conn = await pg_connect(server_url, name)
    try:
        product = await conn.fetchrow(
            "SELECT p.seller_id, p.price_plan::text AS plan, p.licence_template::text AS template, "
            "r.resource_id FROM products p JOIN product_resources r ON r.product_id = p.id WHERE p.id = $1",
            uuid.UUID(base["products"][0]),
        )
        body = await conn.fetchval("SELECT body::text FROM quotes WHERE id = $1", uuid.UUID(quote["id"]))
        password_hash = await conn.fetchval(
            "SELECT password_hash FROM users WHERE participant_id = $1", buyers[0].participant_id
        )
    finally:
        await conn.close()
    return World(
        operator=base["operator"],
        seller_id=product["seller_id"],
        resource_id=product["resource_id"],
        hot=base["products"][:HOT],
        tail=base["products"][HOT:],
        buyers=buyers,
        quote_body=body,
        price_plan=product["plan"],
        licence_template=product["template"],
        password_hash=password_hash,
    )


# --------------------------------------------------------------------------------------------
# Bulk loading with SQL


class Loader:
    """Grows the tables the order path and the catalogue search read, to a target size."""

    def __init__(
        self, conn: asyncpg.Connection, conn2: asyncpg.Connection, db_url: str, world: World, bulk_buyers: int
    ) -> None:
        self.conn = conn
        self.conn2 = conn2
        self.db_url = db_url
        self.world = world
        self.bulk_buyers = bulk_buyers
        self.rng = random.Random(11)
        self.codes: set[str] = set()
        self.products_made = 0

    async def setup(self) -> None:
        await self.conn.execute("""
            CREATE UNLOGGED TABLE bench_seller (idx serial PRIMARY KEY, participant_id uuid NOT NULL);
            CREATE UNLOGGED TABLE bench_buyer (
                idx serial PRIMARY KEY, participant_id uuid NOT NULL, actor text NOT NULL)
        """)
        self.codes = {
            c
            for (c,) in await self.conn.fetch(
                "SELECT credit_code FROM participants WHERE credit_code IS NOT NULL"
            )
        }
        await self.conn.executemany(
            "INSERT INTO bench_buyer (participant_id, actor) VALUES ($1, $2)",
            [(b.participant_id, b.actor) for b in self.world.buyers],
        )
        await self.participants(self.bulk_buyers, "buyer")

    async def participants(self, n: int, role: str) -> None:
        """n organisations, each with one user, registered as buyers or sellers."""
        ids: list[uuid.UUID] = []
        user_ids: list[uuid.UUID] = []
        codes: list[str] = []
        while len(codes) < n:
            code = credit_code(self.rng)
            if code not in self.codes:
                self.codes.add(code)
                codes.append(code)
                ids.append(uuid.uuid4())
                user_ids.append(uuid.uuid4())
        await self.conn.execute(
            """
            INSERT INTO participants (id, created_at, updated_at, kind, name, credit_code, jurisdiction,
                                      country, credit_status)
            SELECT id, at, at, 'organisation', '吉林' || $3 || '数据企业 ' || code, code, 'domestic', 'CN',
                   'good'
            FROM (SELECT id, code, now() - interval '1095 days' * random() AS at
                  FROM unnest($1::uuid[], $2::text[]) AS u(id, code)) s
        """,
            ids,
            codes,
            "买方" if role == "buyer" else "卖方",
        )
        await self.conn.execute(
            """
            INSERT INTO users (id, created_at, updated_at, participant_id, email, display_name,
                               password_hash, roles, is_active)
            SELECT u.id, p.created_at, p.created_at, p.id,
                   lower(p.credit_code) || '@' || lower(substr(p.credit_code, 9, 9)) || '.example.cn',
                   p.name, $3, jsonb_build_array($4::text), true
            FROM unnest($1::uuid[], $2::uuid[]) AS u(id, pid) JOIN participants p ON p.id = u.pid
        """,
            user_ids,
            ids,
            self.world.password_hash,
            role,
        )
        if role == "buyer":
            await self.conn.execute(
                "INSERT INTO bench_buyer (participant_id, actor) "
                "SELECT pid, 'user:' || uid FROM unnest($1::uuid[], $2::uuid[]) AS u(pid, uid)",
                ids,
                user_ids,
            )
        else:
            await self.conn.execute(
                "INSERT INTO bench_seller (participant_id) SELECT unnest($1::uuid[])", ids
            )

    async def products(self, listed_target: int) -> int:
        """Grow to `listed_target` listed products (plus 10% not listed); returns how many added."""
        listed = await self.conn.fetchval("SELECT count(*) FROM products WHERE listing_status = 'listed'")
        n_listed = listed_target - listed
        if n_listed <= 0:
            return 0
        n = n_listed + n_listed // 10
        await self.participants(max(1, n // 25), "seller")
        sellers = await self.conn.fetchval("SELECT count(*) FROM bench_seller")
        base = self.products_made
        await self.conn.execute(f"SELECT setseed({0.5 / (1 + base % 1000):.6f})")
        await self.conn.execute(
            """
            INSERT INTO products (id, created_at, updated_at, seller_id, title, description, delivery_mode,
                scenarios, price_plan, plan_version, currency, price_from_minor, licence_template,
                exclusivity, sold_count, category, grade, listing_status, listing_reason, listed_at,
                search_text, version)
            WITH g AS MATERIALIZED (
                SELECT i,
                       now() - interval '1095 days' * random() AS created_at,
                       1 + floor(random() * $3::int)::int AS sidx,
                       ($4::text[])[1 + floor(random() * cardinality($4::text[]))::int] AS region,
                       ($5::text[])[least(cardinality($5::text[]), floor(exp(
                           random() * ln(cardinality($5::text[]) + 1)))::int)] AS sector,
                       ($6::text[])[1 + floor(random() * cardinality($6::text[]))::int] AS kind,
                       1 + floor(random() * cardinality($8::text[]))::int AS s1,
                       CASE WHEN random() < 0.4
                            THEN 1 + floor(random() * cardinality($8::text[]))::int END AS s2,
                       round(exp(ln(100) + random() * ln(20000)))::bigint AS price,
                       (1 + floor(random() * 9))::int AS listed_after,
                       random() AS rc, random() AS rg, random() AS rd, random() AS rx, random() AS rs
                FROM generate_series($1::int + 1, $1::int + $2::int) AS i
            ), t AS (
                SELECT g.*, s.participant_id AS seller_id,
                       g.region || g.sector || g.kind || ' ' || (2018 + g.i % 9) AS title,
                       '覆盖' || g.region || '全域' || g.sector || '相关' || g.kind || '，按'
                           || ($7::text[])[1 + g.i % 4] || '更新，登记编号 JLDR-' || (2019 + g.i % 7) || '-R-'
                           || lpad(g.i::text, 6, '0') || '。字段含主体、时间、地区与指标值，已脱敏。'
                           AS description,
                       CASE WHEN g.s2 IS NULL OR g.s2 = g.s1 THEN ARRAY[($8::text[])[g.s1]]
                            ELSE ARRAY[($8::text[])[g.s1], ($8::text[])[g.s2]] END AS scenarios,
                       ($9::text[])[g.s1] AS purpose,
                       CASE WHEN g.i - $1::int <= $10::int THEN 'listed'
                            ELSE (ARRAY['draft', 'delisted', 'suspended', 'rejected', 'needs_review'])
                                 [1 + floor(g.rs * 5)::int] END AS status
                FROM g JOIN bench_seller s ON s.idx = g.sidx
            )
            SELECT gen_random_uuid(), created_at, created_at + interval '1 day' * listed_after, seller_id,
                   title, description,
                   CASE WHEN rd < 0.45 THEN 'file' WHEN rd < 0.85 THEN 'api' ELSE 'sandbox' END,
                   to_jsonb(scenarios),
                   jsonb_set($11::jsonb, '{unit_price}', to_jsonb(to_char(price / 100.0, 'FM9999999990.00'))),
                   1, 'CNY', price,
                   jsonb_set(jsonb_set($12::jsonb, '{permitted_purposes}', jsonb_build_array(purpose)),
                             '{scenarios}', to_jsonb(scenarios)),
                   CASE WHEN rx < 0.03 THEN 'exclusive' ELSE 'non_exclusive' END,
                   0,
                   CASE WHEN rc < 0.6 THEN 'enterprise' WHEN rc < 0.85 THEN 'public'
                        WHEN rc < 0.95 THEN 'personal' ELSE 'mixed' END,
                   CASE WHEN rg < 0.8 THEN 'general' WHEN rg < 0.98 THEN 'important' ELSE 'core' END,
                   status,
                   CASE WHEN status IN ('rejected', 'suspended', 'delisted')
                        THEN 'bench: operator decision' END,
                   CASE WHEN status IN ('listed', 'suspended', 'delisted')
                        THEN created_at + interval '1 day' * listed_after END,
                   title || ' ' || description || ' ' || array_to_string(scenarios, ' '),
                   1
            FROM t
        """,
            base,
            n,
            sellers,
            REGIONS,
            SECTORS,
            KINDS,
            FREQUENCIES,
            [s for s, _ in SCENARIOS],
            [p for _, p in SCENARIOS],
            n_listed,
            self.world.price_plan,
            self.world.licence_template,
        )
        await self.conn.execute(
            """
            INSERT INTO product_resources (product_id, resource_id)
            SELECT id, $1 FROM products p
            WHERE NOT EXISTS (SELECT 1 FROM product_resources r WHERE r.product_id = p.id)
        """,
            self.world.resource_id,
        )
        self.products_made += n
        return int(n)

    async def ranks(self) -> int:
        """Zipf ranks for the products that can have orders: bestsellers first, long tail mid-way."""
        api = [uuid.UUID(p) for p in self.world.hot + self.world.tail]
        await self.conn.execute("DROP TABLE IF EXISTS bench_rank")
        await self.conn.execute(
            """
            CREATE UNLOGGED TABLE bench_rank AS
            SELECT (row_number() OVER (ORDER BY md5(id::text)))::int + $2::int AS rank, id AS product_id,
                   seller_id, price_from_minor AS price, scenarios->>0 AS scenario,
                   licence_template->'permitted_purposes'->>0 AS purpose
            FROM products
            WHERE listing_status IN ('listed', 'suspended', 'delisted') AND NOT (id = ANY($1::uuid[]))
        """,
            api,
            HOT,
        )
        n = int(await self.conn.fetchval("SELECT count(*) FROM bench_rank")) + HOT
        mid = n // 2
        await self.conn.execute("UPDATE bench_rank SET rank = rank + $2 WHERE rank >= $1", mid, TAIL)
        positions = [(i + 1, p) for i, p in enumerate(api[:HOT])] + [
            (mid + i, p) for i, p in enumerate(api[HOT:])
        ]
        await self.conn.executemany(
            """
            INSERT INTO bench_rank
            SELECT $1, id, seller_id, price_from_minor, scenarios->>0,
                   licence_template->'permitted_purposes'->>0
            FROM products WHERE id = $2
        """,
            positions,
        )
        await self.conn.execute("CREATE UNIQUE INDEX ON bench_rank (rank)")
        return n + TAIL

    async def stage_orders(self, target: int) -> int:
        """The orders that grow the table to `target`, in a staging table (`bench_new_orders`)."""
        n = target - int(await self.conn.fetchval("SELECT count(*) FROM orders"))
        await self.conn.execute("DROP TABLE IF EXISTS bench_new_orders")
        if n <= 0:
            return 0
        ranked = await self.ranks()
        buyers = await self.conn.fetchval("SELECT count(*) FROM bench_buyer")
        await self.conn.execute(f"SELECT setseed({0.25 + n % 1000 / 4000:.6f})")
        await self.conn.execute(
            """
            CREATE UNLOGGED TABLE bench_new_orders AS
            WITH g AS MATERIALIZED (
                SELECT i,
                       least($2::int, floor(exp(random() * ln($2::float8 + 1))))::int AS rank,
                       1 + floor(random() * $3::int)::int AS bidx,
                       random() AS r,
                       CASE WHEN random() < 0.85 THEN 1 ELSE 2 + floor(random() * 9)::int END AS qty,
                       now() - interval '730 days' + interval '729 days' * (i::float8 / $1::int)
                           + interval '1 hour' * random() AS created_at
                FROM generate_series(1, $1::int) AS i
            )
            SELECT g.i, gen_random_uuid() AS order_id, gen_random_uuid() AS quote_id, p.product_id,
                   p.seller_id, b.participant_id AS buyer_id, b.actor, p.purpose, p.scenario, g.qty,
                   p.price * g.qty AS total_minor, round(p.price * g.qty * 0.05)::bigint AS commission,
                   CASE WHEN g.r < 0.70 THEN 'completed' WHEN g.r < 0.78 THEN 'delivered'
                        WHEN g.r < 0.80 THEN 'paid' WHEN g.r < 0.83 THEN 'refunded'
                        WHEN g.r < 0.95 THEN 'cancelled' WHEN g.r < 0.97 THEN 'pending_payment'
                        WHEN g.r < 0.98 THEN 'disputed' WHEN g.r < 0.99 THEN 'needs_review'
                        ELSE 'rejected' END AS status,
                   g.created_at
            FROM g JOIN bench_rank p ON p.rank = g.rank JOIN bench_buyer b ON b.idx = g.bidx
        """,
            n,
            ranked,
            buyers,
        )
        await self.conn.execute("ALTER TABLE bench_new_orders ADD PRIMARY KEY (i)")
        return int(await self.conn.fetchval("SELECT count(*) FROM bench_new_orders"))

    async def insert_orders(self) -> float:
        """The staged orders, each with its quote, payment and idempotency record; seconds taken.
        Runs on its own connection, alongside `audit` (which reads the staging table too)."""
        started = time.perf_counter()
        conn = self.conn2
        await conn.execute(
            """
            INSERT INTO quotes (id, created_at, updated_at, product_id, buyer_id, quantity, purpose, scenario,
                cross_border, body, total_minor, currency, digest, plan_version, compliance_outcome,
                issued_at, expires_at, status)
            SELECT quote_id, created_at - interval '3 minutes', created_at, product_id, buyer_id, qty::text,
                   purpose, scenario, false, $1::jsonb, total_minor, 'CNY',
                   encode(sha256(convert_to(quote_id::text || total_minor, 'UTF8')), 'hex'), 1, 'allow',
                   created_at - interval '3 minutes', created_at + interval '27 minutes', 'ordered'
            FROM bench_new_orders
        """,
            self.world.quote_body,
        )
        await conn.execute("""
            INSERT INTO orders (id, created_at, updated_at, quote_id, product_id, buyer_id, seller_id, status,
                status_reason, total_minor, currency, commission_minor, purpose, scenario, quantity,
                payment_provider, payment_reference, paid_at, version)
            SELECT order_id, created_at,
                   CASE WHEN status = 'pending_payment' THEN created_at
                        ELSE created_at + interval '1 day' END,
                   quote_id, product_id, buyer_id, seller_id, status,
                   CASE status WHEN 'cancelled' THEN 'buyer changed plans' WHEN 'rejected' THEN 'bench review'
                               WHEN 'refunded' THEN 'data not as described' END,
                   total_minor, 'CNY', commission, purpose, scenario, qty::text, 'offline',
                   CASE WHEN status NOT IN ('needs_review', 'rejected') THEN 'offline_' || order_id END,
                   CASE WHEN status IN ('paid', 'delivered', 'completed', 'refunded', 'disputed')
                        THEN created_at + interval '10 minutes' END,
                   1
            FROM bench_new_orders
        """)
        await conn.execute("""
            INSERT INTO payments (id, created_at, updated_at, order_id, provider, provider_ref, amount_minor,
                currency, status, refunded_minor)
            SELECT gen_random_uuid(), created_at, created_at + interval '10 minutes', order_id, 'offline',
                   'offline_' || order_id, total_minor, 'CNY',
                   CASE WHEN status IN ('pending_payment', 'cancelled') THEN 'requires_payment'
                        WHEN status IN ('refunded', 'disputed') THEN status ELSE 'succeeded' END,
                   CASE WHEN status = 'refunded' THEN total_minor ELSE 0 END
            FROM bench_new_orders WHERE status NOT IN ('needs_review', 'rejected')
        """)
        await conn.execute("""
            INSERT INTO idempotency_records (id, owner, key, operation, request_hash, status_code,
                response_body, created_at)
            SELECT gen_random_uuid(), actor, md5(order_id::text || 'k'), 'orders.create',
                   encode(sha256(convert_to('{"quote_id":"' || quote_id || '"}', 'UTF8')), 'hex'), 201,
                   json_build_object('id', order_id, 'quote_id', quote_id, 'product_id', product_id,
                       'buyer_id', buyer_id, 'seller_id', seller_id, 'status', 'pending_payment',
                       'total_minor', total_minor, 'currency', 'CNY', 'commission_minor', commission,
                       'seller_proceeds_minor', total_minor - commission, 'purpose', purpose,
                       'scenario', scenario, 'quantity', qty::text, 'payment_provider', 'offline',
                       'payment_reference', 'offline_' || order_id, 'licence_id', null, 'paid_at', null,
                       'created_at', created_at, 'payment_client_secret', null)::text,
                   created_at
            FROM bench_new_orders
        """)
        await conn.execute(
            """
            UPDATE products p SET sold_count = c.n
            FROM (SELECT product_id, count(*) AS n FROM orders WHERE status = ANY($1::text[])
                  GROUP BY product_id) c
            WHERE p.id = c.product_id AND p.sold_count <> c.n
        """,
            list(ACTIVE),
        )
        return time.perf_counter() - started

    async def audit_rows(self, n: int, orders_n: int) -> AsyncIterator[list[dict[str, Any]]]:
        """n audit entries from the new orders' lifecycles, in batches, oldest first."""
        batch: list[dict[str, Any]] = []
        async with self.conn.transaction():
            cursor = self.conn.cursor(
                "SELECT i, order_id, quote_id, product_id, seller_id, buyer_id, actor, total_minor, "
                "commission, status, created_at FROM bench_new_orders ORDER BY i",
                prefetch=5000,
            )
            k = 0
            async for row in cursor:
                count = (k + 1) * n // orders_n - k * n // orders_n
                for j in range(count):
                    batch.append(audit_entry(LIFECYCLE[(k + j) % len(LIFECYCLE)], row, j))
                k += 1
                if len(batch) >= 20_000:
                    yield batch
                    batch = []
        if batch:
            yield batch

    async def audit(self, target: int, orders_n: int, progress: bool) -> tuple[int, float, float]:
        """Grow to `target` audit entries from the `orders_n` staged orders' lifecycles and
        sequence them; (added, insert s, sequence s)."""
        n = target - int(await self.conn.fetchval("SELECT count(*) FROM audit_entries"))
        if n <= 0 or not orders_n:
            if n > 0:
                print("  audit: no new orders to log, audit entries not grown")
            return 0, 0.0, 0.0
        engine = create_async_engine(self.db_url, poolclass=NullPool)
        try:
            async with AsyncSession(engine) as session, session.begin():
                # The publisher's own lock (the log state row), held while inserting, so the
                # server's publisher waits and the whole backlog is sequenced below, in order.
                state = await locked_state(session)
                raw = await (await session.connection()).get_raw_connection()
                copy_conn: Any = raw.driver_connection
                started = time.perf_counter()
                columns: list[str] | None = None
                async for entries in self.audit_rows(n, orders_n):
                    columns = columns or list(entries[0])
                    await copy_conn.copy_records_to_table(
                        "audit_entries",
                        records=[tuple(e[c] for c in columns) for e in entries],
                        columns=columns,
                    )
                inserted = time.perf_counter()
                done, edge = 0, await reconcile(session, state)
                while step := (await sequence(session, state, edge, BENCH_KEYS)).count:  # as publish does
                    done += step
                    if progress and done % 100_000 < step:
                        rate = done / (time.perf_counter() - inserted)
                        print(f"    sequenced {done:,} of {n:,} ({rate:,.0f}/s)", flush=True)
                sequenced = time.perf_counter()
        finally:
            await engine.dispose()
        return n, inserted - started, sequenced - inserted

    async def settle(self) -> None:
        """Fresh statistics and visibility maps, no checkpoint pending: production's steady state."""
        await self.conn.execute("VACUUM (ANALYZE)")
        await self.conn.execute("CHECKPOINT")

    async def sizes(self) -> dict[str, str]:
        out = {}
        for table in (
            "orders",
            "quotes",
            "payments",
            "idempotency_records",
            "audit_entries",
            "audit_tiles",
            "products",
        ):
            rows = await self.conn.fetchval(f"SELECT count(*) FROM {table}")
            size = await self.conn.fetchval("SELECT pg_total_relation_size($1::regclass)", table)
            out[table] = f"{rows:,} rows, {size / 2**20:,.0f} MB"
        return out


def audit_entry(action: str, row: Any, j: int) -> dict[str, Any]:
    """The column values of one lifecycle entry of a loaded order, as the service writes it."""
    order_id = str(row["order_id"])
    total, commission = int(row["total_minor"]), int(row["commission"])
    payload: dict[str, Any]
    actor = row["actor"]
    if action == "compliance.decided":
        payload = {
            "decision_id": str(uuid.uuid4()),
            "kind": "trade",
            "outcome": "allow",
            "ruleset_version": RULESET_VERSION,
            "rules": TRADE_RULES,
        }
    elif action == "order.created":
        payload = {
            "quote_id": str(row["quote_id"]),
            "quote_digest": secrets.token_hex(32),
            "product_id": str(row["product_id"]),
            "seller_id": str(row["seller_id"]),
            "buyer_id": str(row["buyer_id"]),
            "total_minor": total,
            "currency": "CNY",
            "commission_minor": commission,
            "status": "pending_payment",
            "compliance_decision": str(uuid.uuid4()),
        }
    elif action == "payment.created":
        actor = "system"
        payload = {"provider": "offline", "reference": f"offline_{order_id}", "amount_minor": total}
    elif action == "order.paid":
        actor = "system"
        payload = {
            "reference": f"offline_{order_id}",
            "amount_minor": total,
            "commission_minor": commission,
            "seller_proceeds_minor": total - commission,
        }
    else:
        payload = {"seller_proceeds_minor": total - commission}
    return entry_values(
        actor=actor,
        action=action,
        subject_type="order",
        subject_id=order_id,
        payload=payload,
        keys=BENCH_KEYS,
        created_at=row["created_at"] + timedelta(minutes=5 * j),
    )


async def grow(loader: Loader, phase: Phase, listings: int, orders: int, audit: int, progress: bool) -> None:
    t0 = time.perf_counter()
    added = await loader.products(listings)
    t1 = time.perf_counter()
    print(f"  products: +{added:,} in {t1 - t0:.1f} s", flush=True)
    staged = await loader.stage_orders(orders)
    orders_s, (added, insert_s, sequence_s) = await asyncio.gather(
        loader.insert_orders() if staged else asyncio.sleep(0, 0.0), loader.audit(audit, staged, progress)
    )
    t3 = time.perf_counter()
    print(
        f"  orders, quotes, payments, idempotency records: +{staged:,} in {orders_s:.1f} s; alongside, "
        f"audit entries: +{added:,} built and COPYed in {insert_s:.1f} s, sequenced in {sequence_s:.1f} s",
        flush=True,
    )
    await loader.settle()
    t4 = time.perf_counter()
    print(f"  VACUUM ANALYZE, CHECKPOINT: {t4 - t3:.1f} s", flush=True)
    phase.sequenced = added
    phase.load_s = {
        "products": t1 - t0,
        "orders": orders_s,
        "audit insert": insert_s,
        "audit sequencing": sequence_s,
        "vacuum": t4 - t3,
        "total": t4 - t0,
    }
    phase.orders = int(await loader.conn.fetchval("SELECT count(*) FROM orders"))
    phase.audit = int(await loader.conn.fetchval("SELECT count(*) FROM audit_entries"))
    phase.listed = int(
        await loader.conn.fetchval("SELECT count(*) FROM products WHERE listing_status = 'listed'")
    )
    phase.sizes = await loader.sizes()
    for kind, products in (("hot", loader.world.hot), ("tail", loader.world.tail)):
        phase.orders_per_product[kind] = [
            int(await loader.conn.fetchval("SELECT count(*) FROM orders WHERE product_id = $1", uuid.UUID(p)))
            for p in products
        ]


# --------------------------------------------------------------------------------------------
# Measuring over HTTP


def search_variants() -> list[tuple[str, dict[str, str]]]:
    return [
        ("catalogue q=交通 (common word)", {"q": "交通"}),
        ("catalogue q=冷链 (uncommon word)", {"q": "冷链"}),
        ("catalogue q=insurance (scenario word)", {"q": "insurance"}),
        (f"catalogue q={registration_code(1)} (one product)", {"q": registration_code(1)}),
        (
            "catalogue category=enterprise, 100-500 yuan",
            {"category": "enterprise", "min_price": "10000", "max_price": "50000"},
        ),
        (
            "catalogue q=交通, category=public, 100-500 yuan",
            {"q": "交通", "category": "public", "min_price": "10000", "max_price": "50000"},
        ),
    ]


class CpuMeter:
    """CPU time (ns precision, /proc/<pid>/task/*/schedstat) of the server process and of its
    PostgreSQL backends: per request it varies far less than wall-clock time on a shared machine."""

    def __init__(self, conn: asyncpg.Connection, server_pid: int) -> None:
        self.conn = conn
        self.server_pid = server_pid
        self.pids: list[int] = [server_pid]

    async def refresh(self) -> None:
        backends = await self.conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        self.pids = [self.server_pid, *(int(r["pid"]) for r in backends)]

    def seconds(self) -> float:
        total = 0
        for pid in self.pids:
            try:
                tasks = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for task in tasks:
                try:
                    with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                        total += int(f.read().split()[0])
                except (OSError, ValueError, IndexError):
                    continue
        return total / 1e9


async def timed(
    meter: CpuMeter, stats: Stats, record: bool, request: Awaitable[httpx.Response], expect: int
) -> httpx.Response:
    cpu0, t0 = meter.seconds(), time.perf_counter()
    r = await request
    elapsed, cpu = time.perf_counter() - t0, meter.seconds() - cpu0
    if r.status_code != expect:
        stats.errors += 1
        if stats.errors == 1:
            print(f"    {r.request.method} {r.request.url.path} failed: {r.status_code} {r.text[:300]}")
    elif record:
        stats.samples.append(elapsed)
        stats.cpu.append(cpu)
    return r


async def time_orders(
    c: httpx.AsyncClient, meter: CpuMeter, world: World, buyers: list[Buyer], n: int, warmup: int
) -> tuple[Stats, Stats]:
    """n timed POST /v1/orders per kind (bestseller, long tail), each from a fresh sealed quote."""
    out = {"hot": Stats([]), "tail": Stats([])}
    step = 0
    for i in range(warmup + n):
        if i % 20 == 0:
            await meter.refresh()
        for kind, products in (("hot", world.hot), ("tail", world.tail)):
            buyer = buyers[step % len(buyers)]
            step += 1
            quote = ok(
                await c.post(
                    "/v1/quotes",
                    headers=buyer.headers,
                    json={
                        "product_id": products[i % len(products)],
                        "quantity": 1,
                        "purpose": PURPOSE,
                        "scenario": SCENARIO,
                    },
                )
            )
            headers = {**buyer.headers, "Idempotency-Key": uuid.uuid4().hex}
            await timed(
                meter,
                out[kind],
                i >= warmup,
                c.post("/v1/orders", json={"quote_id": quote["id"]}, headers=headers),
                201,
            )
    return out["hot"], out["tail"]


async def time_get(
    c: httpx.AsyncClient,
    meter: CpuMeter,
    path: str,
    params: dict[str, str],
    headers: list[dict[str, str]],
    n: int,
    warmup: int,
) -> Stats:
    stats = Stats([])
    for i in range(warmup + n):
        if i % 20 == 0:
            await meter.refresh()
        await timed(
            meter, stats, i >= warmup, c.get(path, params=params, headers=headers[i % len(headers)]), 200
        )
    return stats


async def measure(
    server: Server, conn: asyncpg.Connection, world: World, phase: Phase, index: int, args: argparse.Namespace
) -> None:
    assert server.proc is not None
    meter = CpuMeter(conn, server.proc.pid)
    buyers = world.buyers[index * PHASE_BUYERS : (index + 1) * PHASE_BUYERS]
    async with httpx.AsyncClient(base_url=server.base, timeout=300) as c:
        t0 = time.perf_counter()
        hot, tail = await time_orders(c, meter, world, buyers, args.order_requests, args.warmup)
        phase.figures["POST /v1/orders, bestseller products"] = hot
        phase.figures["POST /v1/orders, long-tail products"] = tail
        ready = await time_get(c, meter, "/readyz", {}, [{}], args.order_requests, args.warmup)
        phase.figures["GET /readyz (one SELECT 1: load check, no goal)"] = ready
        phase.goals.update(
            {
                "POST /v1/orders, bestseller products": 1.2,
                "POST /v1/orders, long-tail products": 1.2,
                "GET /readyz (one SELECT 1: load check, no goal)": None,
            }
        )
        print(
            f"  orders: bestseller p50 {hot.p50:.1f} ms, long tail p50 {tail.p50:.1f} ms "
            f"({time.perf_counter() - t0:.0f} s); /readyz p50 {ready.p50:.1f} ms",
            flush=True,
        )
        listing = await time_get(
            c,
            meter,
            "/v1/orders",
            {"limit": "20"},
            [b.headers for b in buyers],
            args.order_requests,
            args.warmup,
        )
        phase.figures["GET /v1/orders page (buyer, 20 items)"] = listing
        phase.goals["GET /v1/orders page (buyer, 20 items)"] = 1.2
        print(f"  order list page p50 {listing.p50:.1f} ms", flush=True)
        # Statistics add up every settled order in the database (GROUP BY in SQL, Beijing
        # months): they grow with the table by nature, so this is reported, not judged.
        statistics = await time_get(
            c, meter, "/v1/stats", {"period": "month"}, [world.operator], max(3, args.order_requests // 20), 1
        )
        phase.figures["GET /v1/stats by month (every order; grows with the table, no goal)"] = statistics
        phase.goals["GET /v1/stats by month (every order; grows with the table, no goal)"] = None
        print(f"  stats by month p50 {statistics.p50:.1f} ms", flush=True)
        for label, params in search_variants():
            stats = await time_get(
                c, meter, "/v1/catalog", params, [{}], args.search_requests, max(1, args.warmup // 4)
            )
            phase.figures[label] = stats
            phase.goals[label] = 3.0
            print(f"  {label}: p50 {stats.p50:.1f} ms", flush=True)


async def count_matches(conn: asyncpg.Connection, phase: Phase) -> None:
    for label, params in search_variants():
        stmt = catalogue_query(
            "postgresql",
            q=params.get("q"),
            category=params.get("category"),
            grade=None,
            delivery_mode=None,
            min_price=_int(params.get("min_price")),
            max_price=_int(params.get("max_price")),
            seller_id=None,
        )
        sql, values = compiled(stmt.with_only_columns(Product.id).order_by(None))
        phase.matches[label] = int(await conn.fetchval(f"SELECT count(*) FROM ({sql}) s", *values))


def _int(value: str | None) -> int | None:
    return None if value is None else int(value)


def compiled(stmt: Any) -> tuple[str, list[Any]]:
    """The SQL and parameters the server sends for `stmt` (asyncpg: $n placeholders)."""
    dialect: Any = asyncpg_dialect  # untyped in SQLAlchemy's stubs
    sql = stmt.compile(dialect=dialect())
    return str(sql), [sql.params[name] for name in sql.positiontup]


async def explain(conn: asyncpg.Connection, world: World, phase: Phase) -> None:
    """EXPLAIN ANALYZE of the queries whose cost can grow with the tables (printed, not timed)."""
    hot = uuid.UUID(world.hot[0])
    at = datetime.now(UTC)
    queries = {
        # market/alerts/service.py scan_order: the product's earlier order totals (price outlier)
        "scan_order: earlier orders of a bestseller product": product_history(
            hot, at, Thresholds().price_history_window
        ).where(Order.id != uuid.uuid4()),
        "list_orders: buyer page": keyset_page(
            select(Order).where(
                (Order.buyer_id == world.buyers[0].participant_id)
                | (Order.seller_id == world.buyers[0].participant_id)
            ),
            Order,
            None,
            20,
        ),
    }
    for label, params in search_variants():
        queries[label] = keyset_page(
            catalogue_query(
                "postgresql",
                q=params.get("q"),
                category=params.get("category"),
                grade=None,
                delivery_mode=None,
                min_price=_int(params.get("min_price")),
                max_price=_int(params.get("max_price")),
                seller_id=None,
            ),
            Product,
            None,
            20,
        )
    for label, stmt in queries.items():
        sql, values = compiled(stmt)
        plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *values)
        print(f"\n--- {phase.label}: {label}\n" + "\n".join(r[0] for r in plan))


# --------------------------------------------------------------------------------------------
# Report


def verdict(ratio: float, goal: float) -> str:
    return "met" if ratio <= goal else "**missed**"


def verify_log(server: Server) -> str:
    """`market audit verify` over the whole grown log: the bulk entries were sequenced soundly."""
    done = subprocess.run(
        [server.market, "audit", "verify"],
        env=server.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    checked = next((line for line in lines if line.startswith("entries checked")), "")
    return ("log intact; " if done.returncode == 0 else "FAILED; ") + (checked or " / ".join(lines[-3:]))


def report(
    args: argparse.Namespace,
    small: Phase,
    large: Phase,
    api_s: float,
    total_s: float,
    server_url: URL,
    verified: str,
) -> str:
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; PostgreSQL on {server_url.host}; "
        f"one uvicorn worker; sequential requests; {args.order_requests} timed orders per kind and "
        f"{args.search_requests} timed searches per query after {args.warmup} warm-up requests.",
        "",
        f"| figure: p50 / mean wall ms (server CPU ms) | small: {small.orders:,} orders, "
        f"{small.audit:,} audit entries, {small.listed:,} listed | large: {large.orders:,} orders, "
        f"{large.audit:,} audit entries, {large.listed:,} listed | ratio of p50 (of CPU) | goal |",
        "|---|---|---|---|---|",
    ]
    for label in small.figures:
        a, b = small.figures[label], large.figures[label]
        ratio = b.p50 / a.p50
        goal = small.goals[label]
        matched = ""
        if label in small.matches:
            matched = f" ({small.matches[label]:,} → {large.matches[label]:,} matches)"
        errors = f", {a.errors + b.errors} failed" if a.errors + b.errors else ""
        shown = f"{ratio:.2f}× ({b.cpu_mean / a.cpu_mean:.2f}×)"
        judged = f"| {shown} | |"
        if goal:
            judged = f"| **{shown}** | ≤ {goal:g}×, {verdict(ratio, goal)} |"
        lines.append(
            f"| {label}{matched}{errors} | {a.p50:.1f} / {a.mean:.1f} ({a.cpu_mean:.1f}) "
            f"| {b.p50:.1f} / {b.mean:.1f} ({b.cpu_mean:.1f}) " + judged
        )
    hot, tail = large.orders_per_product["hot"], large.orders_per_product["tail"]
    lines += [
        "",
        f"Orders per timed product at the large size: bestsellers (Zipf ranks 1-{HOT}) "
        f"{', '.join(f'{n:,}' for n in hot)}; long tail (median rank) {', '.join(f'{n:,}' for n in tail)} "
        f"(small size: {', '.join(f'{n:,}' for n in small.orders_per_product['hot'])} and "
        f"{', '.join(f'{n:,}' for n in small.orders_per_product['tail'])}).",
        "",
        f"Seeding through the API took {api_s:.0f} s; bulk loading to the small size "
        f"{small.load_s['total']:.0f} s, to the large size {large.load_s['total']:.0f} s (products "
        f"{large.load_s['products']:.0f} s; orders with their quotes, payments and idempotency records "
        f"{large.load_s['orders']:.0f} s, alongside which the audit entries were built and COPYed in "
        f"{large.load_s['audit insert']:.0f} s and sequenced by the service's sequencer in "
        f"{large.load_s['audit sequencing']:.0f} s "
        f"({large.sequenced / max(large.load_s['audit sequencing'], 1e-9):,.0f} entries/s); "
        f"VACUUM ANALYZE {large.load_s['vacuum']:.0f} s); the whole run {total_s / 60:.1f} min.",
        "",
        "Large size: " + "; ".join(f"{t} {s}" for t, s in large.sizes.items()) + ".",
        "",
        f"`market audit verify` over the grown log at the end: {verified}. Peak RSS of this script "
        f"(builds the audit entries): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB.",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------


async def run(server: Server, server_url: URL, name: str, db_url: str, args: argparse.Namespace) -> str:
    started = time.perf_counter()
    small = Phase("small")
    large = Phase("large")
    try:
        await server.start()
        assert server.proc is not None
        print(f"server pid {server.proc.pid} on {server.base}, database {name}; seeding through the API")
        world = await seed_world(server, server_url, name)
        api_s = time.perf_counter() - started
        print(f"  seeded in {api_s:.0f} s")
        conn = await pg_connect(server_url, name)
        conn2 = await pg_connect(server_url, name)
        try:
            loader = Loader(conn, conn2, db_url, world, args.buyers)
            await loader.setup()
            for phase, index, listings, orders, audit in (
                (small, 0, args.small_listings, args.small_orders, args.small_audit),
                (large, 1, args.listings, args.orders, args.audit),
            ):
                print(
                    f"bulk load to {orders:,} orders, {audit:,} audit entries, {listings:,} listed products"
                )
                await grow(loader, phase, listings, orders, audit, progress=index == 1)
                await count_matches(conn, phase)
                if args.explain:
                    await explain(conn, world, phase)
                print(f"measuring at the {phase.label} size")
                await measure(server, conn, world, phase, index, args)
            verified = verify_log(server)
            print(f"market audit verify: {verified}")
        finally:
            await conn.close()
            await conn2.close()
    except Exception:
        print(server.log_tail())
        raise
    finally:
        server.stop()
    return report(args, small, large, api_s, time.perf_counter() - started, server_url, verified)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=1_000_000, help="orders at the large size")
    ap.add_argument("--audit", type=int, help="audit entries at the large size (default: --orders)")
    ap.add_argument("--listings", type=int, default=100_000, help="listed products at the large size")
    ap.add_argument("--small-orders", type=int, default=10_000)
    ap.add_argument("--small-audit", type=int, help="default: --small-orders")
    ap.add_argument("--small-listings", type=int, default=1_000)
    ap.add_argument("--buyers", type=int, default=5_000, help="bulk-loaded buyers (both sizes)")
    ap.add_argument("--order-requests", type=int, default=200, help="timed orders per kind and size")
    ap.add_argument("--search-requests", type=int, default=50, help="timed searches per query and size")
    ap.add_argument("--warmup", type=int, default=20, help="untimed requests first (searches: a quarter)")
    ap.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the growing queries")
    ap.add_argument("--no-readme", action="store_true")
    args = ap.parse_args()
    args.audit = args.orders if args.audit is None else args.audit
    args.small_audit = args.small_orders if args.small_audit is None else args.small_audit
    if not (args.orders > args.small_orders and args.listings > args.small_listings):
        ap.error("the large sizes must exceed the small ones")

    async with scratch_database("market_growth") as (server_url, name, db_url):
        server = Server(db_url)
        server.env["MARKET_ROOT_SECRET"] = BENCH_ROOT  # so the server's MAC key is BENCH_KEYS
        figures = await run(server, server_url, name, db_url, args)
    print(figures)
    if not args.no_readme:
        write_readme_section("bench_growth.py", figures)


if __name__ == "__main__":
    asyncio.run(main())
