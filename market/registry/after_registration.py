"""Objections after registration (Art. 30): data infringing personal information is objected to
at any time, not only during publicity. An upheld one leaves the registration standing (the
holder still holds the resource) but stops its sale: the features above (products, licences)
register what must happen then, since the registry knows neither."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from market.registry.models import Objection, Registration
from market.settings import Settings

# Wrong data, trade secrets and ownership disputes are settled before registration; personal
# information may surface any time (a person learns their data is in a registered resource).
KINDS_AFTER_REGISTRATION = frozenset({"personal_information"})

UpheldHandler = Callable[[AsyncSession, Settings, Objection, Registration, str], Awaitable[None]]
_upheld_handlers: list[UpheldHandler] = []


def register_upheld_handler(handler: UpheldHandler) -> None:
    """Called (session, settings, objection, registration, actor) when an objection filed after
    registration is upheld, in the operator's transaction."""
    if handler not in _upheld_handlers:
        _upheld_handlers.append(handler)


def accepts(registration_status: str, kind: str) -> bool:
    return registration_status == "registered" and kind in KINDS_AFTER_REGISTRATION


async def upheld(
    session: AsyncSession, settings: Settings, objection: Objection, registration: Registration, actor: str
) -> None:
    if not _upheld_handlers:  # pragma: no cover - the app always wires market.privacy
        raise RuntimeError("no handler for an objection upheld after registration")
    for handler in _upheld_handlers:
        await handler(session, settings, objection, registration, actor)
