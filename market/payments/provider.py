"""The payment provider port: Stripe in production, offline bank transfer by default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ProviderPayment:
    reference: str
    status: str  # requires_payment | succeeded
    client_secret: str | None = None


@dataclass(frozen=True)
class ProviderRefund:
    reference: str
    status: str  # pending | succeeded


class PaymentProvider(Protocol):
    name: str

    async def create_payment(
        self, *, order_id: str, quote_id: str, amount_minor: int, currency: str
    ) -> ProviderPayment: ...

    async def refund(
        self, *, payment_reference: str, refund_id: str, amount_minor: int
    ) -> ProviderRefund: ...


class OfflineProvider:
    """Bank-transfer style: the buyer pays outside, an operator confirms receipt.

    In demo mode (`auto_confirm`) the payment succeeds at once.
    """

    name = "offline"

    def __init__(self, auto_confirm: bool = False) -> None:
        self.auto_confirm = auto_confirm

    async def create_payment(
        self, *, order_id: str, quote_id: str, amount_minor: int, currency: str
    ) -> ProviderPayment:
        status = "succeeded" if self.auto_confirm else "requires_payment"
        return ProviderPayment(reference=f"offline_{order_id}", status=status)

    async def refund(
        self, *, payment_reference: str, refund_id: str, amount_minor: int
    ) -> ProviderRefund:
        return ProviderRefund(reference=f"offline_refund_{refund_id}", status="succeeded")
