"""The public catalogue: search over listed products (its DCAT rendering: `market.catalog.dcat`)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnClause, ColumnElement

from market.catalog.models import Product
from market.common.pagination import keyset_page

SIMPLE: ColumnClause[Any] = literal_column("'simple'::regconfig")


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


TRIGRAM = 3  # pg_trgm indexes a substring pattern only through its three-character pieces


def text_match(dialect: str, q: str) -> ColumnElement[bool]:
    """Products whose text contains `q` (case-insensitively) or, for several words on
    PostgreSQL, every one of them as a word in any order."""
    contains = Product.search_text.ilike(f"%{_like_escape(q)}%", escape="\\")
    if dialect != "postgresql":
        return contains
    # The substring match keeps unsegmented Chinese text findable (the 'simple' parser does not
    # split CJK words). From three characters on, the trigram index serves it, so a rare term
    # never scans the catalogue. A shorter pattern holds no trigram, the index would return
    # every row, so it is written in a form the index cannot claim and the planner walks the
    # newest listings and stops at a page of matches instead.
    substring = contains if len(q) >= TRIGRAM else func.strpos(func.lower(Product.search_text), q.lower()) > 0
    if len(q.split()) < 2:
        return substring  # one word: full-text search could find nothing the substring misses
    # The configuration is a literal, not a bind parameter: a reused generic plan must still
    # match the expression index's to_tsvector('simple', ...).
    words = func.to_tsvector(SIMPLE, Product.search_text).bool_op("@@")(func.plainto_tsquery(SIMPLE, q))
    return or_(words, substring)


def catalogue_query(
    dialect: str,
    *,
    q: str | None,
    category: str | None,
    grade: str | None,
    delivery_mode: str | None,
    min_price: int | None,
    max_price: int | None,
    seller_id: uuid.UUID | None,
) -> Select[Any]:
    stmt = select(Product).where(Product.listing_status == "listed")
    if q:
        stmt = stmt.where(text_match(dialect, q))
    for column, value in (
        (Product.category, category),
        (Product.grade, grade),
        (Product.delivery_mode, delivery_mode),
        (Product.seller_id, seller_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if min_price is not None:
        stmt = stmt.where(Product.price_from_minor >= min_price)
    if max_price is not None:
        stmt = stmt.where(Product.price_from_minor <= max_price)
    return stmt


async def search(session: AsyncSession, *, cursor: str | None, limit: int, **filters: Any) -> list[Product]:
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    stmt = keyset_page(catalogue_query(dialect, **filters), Product, cursor, limit)
    return list((await session.execute(stmt)).scalars())


async def listed_count(session: AsyncSession) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Product).where(Product.listing_status == "listed")
        )
        or 0
    )
