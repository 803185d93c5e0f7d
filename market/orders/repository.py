"""Queries on quotes and orders; tenant scoping of orders in `readable`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Select, Table, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session as SyncSession

from market.auth.principal import Principal
from market.catalog.models import Product, product_resources
from market.catalog.repository import RESOURCE_IDS
from market.common.clock import now
from market.common.pagination import keyset_page
from market.common.periods import beijing_period
from market.compliance.repository import Leading, RulesRead, Subquery, rules_read
from market.db import together
from market.db.detached import attached_row, columns_of
from market.db.direct import Direct, by_id
from market.db.pending import Deferred
from market.orders.models import Order, OrderClaim, Quote, WindowUsage
from market.orders.schemas import TradeTotals
from market.orders.states import EVER_PAID, SETTLED, OrderStatus
from market.participants.models import Participant


def readable(principal: Principal, role: str | None = None) -> Select[Order]:
    """The orders the caller may read: its purchases and sales (or one of the two, by `role`);
    operators and auditors every order."""
    stmt = select(Order)
    if principal.can_see_all():
        return stmt
    me = principal.participant_id
    if role == "buyer":
        return stmt.where(Order.buyer_id == me)
    if role == "seller":
        return stmt.where(Order.seller_id == me)
    return stmt.where(or_(Order.buyer_id == me, Order.seller_id == me))


async def page(
    session: AsyncSession,
    principal: Principal,
    *,
    role: str | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> list[Order]:
    stmt = readable(principal, role)
    if status:
        stmt = stmt.where(Order.status == status)
    return list((await session.execute(keyset_page(stmt, Order, cursor, limit))).scalars())


async def get(session: AsyncSession, order_id: uuid.UUID, *, lock: bool = False) -> Order | None:
    return await session.get(Order, order_id, with_for_update=lock, populate_existing=lock)


async def quote(session: AsyncSession, quote_id: uuid.UUID) -> Quote | None:
    return await by_id(session, Quote, quote_id)  # an order's terms, read when its money arrives


async def quotes_to_expire(
    session: AsyncSession, at: datetime, statuses: list[str], limit: int
) -> list[Quote]:
    stmt = (
        select(Quote)
        .where(Quote.status.in_(statuses), Quote.expires_at <= at)
        .order_by(Quote.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def quote_with_seller(session: AsyncSession, quote_id: uuid.UUID) -> tuple[Quote, uuid.UUID] | None:
    stmt = (
        select(Quote, Product.seller_id)
        .join(Product, Product.id == Quote.product_id)
        .where(Quote.id == quote_id)
    )
    found = (await session.execute(stmt)).one_or_none()
    return (found[0], found[1]) if found else None


# The hot paths' reads (issue 21), built once with their values bound as parameters: no
# statement construction, cache key or compilation per request.
# Each selects the tables' columns (market.db.detached) and is read directly (market.db.direct).
_PRODUCT_COLUMNS = columns_of(Product)[1]
_QUOTE_FOR_ORDER = Direct(
    select(*columns_of(Quote)[1], *_PRODUCT_COLUMNS, exists().where(Order.quote_id == Quote.id))
    .join(Product, Product.id == Quote.product_id)
    .where(Quote.id == bindparam("quote_id"))
    # The quote's row (NO KEY UPDATE): two orders of one quote queue here, and the second finds
    # it ordered. The product's row is not locked: its unit is counted by a conditional UPDATE
    # with the order's writes (catalog.products.reserve_unit), so orders of one product do not
    # queue from their first reads.
    .with_for_update(of=Quote, key_share=True),
    carries_riders=True,  # an order's first read: its caller's credential is checked with it
)
# A quote's product, read in the trade rules' statement (compliance.repository.Leading): that
# statement is the quote's first read, and its caller's credential is checked with it.
_PRODUCT_FOR_QUOTE = select(
    *_PRODUCT_COLUMNS,
    exists().where(
        Order.buyer_id == bindparam("buyer_id"),
        Order.seller_id == Product.seller_id,
        # Each status a constant of the statement (an IN list would be bound per execution).
        or_(*(Order.status == status for status in sorted(EVER_PAID))),
    ),
).where(Product.id == bindparam("product_id"))
_SELLER_OF = select(Product.seller_id).where(Product.id == bindparam("product_id"))


async def quote_for_order(session: AsyncSession, quote_id: uuid.UUID) -> tuple[Quote, Product, bool] | None:
    """The quote, row-locked, its product, and whether the quote was ordered already, in one
    statement. Both are the session's, as loaded objects (the order changes them)."""
    found = await _QUOTE_FOR_ORDER.first(session, {"quote_id": quote_id})
    if found is None:
        return None
    quote, product, ordered = attached_row(session, found, Quote, Product)
    return quote, product, bool(ordered)


