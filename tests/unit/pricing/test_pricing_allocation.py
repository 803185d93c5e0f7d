"""Random allocation by commit–reveal: anyone can recompute the draw; a buyer cannot claim a win."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from pricing import (
    AllocationResult,
    AllocationWin,
    BuyerFacts,
    PricingError,
    announce,
    draw,
    entrants_digest,
    make_commitment,
    new_seed,
    quote,
    reveal,
    verify_reveal,
)
from tests.unit.pricing.pricing_factories import AT, allocation_win, facts, plan

SEED = "00" * 31 + "01"
PEOPLE = ["erin", "alice", "dave", "bob", "carol"]


def recompute(seed: str, entrants: list[str], winners: int) -> list[str]:
    """The published algorithm, written again from its description (allocation.py)."""
    key = bytes.fromhex(seed)
    scored = sorted((hmac.new(key, e.encode("utf-8"), hashlib.sha256).digest(), e) for e in set(entrants))
    return [e for _, e in scored[:winners]]


def announced(**over: Any) -> Any:
    data: dict[str, Any] = {
        "draw_id": "DRAW-2026-06",
        "rule": "LOTTERY-2026-01",
        "subject": "product-1",
        "winners_wanted": 3,
        "seed": SEED,
        "announced_at": AT - timedelta(days=10),
        "opens_at": AT - timedelta(days=9),
        "closes_at": AT - timedelta(days=2),
    }
    data.update(over)
    return announce(**data)


def test_the_commitment_is_sha256_of_the_seed_bytes() -> None:
    # SHA-256 of 32 zero bytes, a published test vector.
    assert make_commitment("00" * 32) == "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
    assert make_commitment(SEED) == hashlib.sha256(bytes.fromhex(SEED)).hexdigest()
    assert verify_reveal(make_commitment(SEED), SEED)
    assert not verify_reveal(make_commitment(SEED), "00" * 32)
    assert not verify_reveal(make_commitment(SEED), "not hex")
    fresh = new_seed()
    assert len(fresh) == 64 and fresh != new_seed() and verify_reveal(make_commitment(fresh), fresh)
    with pytest.raises(PricingError, match="64 lowercase hex"):
        make_commitment("ABCD")


def test_anyone_can_recompute_the_winners_from_the_seed_and_entrants() -> None:
    winners = draw(SEED, PEOPLE, 3)
    assert list(winners) == recompute(SEED, PEOPLE, 3)
    assert winners == ("alice", "bob", "dave")  # pinned: the algorithm must never drift
    assert draw(SEED, sorted(PEOPLE), 3) == draw(SEED, reversed(PEOPLE), 3)
    assert draw(SEED, PEOPLE, 99) == tuple(recompute(SEED, PEOPLE, 99))
    assert len({draw(f"{i:064x}", PEOPLE, 1) for i in range(20)}) > 1  # the seed decides


def test_a_new_entrant_never_reorders_the_others() -> None:
    before = draw(SEED, PEOPLE, len(PEOPLE))
    after = draw(SEED, [*PEOPLE, "frank"], len(PEOPLE) + 1)
    assert [e for e in after if e != "frank"] == list(before)


@pytest.mark.parametrize(
    ("entrants", "says"),
    [(["alice", "alice"], "twice"), (["a\nb"], "printable"), ([""], "printable"), (["x" * 201], "printable")],
)
def test_bad_entrant_lists_are_refused(entrants: list[str], says: str) -> None:
    with pytest.raises(PricingError, match=says):
        draw(SEED, entrants, 1)


def test_a_revealed_result_is_verified_on_construction() -> None:
    result = reveal(announced(), SEED, PEOPLE, AT - timedelta(days=1))
    assert result.winners == draw(SEED, PEOPLE, 3) and result.entrants == tuple(sorted(PEOPLE))
    assert result.entrants_digest == hashlib.sha256("\n".join(sorted(PEOPLE)).encode()).hexdigest()
    public = result.model_dump(mode="json")
    assert AllocationResult.model_validate(public) == result  # anyone can re-check the JSON
    forged: list[dict[str, Any]] = [
        {**public, "seed": "00" * 32},
        {**public, "winners": ["carol", "bob", "alice"]},
        {**public, "entrants": list(reversed(public["entrants"]))},
        {**public, "entrants": [*public["entrants"], "zed"]},
        {**public, "revealed_at": (AT - timedelta(days=3)).isoformat()},
    ]
    for body in forged:
        with pytest.raises(ValidationError):
            AllocationResult.model_validate(body)
    assert reveal(announced(), SEED, [], AT).winners == ()
    assert entrants_digest(PEOPLE) == result.entrants_digest


def test_the_commitment_must_precede_the_window() -> None:
    with pytest.raises(ValidationError, match="before the window opens"):
        announced(opens_at=AT - timedelta(days=11))
    with pytest.raises(ValidationError, match="before the window opens"):
        announced(closes_at=AT - timedelta(days=9))


def test_only_a_winner_holds_a_win() -> None:
    result = reveal(announced(winners_wanted=1), SEED, PEOPLE, AT)
    assert result.winners == ("alice",)
    assert AllocationWin(result=result, entrant="alice").rule == "LOTTERY-2026-01"
    with pytest.raises(ValidationError, match="not a winner"):
        AllocationWin(result=result, entrant="bob")


def test_a_buyer_cannot_say_it_won() -> None:
    with pytest.raises(ValidationError, match="lottery_won"):
        BuyerFacts.model_validate({"purpose": "x", "quantity": 1, "lottery_won": True, "at": AT.isoformat()})
    win = allocation_win().model_dump(mode="json")
    win["result"]["winners"] = ["buyer-1"]  # a made-up result: not what the seed gives
    with pytest.raises(ValidationError, match="winners"):
        BuyerFacts.model_validate(
            {"purpose": "x", "quantity": 1, "allocation_win": win, "at": AT.isoformat()}
        )


def test_the_discount_comes_only_from_a_win_under_the_plans_rule() -> None:
    p = plan(
        kind="fixed",
        unit_price="10",
        discounts=[{"kind": "random_allocation", "pct": "90", "rule_id": "R-9"}],
    )
    assert quote(p, None, facts(1)).total_minor == 1000
    assert quote(p, None, facts(1, allocation_win=allocation_win(rule="R-1"))).total_minor == 1000
    won = quote(p, None, facts(1, allocation_win=allocation_win(rule="R-9")))
    assert won.total_minor == 100 and won.discount_codes == ("random_allocation",)
    assert "won draw DRAW-1" in won.lines[-1].reason and "Art. 70" in won.lines[-1].reason
