"""An action whose audit entry cannot be written is not made: the entry and the change share
one transaction, whatever stops the entry."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from market.audit.log import entry_values
from market.audit.macs import entry_keyring
from market.audit.models import AuditEntry
from market.errors import InvalidInput
from market.participants.models import Participant
from tests.api.factories import Api, row_count

REFUSE = {
    "sqlite": [
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_entries "
        "BEGIN SELECT RAISE(ABORT, 'the audit log refuses writes'); END"
    ],
    "postgres": [
        "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the audit log refuses writes'; END $$",
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_entries FOR EACH ROW "
        "EXECUTE FUNCTION refuse_audit()",
    ],
}
ALLOW = {
    "sqlite": ["DROP TRIGGER refuse_audit"],
    "postgres": ["DROP TRIGGER refuse_audit ON audit_entries", "DROP FUNCTION refuse_audit()"],
}


async def run(app: Any, statements: list[str]) -> None:
    async with app.state.engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement))


async def test_a_change_whose_audit_entry_is_refused_is_not_made(api: Api, app: Any, backend: str) -> None:
    seller = await api.org()
    operator = await api.staff("operator")
    entries_before = await row_count(app, AuditEntry)
    await run(app, REFUSE[backend])
    try:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            refused = await client.patch(
                f"/v1/participants/{seller.participant_id}/credit",
                headers=operator,
                json={"status": "blacklisted", "reason": "fraudulent listings"},
            )
    finally:
        await run(app, ALLOW[backend])
    assert refused.status_code >= 400 and refused.headers["content-type"] == "application/problem+json"
    assert "Traceback" not in refused.text
    async with app.state.sessionmaker() as session:
        status = await session.scalar(
            select(Participant.credit_status).where(Participant.id == uuid.UUID(seller.participant_id))
        )
    assert status == "good" and await row_count(app, AuditEntry) == entries_before
    # With the log writable again the same change goes through, with its entry.
    ok = await api.client.patch(
        f"/v1/participants/{seller.participant_id}/credit",
        headers=operator,
        json={"status": "blacklisted", "reason": "fraudulent listings"},
    )
    assert ok.status_code == 200 and await row_count(app, AuditEntry) == entries_before + 1


def test_an_entry_too_large_for_the_logs_bundles_is_refused_before_anything_is_written(app: Any) -> None:
    keys = entry_keyring(app.state.settings)
    with pytest.raises(InvalidInput) as refused:
        entry_values(
            actor="x", action="big", subject_type="t", subject_id="s", keys=keys, payload={"x": "y" * 70_000}
        )
    assert refused.value.fields == [("body", "too large to be recorded in the audit log")]
    assert entry_values(
        actor="x", action="ok", subject_type="t", subject_id="s", keys=keys, payload={"x": "y" * 60_000}
    )
