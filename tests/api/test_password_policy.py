"""Issue 18, finding 8: a new password is not a common one, and it is taken exactly as sent."""

from __future__ import annotations

from typing import Any

import pytest

from market.participants.models import Participant
from tests.api.factories import row_count, valid_credit_code


def sign_up_body(password: str, n: int) -> dict[str, Any]:
    return {
        "kind": "organisation",
        "name": f"Pw Org {n}",
        "credit_code": valid_credit_code(),
        "roles": ["buyer"],
        "user": {"email": f"pw{n}@pw{n}.example.cn", "password": password, "display_name": "P"},
    }


@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaaaaaa",
        "password1234",
        "Password1234!",
        "123456789012",
        "qwertyuiop12",
        "abcdefghijkl",
        "!!iloveyou2026",
    ],
)
async def test_common_passwords_are_refused(client: Any, app: Any, password: str) -> None:
    r = await client.post("/v1/participants", json=sign_up_body(password, abs(hash(password)) % 10**6))
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["body.user.password"]
    assert await row_count(app, Participant) == 0


async def test_surrounding_spaces_are_kept_and_the_exact_password_signs_in(client: Any) -> None:
    password = "  spaced out passphrase  "
    body = sign_up_body(password, 424242)
    assert (await client.post("/v1/participants", json=body)).status_code == 201
    email = body["user"]["email"]
    exact = await client.post("/v1/auth/token", data={"username": email, "password": password})
    assert exact.status_code == 200, exact.text
    trimmed = await client.post("/v1/auth/token", data={"username": email, "password": password.strip()})
    assert trimmed.status_code == 401
