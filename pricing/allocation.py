"""Random allocation run by the exchange, verifiable by anyone (Art. 70, commit–reveal).

Jilin Big Data Regulation Art. 70 allows a price difference won by random allocation under
published fair rules. The buyer never says it won: the exchange runs the draw and a quote
takes the exchange's verified result (`AllocationWin`), never a flag from the request.

Protocol:
1. Before the window opens the exchange draws a secret seed (32 random bytes, `new_seed`) and
   publishes an `AllocationAnnouncement`: the draw id, the published rule, what is allocated,
   how many winners, the window, and `commitment = SHA-256(seed)` (lowercase hex of the
   digest of the 32 raw bytes). The seed stays secret until the window closes.
2. Entrants join during the window. At close the entrant list is fixed.
3. After close the exchange publishes an `AllocationResult`: the seed, the entrants and the
   winners. Anyone checks `SHA-256(seed) == commitment` and recomputes the winners.

The draw, exactly (`draw`):
- entrants are distinct identifier strings (1–200 printable characters), put in
  ascending order of their UTF-8 bytes (Python's `sorted` on str gives the same order);
  `entrants_digest` = SHA-256 of the sorted entrants joined by "\\n", UTF-8, lowercase hex;
- each entrant's score is HMAC-SHA256(key = the 32 seed bytes, message = the entrant's UTF-8
  bytes); entrants are ranked by score (as a big-endian byte string, ascending), ties (never
  seen in practice) by the entrant string; the first `winners_wanted` are the winners, in
  rank order.

Recomputing one score with OpenSSL:
`printf %s "$ENTRANT" | openssl dgst -sha256 -mac HMAC -macopt hexkey:$SEED`.
A score does not depend on the other entrants, so adding or removing one entrant never
reorders the rest; and no one, the exchange included, can choose a seed after seeing the
entrants without breaking the published commitment.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pricing.errors import PricingError
from pricing.types import UtcDatetime

SEED_BYTES = 32
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_ENTRANT = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")


def new_seed() -> str:
    """A fresh secret seed: 32 bytes from the OS's CSPRNG, as 64 lowercase hex characters."""
    return secrets.token_hex(SEED_BYTES)


def _seed_bytes(seed: str) -> bytes:
    if not isinstance(seed, str) or not _HEX64.match(seed):
        raise PricingError("seed", "a seed is 32 bytes written as 64 lowercase hex characters")
    return bytes.fromhex(seed)


def make_commitment(seed: str) -> str:
    """`SHA-256(seed bytes)`, lowercase hex: published before the window opens."""
    return hashlib.sha256(_seed_bytes(seed)).hexdigest()


def verify_reveal(commitment: str, seed: str) -> bool:
    """Does the revealed `seed` match the `commitment` published before the window?"""
    try:
        return hmac.compare_digest(make_commitment(seed), commitment)
    except PricingError:
        return False


def canonical_entrants(entrants: Iterable[str]) -> tuple[str, ...]:
    """The entrants in the draw's order (ascending UTF-8), refusing duplicates and bad ids."""
    listed = list(entrants)
    for entrant in listed:
        if not isinstance(entrant, str) or not _ENTRANT.match(entrant) or not entrant.isprintable():
            raise PricingError("entrants", f"{entrant!r}: an entrant is 1–200 printable characters")
        try:
            entrant.encode()
        except UnicodeEncodeError as exc:
            raise PricingError("entrants", f"{entrant!r}: not valid Unicode text") from exc
    ordered = tuple(sorted(listed))
    for a, b in pairwise(ordered):
        if a == b:
            raise PricingError("entrants", f"{a!r} is entered twice; each entrant enters once")
    return ordered


def entrants_digest(entrants: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(canonical_entrants(entrants)).encode()).hexdigest()


def entrant_score(seed: str, entrant: str) -> bytes:
    """HMAC-SHA256(seed bytes, entrant UTF-8): the entrant's place in the draw (lower wins)."""
    return hmac.new(_seed_bytes(seed), entrant.encode(), hashlib.sha256).digest()


