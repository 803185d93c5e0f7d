"""A person in front of the console: their own cookie jar, the CSRF token read off each page."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from market.participants import service as participant_service
from market.participants.schemas import StaffCreate
from tests.api.factories import PASSWORD

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: str) -> str:
    match = CSRF.search(page)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


class Browser:
    """What a browser does for the console: keep cookies, follow redirects, submit forms."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        return await self.client.get(url, **kw)

    async def submit(self, page_url: str, action: str, fields: dict[str, Any]) -> httpx.Response:
        """Open the page, then post its form with the token the page carries."""
        page = await self.client.get(page_url)
        assert page.status_code == 200, page.text
        return await self.client.post(action, data={"csrf": csrf_of(page.text), **fields})

    async def log_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return await self.submit("/login", "/login", {"email": email, "password": password})


@asynccontextmanager
async def browser(app: Any, lang: str = "en") -> AsyncIterator[Browser]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://test",
        follow_redirects=True,
        headers={"Accept-Language": lang},
    ) as c:
        yield Browser(c)


async def staff_email(app: Any, role: str) -> str:
    """A new staff user (as `Api.staff` makes them); the console logs in with the e-mail."""
    email = f"{role}-{uuid.uuid4().hex[:8]}@exchange.example.cn"
    async with app.state.sessionmaker() as session, session.begin():
        await participant_service.create_staff(
            session, StaffCreate(email=email, password=PASSWORD, display_name=role, role=role), actor="test"
        )
    return email
