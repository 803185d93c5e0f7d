"""Sign-up reveals no existing account (issue 18, finding 10): an e-mail address, a credit code or
an ID number already registered gets the same status and the same shape of answer as new details,
creates nothing, and the owner of the details is told in its event feed."""

from __future__ import annotations

from typing import Any

from market.auth.models import User
from market.participants.models import Participant
from tests.api.factories import PASSWORD, Api, row_count, valid_credit_code
from tests.api.jobs import app_of, drain
from tests.api.test_sessions_and_keys import person

LD = {"Accept": "application/ld+json"}


def organisation(email: str, code: str, name: str = "长春数据科技有限公司") -> dict[str, Any]:
    return {
        "kind": "organisation",
        "name": name,
        "credit_code": code,
        "roles": ["seller", "buyer"],
        "user": {"email": email, "password": PASSWORD, "display_name": "Ops"},
    }


def shape(value: Any) -> Any:
    """The answer with every value replaced by its type: what a caller can compare."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


async def attempts(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    await drain(app_of(client))  # the feed shows an event once the delivery job has sequenced it
    items = (await client.get("/v1/events", headers=headers)).json()["items"]
    return [e for e in items if e["type"] == "participant.sign_up_attempted"]


async def assert_same_answer(client: Any, app: Any, first: Any, again: dict[str, Any]) -> dict[str, Any]:
    participants, users = await row_count(app, Participant), await row_count(app, User)
    second = await client.post("/v1/participants", json=again)
    assert second.status_code == first.status_code == 201, second.text
    assert shape(second.json()) == shape(first.json())
    assert second.headers["content-type"] == first.headers["content-type"]
    assert second.json()["participant"]["id"] != first.json()["participant"]["id"]
    assert (await row_count(app, Participant), await row_count(app, User)) == (participants, users)
    return dict(second.json())


async def test_the_same_email_twice_answers_alike_creates_nothing_and_tells_the_owner(
    api: Api, client: Any, app: Any
) -> None:
    first = await client.post("/v1/participants", json=organisation("ops@example.cn", valid_credit_code()))
    again = await assert_same_answer(
        client, app, first, organisation("ops@example.cn", valid_credit_code(), name="Other Co")
    )
    assert again["participant"]["verification_status"] == "pending_verification"
    assert again["user"]["email"] == "ops@example.cn"
    # The look-alike's id resolves to nothing, as a new (unverified) participant's does.
    for answer in (first.json(), again):
        assert (
            await client.get(f"/v1/participants/{answer['participant']['id']}", headers=LD)
        ).status_code == 404
    owner = await api.login("ops@example.cn")
    told = await attempts(client, owner)
    assert [e["data"]["matched"] for e in told] == ["email"]
    assert told[0]["subject_id"] == first.json()["participant"]["id"]
    # The second caller's password opens nothing.
    refused = await client.post(
        "/v1/auth/token", data={"username": "ops@example.cn", "password": "x" + PASSWORD}
    )
    assert refused.status_code == 401


async def test_the_same_credit_code_twice_answers_alike_and_tells_the_owner(
    api: Api, client: Any, app: Any
) -> None:
    code = valid_credit_code()
    first = await client.post("/v1/participants", json=organisation("first@example.cn", code))
    await assert_same_answer(client, app, first, organisation("second@example.cn", code))
    # Nobody can sign in as the second sign-up's user: it does not exist.
    second_login = await client.post(
        "/v1/auth/token", data={"username": "second@example.cn", "password": PASSWORD}
    )
    assert second_login.status_code == 401
    told = await attempts(client, await api.login("first@example.cn"))
    assert [e["data"]["matched"] for e in told] == ["credit_code"]


async def test_the_same_id_number_twice_answers_alike_and_tells_the_owner(
    api: Api, client: Any, app: Any
) -> None:
    first = await client.post("/v1/participants", json=person("1", "220102199001011234"))
    again = await assert_same_answer(client, app, first, person("2", "220102199001011234"))
    assert again["participant"]["verification_status"] == first.json()["participant"]["verification_status"]
    told = await attempts(client, await api.login("p1@person.example.cn"))
    assert [e["data"]["matched"] for e in told] == ["identity_number"]
    assert "220102199001011234" not in str(told)


async def test_an_idempotent_retry_of_a_repeated_sign_up_replays_the_same_look_alike(
    client: Any, app: Any
) -> None:
    code = valid_credit_code()
    assert (await client.post("/v1/participants", json=organisation("a@example.cn", code))).status_code == 201
    key = {"Idempotency-Key": "signup-retry-1"}
    body = organisation("b@example.cn", code)
    once = await client.post("/v1/participants", json=body, headers=key)
    twice = await client.post("/v1/participants", json=body, headers=key)
    assert once.status_code == twice.status_code == 201
    assert once.json() == twice.json()


async def test_an_operator_is_still_told_what_clashes(api: Api, client: Any) -> None:
    code = valid_credit_code()
    assert (await client.post("/v1/participants", json=organisation("a@example.cn", code))).status_code == 201
    operator = await api.staff("operator")
    clash = await client.post("/v1/participants", json=organisation("b@example.cn", code), headers=operator)
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["field"] == "body.credit_code"


async def test_correcting_to_another_persons_id_number_answers_alike_and_changes_nothing(
    api: Api, client: Any
) -> None:
    taken, mine = "220102199001011234", "220102199202022345"
    owned = await client.post("/v1/participants", json=person("owner", taken))
    owner_id = owned.json()["participant"]["id"]
    me = await client.post("/v1/participants", json=person("me", mine))
    headers = await api.login("pme@person.example.cn")
    pid = me.json()["participant"]["id"]
    fresh = "220102199303033456"
    for number in (taken, fresh):
        answer = await client.patch(
            f"/v1/participants/{pid}", headers=headers, json={"identity_number": number}
        )
        assert answer.status_code == 200, answer.text
    # The fresh number took (a sign-up with it now tells me), the taken one stayed its owner's.
    assert (await client.post("/v1/participants", json=person("x", fresh))).status_code == 201
    assert [e["data"]["matched"] for e in await attempts(client, headers)] == ["identity_number"]
    owner = await api.login("powner@person.example.cn")
    assert [e["data"]["matched"] for e in await attempts(client, owner)] == ["identity_number"]
    assert (await client.post("/v1/participants", json=person("y", taken))).status_code == 201
    assert len(await attempts(client, owner)) == 2
    operator_told = await attempts(client, await api.staff("operator"))
    assert [e["subject_id"] for e in operator_told] == [owner_id]