def draw(seed: str, entrants: Iterable[str], winners: int) -> tuple[str, ...]:
    """The winners, in rank order, of a draw of `winners` among `entrants` under `seed`."""
    if winners < 1:
        raise PricingError("winners_wanted", "a draw has at least one winner")
    ranked = sorted(canonical_entrants(entrants), key=lambda e: (entrant_score(seed, e), e))
    return tuple(ranked[:winners])


class AllocationAnnouncement(BaseModel):
    """What the exchange publishes before the window opens (the seed stays secret)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    draw_id: str = Field(min_length=1, max_length=120)
    rule: str = Field(min_length=1, max_length=500, description="the published fair rule (id or URL)")
    subject: str = Field(min_length=1, max_length=200, description="what is allocated, e.g. a product id")
    winners_wanted: int = Field(ge=1)
    commitment: str
    announced_at: UtcDatetime
    opens_at: UtcDatetime
    closes_at: UtcDatetime

    @field_validator("commitment")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not _HEX64.match(value):
            raise ValueError("commitment: SHA-256 of the seed, 64 lowercase hex characters")
        return value

    @model_validator(mode="after")
    def _before_the_window(self) -> AllocationAnnouncement:
        if not self.announced_at <= self.opens_at < self.closes_at:
            raise ValueError(
                "opens_at: the commitment is published before the window opens, which ends after"
            )
        return self


def announce(
    *,
    draw_id: str,
    rule: str,
    subject: str,
    winners_wanted: int,
    seed: str,
    announced_at: UtcDatetime,
    opens_at: UtcDatetime,
    closes_at: UtcDatetime,
) -> AllocationAnnouncement:
    """The public announcement committing to `seed` (keep the seed secret until `reveal`)."""
    return AllocationAnnouncement(
        draw_id=draw_id,
        rule=rule,
        subject=subject,
        winners_wanted=winners_wanted,
        commitment=make_commitment(seed),
        announced_at=announced_at,
        opens_at=opens_at,
        closes_at=closes_at,
    )


class AllocationResult(BaseModel):
    """A revealed draw. It cannot be built unless the seed matches the commitment and the
    winners are exactly the draw's, so holding one is holding a verified result."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    announcement: AllocationAnnouncement
    seed: str
    entrants: tuple[str, ...]
    entrants_digest: str
    winners: tuple[str, ...]
    revealed_at: UtcDatetime

    @model_validator(mode="after")
    def _verified(self) -> AllocationResult:
        a = self.announcement
        if not verify_reveal(a.commitment, self.seed):
            raise ValueError("seed: does not match the commitment published before the window")
        if self.revealed_at < a.closes_at:
            raise ValueError("revealed_at: the seed is revealed only after the window closes")
        if self.entrants != canonical_entrants(self.entrants):
            raise ValueError("entrants: listed once each, in ascending UTF-8 order")
        if self.entrants_digest != entrants_digest(self.entrants):
            raise ValueError("entrants_digest: does not match the entrants")
        if self.winners != (draw(self.seed, self.entrants, a.winners_wanted) if self.entrants else ()):
            raise ValueError("winners: not the winners the seed and entrants give")
        return self

    def won(self, entrant: str) -> bool:
        return entrant in self.winners


def reveal(
    announcement: AllocationAnnouncement, seed: str, entrants: Iterable[str], revealed_at: UtcDatetime
) -> AllocationResult:
    """Close the draw: the winners from the committed seed and the fixed entrants."""
    ordered = canonical_entrants(entrants)
    return AllocationResult(
        announcement=announcement,
        seed=seed,
        entrants=ordered,
        entrants_digest=entrants_digest(ordered),
        winners=draw(seed, ordered, announcement.winners_wanted) if ordered else (),
        revealed_at=revealed_at,
    )


class AllocationWin(BaseModel):
    """A verified result in which `entrant` won: the only way a quote gets the random-allocation
    discount. The service sets `entrant` to the authenticated buyer, never from the request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    result: AllocationResult
    entrant: str

    @model_validator(mode="after")
    def _a_winner(self) -> AllocationWin:
        if not self.result.won(self.entrant):
            raise ValueError(
                f"entrant: {self.entrant!r} is not a winner of draw {self.result.announcement.draw_id}"
            )
        return self

    @property
    def rule(self) -> str:
        return self.result.announcement.rule
