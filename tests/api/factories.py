"""One-line builders for valid objects, through the real API wherever one exists."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import func, select

from market.participants import service as participant_service
from market.participants.credit_code import (
    ALPHABET,
    credit_code_check_char,
    organisation_check_char,
)
from market.participants.schemas import StaffCreate

PASSWORD = "correct horse battery staple"
VERIFIED_CHECKLIST = {
    "identity_documents": True,
    "legal_representative": True,
    "contact": True,
    "intended_use": True,
}
_counter = itertools.count(1)


def valid_credit_code(seed: int | None = None) -> str:
    rng = random.Random(seed if seed is not None else next(_counter) * 7919)
    body = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    org = body + organisation_check_char(body)
    if any(c not in ALPHABET for c in org):  # org check can be 'X'... which is fine; retry others
        return valid_credit_code(rng.randrange(10**9))
    first17 = "91220100" + org
    return first17 + credit_code_check_char(first17)


@dataclass
class Party:
    participant_id: str
    user_id: str
    email: str
    headers: dict[str, str] = field(default_factory=dict)
    credit_code: str | None = None


class Api:
    """A user's view of the exchange: sign up, log in, act."""

    def __init__(self, client: httpx.AsyncClient, app: Any) -> None:
        self.client = client
        self.app = app
        self._verifier: dict[str, str] | None = None

    async def verify(self, participant_id: str) -> None:
        """An operator verifies the participant (issue 18: organisations and public bodies may
        not list or buy before), through the operator endpoint, as the exchange would."""
        if self._verifier is None:
            self._verifier = await self.staff("operator")
        r = await self.client.post(
            f"/v1/participants/{participant_id}/verification",
            json={
                "decision": "verify",
                "checklist": VERIFIED_CHECKLIST,
                "reason": "documents checked (tests)",
            },
            headers=self._verifier,
        )
        assert r.status_code == 200, r.text

    async def login(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        r = await self.client.post("/v1/auth/token", data={"username": email, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    async def org(
        self,
        name: str | None = None,
        roles: tuple[str, ...] = ("seller", "buyer"),
        **overrides: Any,
    ) -> Party:
        n = next(_counter)
        code = overrides.pop("credit_code", None) or valid_credit_code()
        body = {
            "kind": "organisation",
            "name": name or f"Org {n}",
            "credit_code": code,
            "roles": list(roles),
            "user": {
                "email": f"user{n}@org{n}.example.cn",
                "password": PASSWORD,
                "display_name": f"User {n}",
            },
        }
        verified = overrides.pop("verified", True)
        body.update(overrides)
        r = await self.client.post("/v1/participants", json=body)
        assert r.status_code == 201, r.text
        out = r.json()
        if verified and out["participant"]["verification_status"] != "verified":
            await self.verify(out["participant"]["id"])
        email = str(body["user"]["email"])  # type: ignore[call-overload,index]
        return Party(out["participant"]["id"], out["user"]["id"], email, await self.login(email), code)

    async def staff(self, role: str) -> dict[str, str]:
        n = next(_counter)
        email = f"{role}{n}@exchange.example.cn"
        async with self.app.state.sessionmaker() as session, session.begin():
            await participant_service.create_staff(
                session,
                StaffCreate(email=email, password=PASSWORD, display_name=role, role=role),
                actor="test",
            )
        return await self.login(email)


async def row_count(app: Any, model: Any) -> int:
    """How many rows the table behind `model` holds now, read in a session of its own."""
    async with app.state.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)
