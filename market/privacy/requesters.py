"""Who files and follows data-subject requests: a natural person signed in, or a person who
verified a contact (`contacts`), each known here only by a keyed pseudonym; and who else may
read a request (its seller, the exchange's operators)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from market.auth.principal import Principal
from market.common.masking import pseudonym
from market.errors import NotFound, Unauthenticated
from market.participants import service as participants
from market.privacy import contacts, repository
from market.privacy.models import SubjectRequest
from market.settings import Settings


@dataclass(frozen=True)
class Requester:
    """A person as this feature knows them: a keyed pseudonym, and how they were verified."""

    pseudonym: str
    participant_id: uuid.UUID | None = None
    verification_id: uuid.UUID | None = None

    @property
    def actor(self) -> str:
        return contacts.subject_actor(self.pseudonym)


@dataclass(frozen=True)
class Viewer:
    """Who reads or acts: a signed-in caller, a person, or both (a signed-in natural person)."""

    principal: Principal | None
    requester: Requester | None

    def may_read(self, request: SubjectRequest) -> bool:
        if self.principal is not None and (
            self.principal.has("operator") or self.principal.participant_id == request.seller_id
        ):
            return True
        return self.requester is not None and self.requester.pseudonym == request.requester_pseudonym


async def identify(
    session: AsyncSession, settings: Settings, principal: Principal | None, token: str | None
) -> Viewer:
    """The caller from a bearer token or API key and/or a requester token; 401 with neither."""
    if token:
        verification = await contacts.by_token(session, token)
        return Viewer(principal, Requester(verification.contact_pseudonym, verification_id=verification.id))
    if principal is None:
        raise Unauthenticated("sign in, or verify your contact and send X-Requester-Token")
    if principal.participant_id is not None:
        participant = await participants.find(session, principal.participant_id)
        if participant is not None and participant.kind == "natural_person":
            key = settings.pseudonym_key()
            person = pseudonym(key, "participant", str(participant.id))
            return Viewer(principal, Requester(person, participant_id=participant.id))
    return Viewer(principal, None)


async def visible(session: AsyncSession, viewer: Viewer, request_id: uuid.UUID) -> SubjectRequest:
    request = await repository.subject_request(session, request_id)
    if request is None or not viewer.may_read(request):
        raise NotFound("request not found")
    return request


async def page(
    session: AsyncSession, viewer: Viewer, status: str | None, cursor: str | None, limit: int
) -> list[SubjectRequest]:
    principal = viewer.principal
    stmt = repository.readable_requests(
        sees_all=principal is not None and principal.has("operator"),
        seller_id=principal.participant_id if principal else None,
        requester_pseudonym=viewer.requester.pseudonym if viewer.requester else None,
    )
    return await repository.requests_page(session, stmt, status, cursor, limit)
