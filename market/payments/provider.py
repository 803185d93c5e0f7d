"""The payment provider port: Stripe in production, offline bank transfer by default."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import ClassVar, Protocol

from market.errors import MarketError
from market.runtime import Port


class PaymentProviderUnavailable(MarketError):
    """The provider could not be reached, timed out, or is overloaded or failing on its side.

    The request's transaction rolled back. A retry with the same Idempotency-Key is safe: a
    refund's provider-side key is derived from it, so the provider never refunds twice; a
    payment the provider may have created was never shown to the buyer, so it cannot be paid.
    """

    code, title, status = "payment-provider-unavailable", "Payment provider unavailable", 503
    headers: ClassVar[dict[str, str] | None] = {"Retry-After": "5"}


class PaymentProviderRefused(MarketError):
    """The provider answered, but refused the request: not the client's fault, nor passing."""

    code, title, status = "payment-provider-error", "Payment provider refused the request", 502


def provider_unavailable(provider: str, what: str, cause: str) -> PaymentProviderUnavailable:
    return PaymentProviderUnavailable(
        f"{provider} could not {what} ({cause}); nothing was kept. Retry later with the same Idempotency-Key."
    )


@asynccontextmanager
async def provider_call(provider: str, what: str) -> AsyncIterator[None]:
    """Any provider's network failure as a 503 that names the provider, not a 500."""
    try:
        yield
    except (OSError, TimeoutError) as exc:  # ConnectionError is an OSError
        raise provider_unavailable(provider, what, type(exc).__name__) from exc


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
    # Whether creating a payment asks a third party (a card processor). An order whose payment
    # does not may have its claims checked in the statement that writes it (issue 21); one that
    # does has them checked before the provider is asked, so no refused order leaves a payment
    # behind at the provider.
    asks_a_third_party: bool

    async def create_payment(
        self, *, order_id: str, quote_id: str, amount_minor: int, currency: str
    ) -> ProviderPayment: ...

    async def refund(
        self, *, payment_reference: str, refund_id: str, amount_minor: int
    ) -> ProviderRefund: ...

    async def cancel_payment(self, *, payment_reference: str) -> None:
        """Let go of a payment that waits for the buyer (its order ended unpaid)."""


PAYMENT_PROVIDER: Port[PaymentProvider] = Port("payment provider")


class OfflineProvider:
    """Bank-transfer style: the buyer pays outside, an operator confirms receipt.

    In demo mode (`auto_confirm`) the payment succeeds at once.
    """

    name = "offline"
    asks_a_third_party = False

    def __init__(self, auto_confirm: bool = False) -> None:
        self.auto_confirm = auto_confirm

    async def create_payment(
        self, *, order_id: str, quote_id: str, amount_minor: int, currency: str
    ) -> ProviderPayment:
        status = "succeeded" if self.auto_confirm else "requires_payment"
        return ProviderPayment(reference=f"offline_{order_id}", status=status)

    async def refund(self, *, payment_reference: str, refund_id: str, amount_minor: int) -> ProviderRefund:
        return ProviderRefund(reference=f"offline_refund_{refund_id}", status="succeeded")

    async def cancel_payment(self, *, payment_reference: str) -> None:
        return None  # a bank transfer not yet made is simply not made