def conflicting_claim_query(
    resource_ids: Sequence[uuid.UUID],
    purpose: str,
    *,
    exclusive: bool,
    at: datetime,
    other_than: uuid.UUID | None = None,
) -> Select[OrderClaim]:
    """A live claim that a new claim over these resources for `purpose` would clash with: an
    exclusive one, or any one when the new claim is exclusive. Territories are not compared:
    a cross-border licence includes domestic use, so any two territories share it.
    `other_than`: an order whose own claims are already written, and do not count."""
    stmt = select(OrderClaim).where(
        OrderClaim.resource_id.in_(list(resource_ids)),
        OrderClaim.purpose == purpose,
        OrderClaim.released_at.is_(None),
        OrderClaim.ends_at > at,
    )
    if other_than is not None:
        stmt = stmt.where(OrderClaim.order_id != other_than)
    if not exclusive:
        stmt = stmt.where(OrderClaim.exclusive.is_(True))
    return stmt.order_by(OrderClaim.ends_at.desc()).limit(1)


async def conflicting_claim(
    session: AsyncSession,
    resource_ids: Sequence[uuid.UUID],
    purpose: str,
    *,
    exclusive: bool,
    at: datetime,
) -> OrderClaim | None:
    stmt = conflicting_claim_query(resource_ids, purpose, exclusive=exclusive, at=at)
    return (await session.execute(stmt)).scalar_one_or_none()


_CLAIMS = cast(Table, OrderClaim.__table__)


def conflicting_claim_part(
    batch: together.Batch, resource_ids: Sequence[uuid.UUID], purpose: str, *, exclusive: bool, at: datetime
) -> together.Part:
    """`conflicting_claim_query` as a part of a statement of `market.db.together` (PostgreSQL):
    it counts 1 when there is a clash."""
    bind, c = batch.params.bind, _CLAIMS.c
    ids = ", ".join(bind(rid, c.resource_id) for rid in resource_ids) or "NULL"
    # Only placeholders are formatted in; the values are parameters.
    scope = (
        f"purpose = {bind(purpose, c.purpose)} AND released_at IS NULL AND ends_at > {bind(at, c.ends_at)}"
    )
    clashing = "" if exclusive else ' AND "exclusive"'
    sql = f"SELECT 1 FROM order_claims WHERE resource_id IN ({ids}) AND {scope}{clashing} LIMIT 1"  # noqa: S608
    return together.Part(sql, counted=True)


async def release_claims(session: AsyncSession, order_id: uuid.UUID, at: datetime) -> None:
    await _CLAIM_ENDS.write_now(session)  # a claim's end set earlier in this transaction first
    await session.execute(
        update(OrderClaim)
        .where(OrderClaim.order_id == order_id, OrderClaim.released_at.is_(None))
        .values(released_at=at)
    )


async def set_claims_end(session: AsyncSession, order_id: uuid.UUID, ends_at: datetime) -> None:
    """The order's live claims end at `ends_at`, written now (after any end recorded before)."""
    set_claims_end_with_writes(session, order_id, ends_at)
    await _CLAIM_ENDS.write_now(session)


