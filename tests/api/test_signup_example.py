"""The OpenAPI example of the sign-up body can be sent as it is: its credit code is valid and is
not a demo participant's (which answered 409 on an embedded server)."""

from __future__ import annotations

from typing import Any

from market.demo.seed import DEMO_CREDIT_CODES
from market.participants.credit_code import is_valid_credit_code
from tests.api.factories import PASSWORD


async def test_the_documented_credit_code_example_signs_up(client: Any) -> None:
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]["ParticipantCreate"]
    examples = schema["properties"]["credit_code"]["examples"]
    assert examples and all(is_valid_credit_code(c) and c not in DEMO_CREDIT_CODES for c in examples)
    body = {
        "kind": "organisation",
        "name": "长春示例数据有限公司",
        "credit_code": examples[0],
        "user": {"email": "example@exchange.example.cn", "password": PASSWORD, "display_name": "Example"},
    }
    r = await client.post("/v1/participants", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["participant"]["credit_code"] == examples[0]
