"""Swap a port or the sessionmaker of a running app for one test (fakes at the ports)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from market.payments.provider import PAYMENT_PROVIDER
from market.privacy.contacts import CONTACT_SENDER
from market.runtime import Port
from market.settings import Settings
from market.storage import BLOB_STORE, BlobStore

T = TypeVar("T")


@contextmanager
def port(app: Any, which: Port[T], implementation: T) -> Iterator[None]:
    """The running app's `which` port is `implementation` for the duration."""
    runtime = app.state.runtime
    original = runtime.port(which)
    runtime.provide(which, implementation)
    try:
        yield
    finally:
        runtime.provide(which, original)


def payment_provider(app: Any, provider: Any) -> ContextManager[None]:
    return port(app, PAYMENT_PROVIDER, provider)


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


def contact_sender(app: Any, sender: Any) -> ContextManager[None]:
    return port(app, CONTACT_SENDER, sender)


def blob_store(app: Any, store: BlobStore) -> ContextManager[None]:
    return port(app, BLOB_STORE, store)


def as_production(settings: Settings) -> Settings:
    """The test's settings in production mode, keeping the root secret in use (production refuses
    to run without one of its own, issue 18)."""
    root = base64.b64encode(settings.root_secrets()[0]).decode()
    return settings.model_copy(update={"mode": "production", "root_secret": root})
