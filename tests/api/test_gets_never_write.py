"""GETs never write: every GET route the app serves, called as every kind of caller over a world
in which work is due (a publicity period ended and not yet finalised, audit entries not yet
sequenced, notifications not yet delivered), runs no INSERT, UPDATE or DELETE and changes no row.
A read may be served by a read replica; and a read that writes races (see
test_publicity_finalisation)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, func, select

from market.audit.jobs import publish_checkpoint
from market.common import clock
from market.db.base import Base
from tests.api.factories import Api
from tests.api.jobs import run
from tests.api.registry_factories import CHECKLIST, resource_with_sample
from tests.api.test_authz_matrix import fill, served_routes, tenant
from tests.api.test_catalog_products import GUIDED

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|CREATE|ALTER|DROP)\b|\bnextval\s*\(", re.I)
# Query parameters some reads need to do their real work instead of answering 422.
QUERIES = {
    "/v1/audit/proofs/inclusion": "?seq=0&tree_size=2",
    "/v1/audit/proofs/consistency": "?first=1&second=2",
    "/v1/events": "?after=0",
    "/console/audit/entry": "?id=1",
}


@contextmanager
def statements_that_write(app: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if WRITE.search(statement):
            seen.append(" ".join(statement.split())[:160])

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


async def row_counts(app: Any) -> dict[str, int]:
    async with app.state.sessionmaker() as s:
        return {
            t.name: int(await s.scalar(select(func.count()).select_from(t)) or 0)
            for t in Base.metadata.sorted_tables
        }


async def test_no_get_route_writes_for_any_caller(api: Api, client: Any, app: Any) -> None:
    operator = await api.staff("operator")
    authority = await api.staff("price_authority")
    auditor = await api.staff("auditor")
    assert (await client.post("/v1/price-catalogue", json=GUIDED, headers=authority)).status_code == 201
    a = await tenant(api, app, operator, "tenant A data")
    b = await tenant(api, app, operator, "tenant B data")
    await run(app, publish_checkpoint)  # a head to serve
    # Work left due for the jobs, which a read must not do: a registration whose publicity ended...
    resource = await resource_with_sample(api, a.party)
    applied = await client.post(
        "/v1/registrations",
        headers=a.party.headers,
        json={"resource_id": resource["id"], "rights_evidence": "own collection"},
    )
    decided = await client.post(
        f"/v1/registrations/{applied.json()['id']}/decision",
        headers=operator,
        json={"decision": "approve", "checklist": CHECKLIST},
    )
    assert decided.status_code == 200
    clock.advance(timedelta(days=30))
    # ... an API key's use (it records its last use on writes only) ...
    key = (await client.post("/v1/api-keys", json={"name": "reader"}, headers=a.party.headers)).json()["key"]
    ids = a.ids | {"registration_id": applied.json()["id"]}
    callers = {
        "anonymous": {},
        "tenant A": a.party.headers,
        "tenant A by API key": {"X-API-Key": key},
        "tenant B": b.party.headers,
        "operator": operator,
        "auditor": auditor,
        "price authority": authority,
    }
    gets = sorted(path for method, path in served_routes() if method == "GET")
    assert len(gets) > 40
    before = await row_counts(app)
    answered: dict[int, int] = {}
    with statements_that_write(app) as writes:
        for path in gets:
            url = fill(path, ids) + QUERIES.get(path, "")
            for name, headers in callers.items():
                r = await client.get(url, headers=headers)
                answered[r.status_code] = answered.get(r.status_code, 0) + 1
                assert r.status_code < 500, f"GET {url} as {name}: {r.status_code} {r.text[:200]}"
                assert not writes, f"GET {path} as {name} wrote: {writes}"
    assert await row_counts(app) == before
    assert answered.get(200, 0) > 100  # most reads did their real work, not just a refusal
    assert (await client.get(f"/v1/registrations/{ids['registration_id']}", headers=a.party.headers)).json()[
        "status"
    ] == "publicity"
