"""The trading part of the demo: filled in as registration, listing and orders land."""

from __future__ import annotations

from typing import Any

import httpx


def trade_flow(
    n: Any,
    client: httpx.Client,
    *,
    seller: dict[str, str],
    buyer: dict[str, str],
    buyer_machine: dict[str, str],
) -> None:
    me = client.get("/v1/auth/me", headers=buyer_machine)
    n.say(f"3. The buyer's machine credential answers as participant: HTTP {me.status_code}")
