"""What happens downstream when a person's data must leave what is sold: an upheld consent
withdrawal (PIPL Art. 15; Jilin 2023 Art. 43) or deletion (PIPL Art. 47; Jilin 2023 Art. 44),
or a personal-information objection upheld after registration (Jilin 2023 Art. 30).

1. each resource is put on a personal-data hold (the rules refuse to list or sell it, DATA-012);
2. every listed product built on it is suspended, the reason shown to buyers;
3. every current licensee of a product built on it owes an acknowledgement that it deleted or
   stopped using the data, by a deadline (`licensee_deletion_working_days`), after which the
   obligation escalates to the operators (`jobs.escalate_overdue_obligations`).

Applying the same cause twice changes nothing more (holds and obligations are unique per cause).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.catalog import products
from market.common.clock import now
from market.delivery import service as delivery
from market.delivery.models import LicenceRow
from market.notifications.outbox import notify
from market.privacy import repository
from market.privacy.models import LicenseeObligation
from market.privacy.states import ObligationStatus
from market.registry import after_registration, consents, lifecycle
from market.registry.models import Objection, Registration
from market.registry.workdays import add_working_days
from market.settings import Settings

WHY = {
    "consent_withdrawal": "a person withdrew consent to the processing of their personal information in "
    "this data (PIPL Art. 15; Jilin Regulation 2023 Art. 43)",
    "deletion": "a person asked for their personal information in this data to be deleted "
    "(PIPL Art. 47; Jilin Regulation 2023 Art. 44)",
    "objection": "an objection that this data infringes personal information was upheld "
    "(Jilin Regulation 2023 Art. 30)",
}
REQUIRED = {
    "consent_withdrawal": "stop using the person's data and delete it (PIPL Art. 15, 47(3))",
    "deletion": "delete the person's data (PIPL Art. 47)",
    "objection": "delete the data found to infringe personal information (Jilin 2023 Art. 30)",
}


@dataclass(frozen=True)
class Cause:
    type: str  # subject_request | objection
    id: uuid.UUID
    kind: str  # consent_withdrawal | deletion | objection

    def as_payload(self) -> dict[str, str]:
        return {"cause_type": self.type, "cause_id": str(self.id), "cause_kind": self.kind}


def suspension_reason(kind: str) -> str:
    return f"New sales suspended: {WHY[kind]}. The seller removes the person's data before it is sold again."


async def take_personal_data_out(
    session: AsyncSession, settings: Settings, *, resource_ids: list[uuid.UUID], cause: Cause, actor: str
) -> list[LicenseeObligation]:
    """Hold the resources, suspend their listed products, and record what each current licensee
    owes; the obligations created now (none when this cause was already applied)."""
    for resource_id in resource_ids:
        await consents.place_hold(
            session,
            resource_id=resource_id,
            cause_type=cause.type,
            cause_id=cause.id,
            reason=WHY[cause.kind],
            actor=actor,
        )
    await products.suspend_built_on(
        session, resource_ids, reason=suspension_reason(cause.kind), actor=actor, cause=cause.as_payload()
    )
    built = await products.built_on(session, resource_ids)
    resources_of = await products.resource_ids_of_many(session, [p.id for p in built])
    licences = await delivery.current_licences(session, [p.id for p in built])
    due = add_working_days(now(), settings.licensee_deletion_working_days, await lifecycle.calendar(session))
    created = []
    for licence in licences:
        for resource_id in (r for r in resources_of.get(licence.product_id, []) if r in resource_ids):
            if await repository.obligation_exists(session, licence.id, resource_id, cause.type, cause.id):
                continue
            created.append(await _oblige(session, licence, resource_id, cause, due, actor))
    return created


async def _oblige(
    session: AsyncSession,
    licence: LicenceRow,
    resource_id: uuid.UUID,
    cause: Cause,
    due: datetime,
    actor: str,
) -> LicenseeObligation:
    obligation = LicenseeObligation(
        id=uuid.uuid4(),
        licence_id=licence.id,
        licensee_id=licence.buyer_id,
        seller_id=licence.seller_id,
        product_id=licence.product_id,
        resource_id=resource_id,
        cause_type=cause.type,
        cause_id=cause.id,
        cause_kind=cause.kind,
        status=ObligationStatus.PENDING,
        due_at=due,
        created_at=now(),
    )
    session.add(obligation)
    await record(
        session,
        actor=actor,
        action="licensee_obligation.created",
        subject_type="licensee_obligation",
        subject_id=obligation.id,
        payload={
            "licence_id": str(licence.id),
            "licensee_id": str(licence.buyer_id),
            "resource_id": str(resource_id),
            "required": REQUIRED[cause.kind],
            "due_at": due,
            **cause.as_payload(),
        },
    )
    await notify(
        session,
        "licensee_obligation.created",
        to=[licence.buyer_id],
        subject=("licensee_obligation", obligation.id),
        data={"required": REQUIRED[cause.kind], "due_at": due},
    )
    return obligation


async def _objection_upheld(
    session: AsyncSession, settings: Settings, objection: Objection, registration: Registration, actor: str
) -> None:
    await take_personal_data_out(
        session,
        settings,
        resource_ids=[registration.resource_id],
        cause=Cause("objection", objection.id, "objection"),
        actor=actor,
    )


# A personal-information objection upheld after registration is handled like an upheld
# withdrawal: the registry, below this feature, calls back here.
after_registration.register_upheld_handler(_objection_upheld)
