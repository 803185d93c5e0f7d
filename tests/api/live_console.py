"""A live console on loopback for a real browser: the test's app (same settings, database and
business clock) served by uvicorn in a thread, and the distribution's Chromium driven by Playwright.

The test sets up its world through its own `app` as every API test does; the browser talks to
the live server, which reads the same database.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from market.app import create_app
from tests.api.replica_processes import free_port


def chromium_path() -> str | None:
    return os.environ.get("MARKET_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


# The browser tests need only Chromium from the distribution (`apt-get install chromium`);
# without it they skip, saying so.
needs_chromium = pytest.mark.skipif(
    chromium_path() is None, reason="chromium is not installed (apt-get install -y chromium)"
)

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def screenshot_dir() -> Path | None:
    """Where the main pages' screenshots go: MARKET_SCREENSHOTS (docs/screenshots to refresh
    the README's), else nowhere."""
    target = os.environ.get("MARKET_SCREENSHOTS")
    if not target:
        return None
    path = Path(target)
    path.mkdir(parents=True, exist_ok=True)
    return path


async def screenshot(page: Any, name: str, full_page: bool = True) -> None:
    target = screenshot_dir()
    if target is not None:
        await page.screenshot(path=str(target / f"{name}.png"), full_page=full_page)


@asynccontextmanager
async def live_server(app: Any, **settings: Any) -> AsyncIterator[str]:
    """A server of the app's settings, with `settings` changed (validated as the environment's
    would be), on a free loopback port."""
    base = app.state.settings
    live = create_app(type(base).model_validate({**base.model_dump(), **settings}) if settings else base)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(live, host="127.0.0.1", port=port, lifespan="on", log_config=None))
    thread = threading.Thread(target=server.run, name="live-console", daemon=True)
    thread.start()
    for _ in range(400):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "the live server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 20)


@asynccontextmanager
async def chromium(base_url: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                base_url=base_url, locale="en-US", viewport={"width": 1200, "height": 900}
            )
            yield context
        finally:
            await browser.close()
