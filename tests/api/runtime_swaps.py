"""Swap a port or the sessionmaker of a running app for one test (fakes at the ports)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from market.payments.provider import PAYMENT_PROVIDER
from market.privacy.contacts import CONTACT_SENDER


@contextmanager
def payment_provider(app: Any, provider: Any) -> Iterator[None]:
    runtime = app.state.runtime
    original = runtime.port(PAYMENT_PROVIDER)
    runtime.provide(PAYMENT_PROVIDER, provider)
    try:
        yield
    finally:
        runtime.provide(PAYMENT_PROVIDER, original)


@contextmanager
def sessionmaker(
    app: Any, maker: async_sessionmaker[AsyncSession] | Callable[[], AsyncSession]
) -> Iterator[None]:
    runtime = app.state.runtime
    original = runtime.sessionmaker, app.state.sessionmaker
    runtime.sessionmaker = app.state.sessionmaker = maker
    try:
        yield
    finally:
        runtime.sessionmaker, app.state.sessionmaker = original


@contextmanager
def settings(app: Any, **changes: Any) -> Iterator[None]:
    """The running app's settings with `changes` (validated as the environment would be)."""
    runtime = app.state.runtime
    original = runtime.settings
    runtime.settings = type(original).model_validate({**original.model_dump(), **changes})
    try:
        yield
    finally:
        runtime.settings = original


@contextmanager
def contact_sender(app: Any, sender: Any) -> Iterator[None]:
    runtime = app.state.runtime
    original = runtime.port(CONTACT_SENDER)
    runtime.provide(CONTACT_SENDER, sender)
    try:
        yield
    finally:
        runtime.provide(CONTACT_SENDER, original)
