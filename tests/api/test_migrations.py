"""Migrations build, from an empty database, exactly the schema the models describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from market.db import all_models  # noqa: F401
from market.db.base import Base
from market.db.migrate import alembic_config

# PostgreSQL-only expression indexes (full-text search) live in migrations, not in the models.
EXPRESSION_INDEXES = {"ix_products_search_fts"}


def not_expression_index(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


async def test_upgrade_from_empty_reaches_every_head_and_matches_models(app: Any) -> None:
    heads = set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
    async with app.state.engine.connect() as conn:
        applied = {
            row[0] for row in await conn.execute(text("SELECT version_num FROM alembic_version"))
        }
        diffs = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"include_object": not_expression_index}),
                Base.metadata,
            )
        )
    assert applied == heads
    assert diffs == []
