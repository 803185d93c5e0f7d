"""`market demo`: a scripted seller → buyer → operator flow against a running service.

It narrates each step and the exchange's answer; it grows as capabilities land.
"""

from __future__ import annotations

import sys
from typing import Any

import httpx

from market.demo.seed import DEMO_BUYER, DEMO_PASSWORD, DEMO_SELLER

Step = tuple[str, httpx.Response]


class Narrator:
    def __init__(self, client: httpx.AsyncClient | httpx.Client) -> None:
        self.client = client
        self.failures = 0

    def say(self, text: str) -> None:
        print(text, flush=True)

    def check(self, what: str, response: httpx.Response, expect: int) -> Any:
        ok = response.status_code == expect
        mark = "ok " if ok else "FAIL"
        self.say(f"  [{mark}] {what}: HTTP {response.status_code}")
        if not ok:
            self.failures += 1
            self.say(f"         {response.text[:400]}")
        return (
            response.json()
            if response.content and response.headers.get("content-type", "").endswith("json")
            else None
        )


def login(client: httpx.Client, email: str) -> dict[str, str]:
    r = client.post("/v1/auth/token", data={"username": email, "password": DEMO_PASSWORD})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def run_demo(base_url: str) -> int:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        n = Narrator(client)
        try:
            n.check("service ready", client.get("/readyz"), 200)
        except httpx.ConnectError:
            print(f"no service at {base_url}: start it with `market serve` first", file=sys.stderr)
            return 2
        n.say("1. Seller and buyer log in (demo accounts seeded by `market serve`).")
        seller = login(client, DEMO_SELLER[0])
        buyer = login(client, DEMO_BUYER[0])
        n.say("2. The buyer creates an API key for its machines (shown once).")
        key = n.check(
            "create API key",
            client.post("/v1/api-keys", json={"name": "demo-etl"}, headers=buyer),
            201,
        )
        api_headers = {"X-API-Key": key["key"]} if key else buyer
        from market.demo.flow import trade_flow

        trade_flow(n, client, seller=seller, buyer=buyer, buyer_machine=api_headers)
        from market.demo.files import file_flow

        file_flow(n, client, buyer=buyer, operator=login(client, "operator@demo.example.cn"))
        n.say("done." if n.failures == 0 else f"done with {n.failures} failed step(s).")
        return 1 if n.failures else 0
