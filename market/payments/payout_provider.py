"""The payout provider port: how money reaches a seller. Offline by default (an operator makes
the bank transfer and records it); a Stripe Connect provider would create a Transfer to the
seller's connected account here, keyed `market:transfer:<id>` so a retry never pays twice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from market.runtime import Port


@dataclass(frozen=True)
class ProviderTransfer:
    reference: str  # the provider's id of the transfer (unique)


class PayoutProvider(Protocol):
    name: str

    async def transfer(
        self, *, transfer_id: str, seller_id: str, amount_minor: int, currency: str, bank_reference: str
    ) -> ProviderTransfer: ...


PAYOUT_PROVIDER: Port[PayoutProvider] = Port("payout provider")


class OfflinePayoutProvider:
    """The operator already sent the money by bank transfer: recording it is the transfer, and
    the bank's reference is its reference (so the same bank transfer is never recorded twice)."""

    name = "offline"

    async def transfer(
        self, *, transfer_id: str, seller_id: str, amount_minor: int, currency: str, bank_reference: str
    ) -> ProviderTransfer:
        return ProviderTransfer(reference=f"bank:{bank_reference}")
