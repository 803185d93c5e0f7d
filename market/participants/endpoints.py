"""HTTP: sign-up, tokens, participants, credit status, API keys. Parse, authorise, call, return."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from market.auth.models import ApiKey, User
from market.auth.principal import Authenticated, MaybeAuthenticated, Operator, current_principal
from market.common.linked_data import LINKED_DATA_RESPONSES, LinkedDataWanted, linked_data_response
from market.db.session import Session
from market.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated, problem_responses
from market.idempotency.service import IdempotencyKey, idempotent
from market.participants import corrections, service, sessions, signup, verification
from market.participants.linked_data import agent_document
from market.participants.models import Participant
from market.participants.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    CreditChange,
    ParticipantCorrection,
    ParticipantCreate,
    ParticipantOut,
    PasswordChange,
    RefreshIn,
    SignUpOut,
    TokenOut,
    UserOut,
    VerificationDecision,
    VerificationItem,
)
from market.ratelimits import RateLimits, limit_per_ip
from market.runtime import AppSettings, PublicIris

router = APIRouter(prefix="/v1", tags=["participants"])
NO_STORE = {"Cache-Control": "no-store"}


class ApiKeyAlreadyCreated(Conflict):
    """A retried key creation: the first answer showed the secret once, and it is not stored."""

    code = "api-key-already-created"

    def __init__(self, key_id: str) -> None:
        super().__init__(
            f"API key {key_id} was already created under this Idempotency-Key. Its secret was shown "
            "once, in that first answer, and only its hash is kept. If that answer was lost, revoke "
            f"the key (DELETE /v1/api-keys/{key_id}) and create another.",
            extra={"api_key_id": key_id},
        )


def participant_out(p: Participant) -> ParticipantOut:
    return ParticipantOut.model_validate(p, from_attributes=True)


def api_key_out(k: ApiKey) -> ApiKeyOut:
    return ApiKeyOut.model_validate(k, from_attributes=True)


@router.post(
    "/participants",
    status_code=status.HTTP_201_CREATED,
    response_model=SignUpOut,
    summary="Sign up an organisation, natural person or public body with its first user. Details "
    "already registered get the same answer and create nothing; their owner is told",
    dependencies=[limit_per_ip("signup", "rate_limit_signup_ip")],
    responses=problem_responses(Conflict, Forbidden),
)
async def sign_up(
    data: ParticipantCreate,
    settings: AppSettings,
    session: Session,
    principal: MaybeAuthenticated,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    owner = principal.actor if principal else "anonymous"
    call = idempotent(session, owner, idempotency_key, "participants.create", data)
    if replayed := await call.replay():
        return replayed
    participant, user = await signup.sign_up(session, settings, data, principal)
    return await call.remember(
        SignUpOut(
            participant=participant_out(participant),
            user=UserOut.model_validate(user, from_attributes=True),
        )
    )


@router.post(
    "/auth/token",
    response_model=TokenOut,
    summary="Exchange e-mail and password for a JWT access token (OAuth2 password flow)",
    # The form's fields are documented by FastAPI; this is what /docs fills in (a demo account).
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "example": {
                        "username": "buyer@changchun-buyer.example.cn",
                        "password": "demo-password-2026",
                    }
                }
            }
        }
    },
    responses=problem_responses(Unauthenticated),
    tags=["auth"],
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    settings: AppSettings,
    session: Session,
    limits: RateLimits,
) -> TokenOut:
    for name, value in (("username", form.username), ("password", form.password)):
        if "\x00" in value:  # no e-mail address or password holds one; PostgreSQL cannot compare it
            raise InvalidInput(f"{name} contains a NUL character", fields=[(f"body.{name}", "contains NUL")])
    user: User = await service.sign_in(session, limits, form.username, form.password)
    return token_out(await sessions.open_session(session, settings, user))


def token_out(pair: sessions.TokenPair) -> TokenOut:
    return TokenOut(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
        refresh_expires_in=pair.refresh_expires_in,
    )


@router.post(
    "/auth/refresh",
    response_model=TokenOut,
    summary="Exchange a refresh token for a new access token and refresh token (each usable once)",
    responses=problem_responses(Unauthenticated, Forbidden),
    tags=["auth"],
)
async def refresh(data: RefreshIn, settings: AppSettings, session: Session) -> TokenOut:
    return token_out(await sessions.refresh(session, settings, data.refresh_token))


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End every session of this user: its access and refresh tokens stop working",
    responses=problem_responses(Unauthenticated),
    tags=["auth"],
)
async def logout(session: Session, principal: Authenticated) -> Response:
    await sessions.logout(session, principal)
    return Response(status_code=204)


@router.post(
    "/auth/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change your password; every session ends and the API keys you created are revoked",
    responses=problem_responses(Unauthenticated),
    tags=["auth"],
)
async def change_password(data: PasswordChange, session: Session, principal: Authenticated) -> Response:
    await sessions.change_password(session, principal, data.current_password, data.new_password)
    return Response(status_code=204)


@router.get(
    "/participants/{participant_id}",
    response_model=ParticipantOut,
    summary="Read a participant (its own users, operators and auditors only); as linked data, "
    "its public parts (anyone)",
    responses={**LINKED_DATA_RESPONSES, **problem_responses(NotFound, Unauthenticated)},
)
async def read_participant(
    participant_id: uuid.UUID,
    session: Session,
    principal: MaybeAuthenticated,
    iris: PublicIris,
    linked_data: LinkedDataWanted,
) -> Any:
    if linked_data:  # the participant's IRI resolves for anyone, to its public parts only
        participant = await service.find(session, participant_id)
        # Not public until verified: a sign-up's id must not tell a new participant from the
        # look-alike a repeated sign-up is answered with (issue 18, finding 10).
        if participant is None or participant.verification_status != verification.VERIFIED:
            raise NotFound("participant not found")
        return await linked_data_response(agent_document(participant, iris), linked_data)
    caller = await current_principal(principal)
    return participant_out(await service.get_participant(session, caller, participant_id))


@router.patch(
    "/participants/{participant_id}",
    response_model=ParticipantOut,
    summary="Correct your own participant's name (and a natural person's ID number) (PIPL Art. 46)",
    responses=problem_responses(NotFound, Conflict, Unauthenticated),
)
async def correct_participant(
    participant_id: uuid.UUID,
    data: ParticipantCorrection,
    settings: AppSettings,
    session: Session,
    principal: Authenticated,
) -> ParticipantOut:
    return participant_out(await corrections.correct(session, settings, principal, participant_id, data))


@router.patch(
    "/participants/{participant_id}/credit",
    response_model=ParticipantOut,
    summary="Set a participant's credit status (good / watch / blacklisted) with a reason",
    responses=problem_responses(NotFound, Unauthenticated, Forbidden),
)
async def change_credit(
    participant_id: uuid.UUID, change: CreditChange, session: Session, principal: Operator
) -> ParticipantOut:
    return participant_out(await service.change_credit(session, principal, participant_id, change))


@router.post(
    "/participants/{participant_id}/verification",
    response_model=ParticipantOut,
    summary="Verify (or decline) a participant after checking its documents, legal representative, "
    "contact and intended use (operators); until then it may not list or buy",
    responses=problem_responses(NotFound, Conflict, Unauthenticated, Forbidden),
)
async def verify_participant(
    participant_id: uuid.UUID, data: VerificationDecision, session: Session, principal: Operator
) -> ParticipantOut:
    return participant_out(await verification.decide(session, principal, participant_id, data))


@router.get(
    "/participant-verifications",
    response_model=list[VerificationItem],
    summary="Participants awaiting verification, oldest first (operators); `held` ones resemble a "
    "blacklisted participant",
    responses=problem_responses(Unauthenticated, Forbidden),
)
async def verification_queue(
    session: Session,
    principal: Operator,
    status: Annotated[str, Query(pattern="^(pending_verification|held|declined)$")] = "pending_verification",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[VerificationItem]:
    return [
        VerificationItem(
            participant=participant_out(p),
            legal_representative=p.legal_representative,
            verification_note=p.verification_note,
            contact_emails=emails,
        )
        for p, emails in await verification.queue(session, status, limit)
    ]


@router.post(
    "/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    summary="Create a machine credential; the key is shown once and stored hashed",
    responses=problem_responses(Unauthenticated, Forbidden, ApiKeyAlreadyCreated),
    tags=["auth"],
)
async def create_api_key(
    data: ApiKeyCreate,
    session: Session,
    principal: Authenticated,
    limits: RateLimits,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    owner = str(principal.participant_id or principal.actor)
    await limits.per_key("api-keys", limits.settings.rate_limit_api_keys, owner)
    call = idempotent(session, principal.actor, idempotency_key, "api_keys.create", data)
    if first := await call.first():
        raise ApiKeyAlreadyCreated(json.loads(first.response_body)["id"])
    key, secret = await service.create_api_key(session, principal, data)
    # Only the key's hash is kept, so the stored first answer leaves the secret out.
    out = await call.remember(api_key_out(key))
    body = ApiKeyCreated(**out.model_dump(), key=secret)
    return JSONResponse(body.model_dump(mode="json"), status_code=201, headers=NO_STORE)


@router.get(
    "/api-keys",
    response_model=list[ApiKeyOut],
    summary="List this participant's API keys",
    responses=problem_responses(Unauthenticated),
    tags=["auth"],
)
async def list_api_keys(session: Session, principal: Authenticated) -> list[ApiKeyOut]:
    return [api_key_out(k) for k in await service.list_api_keys(session, principal)]


@router.delete(
    "/api-keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API key",
    responses=problem_responses(NotFound, Unauthenticated),
    tags=["auth"],
)
async def revoke_api_key(key_id: uuid.UUID, session: Session, principal: Authenticated) -> Response:
    await service.revoke_api_key(session, principal, key_id)
    return Response(status_code=204)


class WhoAmI(BaseModel):
    user_id: uuid.UUID | None
    participant_id: uuid.UUID | None
    roles: list[str]
    via_api_key: bool


@router.get(
    "/auth/me",
    response_model=WhoAmI,
    summary="Who the credential in this request is",
    responses=problem_responses(Unauthenticated),
    tags=["auth"],
)
async def who_am_i(principal: Authenticated) -> WhoAmI:
    return WhoAmI(
        user_id=principal.user_id,
        participant_id=principal.participant_id,
        roles=sorted(principal.roles),
        via_api_key=principal.api_key_id is not None,
    )
