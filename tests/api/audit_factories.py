"""Running the audit publisher from a test, as its job does, and the keys a verifier needs."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from market.audit.publisher import PublishOutcome, publish
from market.runtime import Runtime
from market.settings import Settings
from market.storage import BLOB_STORE, BlobStore


def blob_store(app: Any) -> BlobStore:
    runtime: Runtime = app.state.runtime
    return runtime.port(BLOB_STORE)


async def publish_now(
    app: Any, settings: Settings | None = None, http: httpx.AsyncClient | None = None
) -> PublishOutcome:
    """One publisher round as the `audit.publish_checkpoint` job runs it, signing a checkpoint
    whatever the interval (as a round does once the interval has passed); `settings` to run it
    otherwise configured (with witnesses, say), `http` to reach those witnesses."""
    runtime = app.state.runtime
    return await publish(
        runtime.sessionmaker, settings or runtime.settings, blob_store(app), force=True, http=http
    )


def public_key(app: Any) -> str:
    return base64.b64encode(
        app.state.settings.exchange_signing_key().public_key().public_bytes_raw()
    ).decode()
