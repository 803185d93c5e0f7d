"""An exporter's cross-border exports of personal information since 1 January (Beijing time),
the count the CAC 2024 thresholds are applied to (see `market.compliance.cross_border`).

Sales are recorded by orders, above compliance, so orders registers the query that names the
resources a seller has provided abroad since a moment; the headcounts come from the registry's
consent records.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from market.compliance.facts import ExportVolume
from market.registry import consents
from market.registry import resources as registry_resources
from market.registry.consents import PERSONAL_STATES
from market.registry.workdays import BEIJING

ResourcesSoldAbroad = Callable[[AsyncSession, uuid.UUID, datetime], Awaitable[set[uuid.UUID]]]
_sold_abroad: list[ResourcesSoldAbroad] = []


def register_resources_sold_abroad(query: ResourcesSoldAbroad) -> None:
    """`query(session, seller_id, since)`: the resources of every product the seller has sold
    to a foreign buyer, or declared cross-border, paid since `since`."""
    if query not in _sold_abroad:
        _sold_abroad.append(query)


def start_of_year(at: datetime) -> datetime:
    """1 January 00:00 of `at`'s year, Beijing time: the CAC counts exports per calendar year."""
    return datetime(at.astimezone(BEIJING).year, 1, 1, tzinfo=BEIJING)


async def exports_this_year(session: AsyncSession, seller_id: uuid.UUID, at: datetime) -> ExportVolume:
    """The personal resources the seller has provided abroad this year and the people they cover
    (each resource once, with its current consent record's headcounts)."""
    sold: set[uuid.UUID] = set()
    for query in _sold_abroad:
        sold |= await query(session, seller_id, start_of_year(at))
    personal = [
        r.id for r in await registry_resources.find_many(session, sold) if r.personal_info in PERSONAL_STATES
    ]
    records = await consents.current_records(session, personal)
    return ExportVolume(
        resource_ids=tuple(sorted(str(r) for r in personal)),
        people=sum(records[r].people_covered for r in personal if r in records),
        sensitive_people=sum(records[r].sensitive_people_covered for r in personal if r in records),
        uncounted_resource_ids=tuple(sorted(str(r) for r in personal if r not in records)),
    )
