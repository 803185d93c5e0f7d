"""What a process builds once and every use case may need besides its session: the settings,
the sessionmaker (for work outside a request's transaction) and the ports (payment provider,
file storage, ...), each looked up by its type.

The app factory (and the worker) build one `Runtime`; endpoints receive its parts as typed
dependencies (`AppSettings`, `port(PAYMENT_PROVIDER)`), so no feature reads `app.state`.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Generic, TypeVar, cast

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from market.common.iris import Iris, request_base_url
from market.settings import Settings

T = TypeVar("T")


class Port(Generic[T]):
    """The typed name of a port (`PAYMENT_PROVIDER: Port[PaymentProvider] = Port("...")`): the
    feature that defines the interface declares it; the app factory provides the implementation."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Port({self.name!r})"


class Runtime:
    def __init__(self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self._ports: dict[Port[Any], Any] = {}
        # Set when the process begins to shut down: a long-running job (the audit publisher's
        # shift) ends at its next turn instead of holding the shutdown for its grace period.
        self.stopping = asyncio.Event()

    def provide(self, port: Port[T], implementation: T) -> None:
        self._ports[port] = implementation

    def port(self, port: Port[T]) -> T:
        try:
            return cast(T, self._ports[port])
        except KeyError:
            raise LookupError(f"no {port.name} was provided to this runtime") from None


def get_runtime(request: Request) -> Runtime:
    """The one place the application state is read."""
    return cast(Runtime, request.app.state.runtime)


# The dependencies below are `async def` although they never wait: FastAPI runs a plain `def`
# dependency in a worker thread, a hand-off that costs more than the look-up (issue 21).
async def _settings(request: Request) -> Settings:
    return get_runtime(request).settings


async def _sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    return get_runtime(request).sessionmaker


def port(name: Port[T]) -> Any:
    """`Annotated[Kind, port(KIND_PORT)]`: the implementation of that port this process was given."""

    async def _lookup(request: Request) -> T:
        return get_runtime(request).port(name)

    return Depends(_lookup)


async def _iris(request: Request) -> Iris:
    """The identifier scheme under the configured public base URL, or the one this request used."""
    settings = get_runtime(request).settings
    if settings.public_base_url:
        return Iris(settings.public_base_url)
    client = request.scope.get("client")
    return Iris(
        request_base_url(
            scheme=request.scope.get("scheme", "http"),
            headers=request.headers,
            server=request.scope.get("server"),
            root_path=request.scope.get("root_path", ""),
            client_host=client[0] if client else None,
            trusted=settings.trusted_proxy_networks,
        )
    )


async def _runtime(request: Request) -> Runtime:
    return get_runtime(request)


AppSettings = Annotated[Settings, Depends(_settings)]
AppRuntime = Annotated[Runtime, Depends(_runtime)]
PublicIris = Annotated[Iris, Depends(_iris)]
SessionMaker = Annotated[async_sessionmaker[AsyncSession], Depends(_sessionmaker)]
