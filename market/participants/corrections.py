"""A participant corrects its own details (PIPL Art. 46 for a natural person: the right to have
one's personal information corrected). The audit log records what changed, and for a natural
person only a mask and a keyed digest of the new name: never the name or an ID number."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.principal import Principal
from market.common.masking import mask_name, pseudonym
from market.errors import InvalidInput, NotFound
from market.notifications.outbox import OPERATORS, notify
from market.participants import repository
from market.participants.models import Participant
from market.participants.schemas import ParticipantCorrection
from market.participants.service import identity_hash, identity_hashes
from market.participants.signup import ATTEMPTED
from market.settings import Settings


async def correct(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    participant_id: uuid.UUID,
    data: ParticipantCorrection,
) -> Participant:
    if principal.participant_id != participant_id:
        raise NotFound("participant not found")  # one corrects one's own details only
    participant = await repository.get(session, participant_id, lock=True)
    if participant is None:
        raise NotFound("participant not found")
    person = participant.kind == "natural_person"
    changed: dict[str, object] = {}
    if data.identity_number is not None:
        if not person:
            raise InvalidInput(
                "only natural persons have an identity number",
                fields=[("body.identity_number", "only for natural persons")],
            )
        new_hash = identity_hash(settings, data.identity_number)
        taken = await session.scalar(
            select(Participant.id).where(
                Participant.identity_hash.in_(identity_hashes(settings, data.identity_number)),
                Participant.id != participant.id,
            )
        )
        if taken:
            # The answer must not tell that the number is someone else's (issue 18, finding 10):
            # the correction is answered as made but held; the number's holder and the operators
            # are told, since one of the two registrations may be an impostor's.
            await notify(
                session,
                ATTEMPTED,
                to=[taken, OPERATORS],
                subject=("participant", taken),
                data={"matched": "identity_number", "correction_of": "another participant"},
            )
            changed["identity_number"] = "held: registered to another participant"
        else:
            participant.identity_hash = new_hash
            changed["identity_number"] = "replaced"  # never the number, not even hashed
    if data.name is not None and data.name != participant.name:
        if person:
            digest = pseudonym(settings.pseudonym_key(), "participant-name", data.name)
            changed["name"] = {"masked": mask_name(data.name), "digest": digest}
        else:
            changed["name"] = {"from": participant.name, "to": data.name}
        participant.name = data.name
    if changed:
        await record(
            session,
            actor=principal.actor,
            action="participant.corrected",
            subject_type="participant",
            subject_id=participant.id,
            payload={"changed": changed, "basis": "PIPL Art. 46" if person else "self-correction"},
        )
    return participant