def set_claims_end_with_writes(session: AsyncSession, order_id: uuid.UUID, ends_at: datetime) -> None:
    """`set_claims_end`, written with the transaction's next flush (market.db.pending): on
    PostgreSQL in the statement that writes it, not in a round trip of its own (issue 21)."""
    _CLAIM_ENDS.record(session, (order_id, ends_at))


def _end_claims(session: SyncSession, ends: list[tuple[uuid.UUID, datetime]]) -> None:
    for order_id, ends_at in ends:
        session.execute(
            update(OrderClaim)
            .where(OrderClaim.order_id == order_id, OrderClaim.released_at.is_(None))
            .values(ends_at=ends_at)
        )


def _render_claim_ends(batch: together.Batch, ends: list[tuple[uuid.UUID, datetime]]) -> None:
    bind, c = batch.params.bind, _CLAIMS.c
    for order_id, ends_at in ends:
        # Only placeholders are formatted in; the values are parameters.
        sql = (
            f"UPDATE order_claims SET ends_at = {bind(ends_at, c.ends_at)} "  # noqa: S608
            f"WHERE order_id = {bind(order_id, c.order_id)} AND released_at IS NULL"
        )
        batch.parts.append(together.Part(sql))


_CLAIM_ENDS = Deferred("claim_ends", _end_claims, _render_claim_ends)


async def product_for_quote(
    session: AsyncSession, product_id: uuid.UUID, buyer_id: uuid.UUID, at: datetime
) -> tuple[Product | None, bool, RulesRead]:
    """The product, whether the buyer has bought from its seller before (a returning customer),
    and the trade rules' facts on the buyer buying it as of `at`, in one statement (issue 21:
    one round trip fewer; the facts are read before the product's refusals are looked at, and
    only used once it passed them)."""
    params = {"product_id": product_id, "buyer_id": buyer_id}
    read = await rules_read(
        session,
        product_id,
        [Subquery(_SELLER_OF, params), buyer_id],
        Subquery(RESOURCE_IDS, {"resource_ids_of": product_id}),
        buyer_files_at=(buyer_id, at),
        leading=Leading(_PRODUCT_FOR_QUOTE, params),
    )
    if read.leading is None:
        return None, False, read
    product, returning = attached_row(session, read.leading, Product)
    return product, bool(returning), read


def product_history(product_id: uuid.UUID, before: datetime, window: int) -> Select[int]:
    """The totals of the product's latest `window` orders before `before`, newest first: the
    history a price is judged against (an index range, whatever the product has sold)."""
    return (
        select(Order.total_minor)
        .where(Order.product_id == product_id, Order.created_at < before)
        .order_by(Order.created_at.desc())
        .limit(window)
    )


async def recent_product_totals(session: AsyncSession, order: Order, window: int) -> tuple[int, ...]:
    stmt = product_history(order.product_id, order.created_at, window).where(Order.id != order.id)
    return tuple((await session.execute(stmt)).scalars())


async def buyer_order_ids_since(
    session: AsyncSession, buyer_id: uuid.UUID, since: datetime, until: datetime
) -> list[uuid.UUID]:
    stmt = select(Order.id).where(
        Order.buyer_id == buyer_id, Order.created_at >= since, Order.created_at <= until
    )
    return list((await session.execute(stmt)).scalars())


async def reverse_trade_ids(
    session: AsyncSession, buyer_id: uuid.UUID, seller_id: uuid.UUID, since: datetime
) -> list[uuid.UUID]:
    """Orders in which this seller bought from this buyer since `since` (round trips)."""
    stmt = select(Order.id).where(
        and_(Order.buyer_id == seller_id, Order.seller_id == buyer_id, Order.created_at >= since)
    )
    return list((await session.execute(stmt)).scalars())


async def is_party(session: AsyncSession, participant_id: uuid.UUID, order_id: uuid.UUID) -> bool:
    stmt = select(Order.id).where(
        Order.id == order_id, or_(Order.buyer_id == participant_id, Order.seller_id == participant_id)
    )
    return await session.scalar(stmt) is not None


