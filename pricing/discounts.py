"""The only discounts a plan may carry: the lawful exceptions of Art. 70.

Jilin Big Data Regulation Art. 70 forbids discriminatory pricing between counterparties on the
same trade conditions, except genuine differing needs under normal practice (`volume`),
new-user offers for a reasonable period (`new_customer`) and random allocation under published
fair rules (`random_allocation`). The union below is closed: any other `kind` fails validation.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Tag, model_validator

from pricing.types import Percent, UtcDatetime, by_kind

# "A reasonable period" for new-user offers (Art. 70): we read it as at most one year.
MAX_NEW_CUSTOMER_PERIOD = timedelta(days=365)


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NewCustomerDiscount(_Strict):
    """New-user offer for a bounded period (Art. 70 exception)."""

    kind: Literal["new_customer"]
    pct: Percent
    valid_from: UtcDatetime
    valid_to: UtcDatetime

    @model_validator(mode="after")
    def _bounded(self) -> NewCustomerDiscount:
        span = self.valid_to - self.valid_from
        if span <= timedelta(0) or span > MAX_NEW_CUSTOMER_PERIOD:
            raise ValueError(
                "valid_to: a new-customer offer runs for a reasonable period of at most "
                f"{MAX_NEW_CUSTOMER_PERIOD.days} days after valid_from (Art. 70)"
            )
        return self

    def applies(self, at: datetime, is_new_customer: bool) -> bool:
        return is_new_customer and self.valid_from <= at < self.valid_to


class VolumeDiscount(_Strict):
    """A lower price for genuinely larger needs, open to every buyer alike (Art. 70)."""

    kind: Literal["volume"]
    min_quantity: int = Field(ge=2)
    pct: Percent


class RandomAllocationDiscount(_Strict):
    """A discount won in a draw under published, fair random-allocation rules (Art. 70)."""

    kind: Literal["random_allocation"]
    rule_id: str | None = Field(default=None, min_length=1, max_length=120)
    rule_url: str | None = Field(default=None, min_length=8, max_length=500)
    pct: Percent

    @model_validator(mode="after")
    def _published(self) -> RandomAllocationDiscount:
        if self.rule_id is None and self.rule_url is None:
            raise ValueError("rule_id/rule_url: name the published fair rule of the draw")
        return self

    @property
    def rule(self) -> str:
        """The published rule a draw must name for its winners to get this discount."""
        return self.rule_id or self.rule_url or ""


Discount = Annotated[
    Annotated[NewCustomerDiscount, Tag("new_customer")]
    | Annotated[VolumeDiscount, Tag("volume")]
    | Annotated[RandomAllocationDiscount, Tag("random_allocation")],
    by_kind("new_customer", "volume", "random_allocation"),
]
