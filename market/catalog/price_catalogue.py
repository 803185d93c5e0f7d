"""The government-guided price catalogue (Art. 65): published, superseded and withdrawn by the
price authority; read by anyone, with its history; a quote uses the version in force."""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.principal import Principal
from market.catalog import repository
from market.catalog.models import PriceCatalogueEntryRow
from market.catalog.schemas import PriceEntryCreate, Withdrawal
from market.common.clock import now
from market.errors import Conflict, InvalidInput, NotFound, invalid_from_validation
from pricing import EXAMPLE_TARIFFS, GuidedPriceEntry, entry_in_force


def example_entries() -> list[PriceEntryCreate]:
    """The published government tariffs shipped as example entries (国办函〔2020〕109号 Art. 4
    per request per applicant per month, Art. 5 per page per application): what the price
    authority publishes to charge them (the demo seeds them; `pricing.tariffs`)."""
    return [
        PriceEntryCreate(
            entry_key=e.entry_id,
            data_class=e.data_class,
            unit=e.unit.value,
            currency=e.currency,
            mode=e.mode,
            tiers=[t.model_dump(mode="json", exclude_none=True) for t in e.tiers],
            accumulation=e.accumulation.value,
            effective_from=e.effective_from,
            legal_basis=e.legal_basis,
        )
        for e in EXAMPLE_TARIFFS
    ]


def _entry(data: PriceEntryCreate, version: int) -> GuidedPriceEntry:
    body = data.model_dump(mode="json", exclude_none=True)
    body["version"] = version
    try:
        return GuidedPriceEntry.model_validate(body)
    except ValidationError as exc:
        raise invalid_from_validation(exc, "body", "the price entry is invalid") from exc


async def versions(session: AsyncSession, entry_key: str) -> list[PriceCatalogueEntryRow]:
    stmt = (
        select(PriceCatalogueEntryRow)
        .where(PriceCatalogueEntryRow.entry_key == entry_key)
        .order_by(PriceCatalogueEntryRow.version)
    )
    return list((await session.execute(stmt)).scalars())


def _row(entry: GuidedPriceEntry, principal: Principal) -> PriceCatalogueEntryRow:
    return PriceCatalogueEntryRow(
        entry_key=entry.entry_key,
        version=entry.version,
        data_class=entry.data_class,
        body=entry.model_dump(mode="json"),
        status="in_force",
        effective_from=entry.effective_from,
        effective_to=entry.effective_to,
        legal_basis=entry.legal_basis,
        published_by=principal.actor,
        created_at=now(),
    )


async def publish(
    session: AsyncSession, principal: Principal, data: PriceEntryCreate
) -> PriceCatalogueEntryRow:
    if await versions(session, data.entry_key):
        raise Conflict(
            "an entry with this key exists; publish a new version instead",
            fields=[("body.entry_key", "already published")],
        )
    row = _row(_entry(data, 1), principal)
    session.add(row)
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="price_entry.published",
        subject_type="price_entry",
        subject_id=row.entry_key,
        payload={"version": 1, "body": row.body},
    )
    return row


async def supersede(
    session: AsyncSession, principal: Principal, entry_key: str, data: PriceEntryCreate
) -> PriceCatalogueEntryRow:
    if data.entry_key != entry_key:
        raise InvalidInput("the body names another entry", fields=[("body.entry_key", "must match the path")])
    existing = await versions(session, entry_key)
    if not existing:
        raise NotFound("price entry not found")
    entry = _entry(data, existing[-1].version + 1)
    for old in existing:
        if old.status == "in_force":
            old.status = "superseded"
            if old.effective_to is None or old.effective_to > entry.effective_from:
                old.effective_to = entry.effective_from
                old.body = {**old.body, "effective_to": entry.effective_from.isoformat()}
    row = _row(entry, principal)
    session.add(row)
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="price_entry.superseded",
        subject_type="price_entry",
        subject_id=entry_key,
        payload={"version": entry.version, "body": row.body},
    )
    return row


async def withdraw(
    session: AsyncSession, principal: Principal, entry_key: str, data: Withdrawal
) -> list[PriceCatalogueEntryRow]:
    existing = await versions(session, entry_key)
    if not existing:
        raise NotFound("price entry not found")
    live = [r for r in existing if r.status == "in_force"]
    if not live:
        raise Conflict("nothing in force to withdraw")
    for row in live:
        row.status = "withdrawn"
        row.withdrawn_at = now()
        row.withdrawal_reason = data.reason
    await record(
        session,
        actor=principal.actor,
        action="price_entry.withdrawn",
        subject_type="price_entry",
        subject_id=entry_key,
        payload={"reason": data.reason},
    )
    return existing


async def guided_entry_at(session: AsyncSession, data_class: str, at: datetime) -> GuidedPriceEntry | None:
    """The entry in force for a class of public data at `at` (withdrawn ones never apply)."""
    stmt = select(PriceCatalogueEntryRow).where(
        PriceCatalogueEntryRow.data_class == data_class,
        PriceCatalogueEntryRow.status != "withdrawn",
    )
    rows = (await session.execute(stmt)).scalars()
    return entry_in_force([GuidedPriceEntry.model_validate(r.body) for r in rows], data_class, at)


async def entries(
    session: AsyncSession, *, in_force_only: bool, data_class: str | None
) -> list[PriceCatalogueEntryRow]:
    return await repository.price_entries(session, in_force_only=in_force_only, data_class=data_class)