async def quote_history(session: AsyncSession, product_id: uuid.UUID) -> list[tuple[Quote, str]]:
    """Every issued quote of the product with its buyer's credit status (the Art. 70 check)."""
    stmt = (
        select(Quote, Participant.credit_status)
        .join(Participant, Participant.id == Quote.buyer_id)
        .where(Quote.product_id == product_id, Quote.total_minor >= 0, Quote.digest != "")
    )
    return [(q, credit) for q, credit in (await session.execute(stmt)).all()]


async def trade_totals(
    session: AsyncSession, *, period: str, since: datetime | None, until: datetime | None
) -> list[TradeTotals]:
    """Settled trades (count, value, commission) and refunded trades per Beijing-calendar
    period, data category and currency, summed by the database in one query."""
    bucket = beijing_period(session.get_bind().dialect.name, period, Order.created_at).label("period")
    # A trade cut short by a revoked right still happened (its unused part was refunded).
    traded = [*SETTLED, OrderStatus.TERMINATED]
    settled = Order.status.in_(traded)
    stmt = (
        select(
            bucket,
            Product.category,
            Order.currency,
            func.count().filter(settled),
            func.coalesce(func.sum(Order.total_minor).filter(settled), 0),
            func.coalesce(func.sum(Order.commission_minor).filter(settled), 0),
            func.count().filter(Order.status == OrderStatus.REFUNDED),
        )
        .join(Product, Product.id == Order.product_id)
        .where(Order.status.in_([*traded, OrderStatus.REFUNDED]))
        .group_by(bucket, Product.category, Order.currency)
        .order_by(bucket, Product.category, Order.currency)
    )
    if since is not None:
        stmt = stmt.where(Order.created_at >= since)
    if until is not None:
        stmt = stmt.where(Order.created_at < until)
    return [
        TradeTotals(
            period=str(p),
            category=c,
            currency=cur,
            trades=n,
            value_minor=value,
            commission_minor=commission,
            refunded_trades=refunded,
        )
        for p, c, cur, n, value, commission, refunded in await session.execute(stmt)
    ]


async def resources_sold_abroad(
    session: AsyncSession, seller_id: uuid.UUID, since: datetime
) -> set[uuid.UUID]:
    """The resources of every product the seller was paid for since `since` by a foreign buyer
    or under a quote declared cross-border: what it has provided abroad (Art. 88)."""
    stmt = (
        select(product_resources.c.resource_id)
        .select_from(Order)
        .join(Quote, Quote.id == Order.quote_id)
        .join(Participant, Participant.id == Order.buyer_id)
        .join(product_resources, product_resources.c.product_id == Order.product_id)
        .where(
            Order.seller_id == seller_id,
            Order.paid_at >= since,
            Order.status.in_(list(EVER_PAID)),
            or_(Quote.cross_border.is_(True), Participant.jurisdiction == "foreign"),
        )
        .distinct()
    )
    return set((await session.execute(stmt)).scalars())


async def window_units(session: AsyncSession, scope: str, counterparty_id: uuid.UUID, key: str) -> int:
    """The counterparty's counted units in one window (0 before its first order there)."""
    stmt = select(WindowUsage.units).where(
        WindowUsage.scope == scope,
        WindowUsage.counterparty_id == counterparty_id,
        WindowUsage.window_key == key,
    )
    return int(await session.scalar(stmt) or 0)


async def lock_window(session: AsyncSession, scope: str, counterparty_id: uuid.UUID, key: str) -> WindowUsage:
    """The window's usage row, created at 0 if missing, locked (SELECT ... FOR UPDATE) until the
    transaction ends: orders of one buyer in one window queue here."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    values = {
        "scope": scope,
        "counterparty_id": counterparty_id,
        "window_key": key,
        "units": 0,
        "updated_at": now(),
    }
    await session.execute(insert(WindowUsage).values(values).on_conflict_do_nothing())
    stmt = (
        select(WindowUsage)
        .where(
            WindowUsage.scope == scope,
            WindowUsage.counterparty_id == counterparty_id,
            WindowUsage.window_key == key,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one()
