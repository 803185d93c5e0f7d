"""The demo's API delivery: the seller points its API product at its own API (a small server the
demo starts on loopback, standing in for the seller's), and the buyer's machine calls it through
the exchange's gateway with its delivery credential."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

DEMO_UPSTREAM_SECRET = "demo-seller-api-key-0b7c"  # noqa: S105 - the demo seller's own API, on loopback


@contextmanager
def seller_api() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """The seller's API on a free loopback port: its base URL and the headers each call brought."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append({k.lower(): v for k, v in self.headers.items()})
            if self.headers.get("X-Api-Key") != DEMO_UPSTREAM_SECRET:
                body, status = b'{"error": "unauthorised"}', 401
            else:
                body = json.dumps(
                    {"district": "Nanguan", "month": "2026-10", "active_smes": 1204, "revenue_index": "103.2"}
                ).encode()
                status = 200
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # the narration says what happened
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()
        server.server_close()


def gateway_flow(
    n: Any,
    client: httpx.Client,
    *,
    seller: dict[str, str],
    buyer: dict[str, str],
    product_id: str,
    licence_id: str,
    credential: str,
) -> None:
    with seller_api() as (base_url, seen):
        n.say("8. The seller points its API product at its own API; the exchange keeps the key sealed.")
        upstream = n.check(
            "PUT /v1/products/{id}/upstream",
            client.put(
                f"/v1/products/{product_id}/upstream",
                headers=seller,
                json={
                    "base_url": base_url,
                    "auth_header": "X-Api-Key",
                    "auth_secret": DEMO_UPSTREAM_SECRET,
                    "allowed_methods": ["GET"],
                    "allowed_path_prefixes": ["/indicators"],
                    "timeout_seconds": 5,
                },
            ),
            200,
        )
        if not upstream:
            n.say("   (a production exchange refuses an upstream on loopback; the demo's is one)")
            return
        n.say(
            f"   upstream {upstream['base_url']}, key held: {upstream['auth_secret_set']} "
            f"(never shown again); buyers call {upstream['gateway_path']}…"
        )
        n.say("9. The buyer's machine calls the API it bought, through the gateway, with its credential:")
        n.say(
            f"    curl -H 'X-Delivery-Credential: dk_…' "
            f"{str(client.base_url).rstrip('/')}/gateway/{product_id}/indicators?district=Nanguan"
        )
        call = n.check(
            "GET /gateway/{product}/indicators",
            client.get(
                f"/gateway/{product_id}/indicators",
                params={"district": "Nanguan"},
                headers={"X-Delivery-Credential": credential},
            ),
            200,
        )
        if call:
            n.say(f"    the seller's API answered: {json.dumps(call, ensure_ascii=False)}")
        if seen:
            n.say(
                f"    the seller's API got its own key: {seen[-1].get('x-api-key') == DEMO_UPSTREAM_SECRET}; "
                f"the buyer's credential reached it: {'x-delivery-credential' in seen[-1]}"
            )
        outside = n.check(
            "GET /gateway/{product}/admin (outside the allowed paths)",
            client.get(f"/gateway/{product_id}/admin", headers={"X-Delivery-Credential": credential}),
            404,
        )
        if outside:
            n.say(f"    refused: {outside['detail']}")
    time.sleep(1.5)  # the gateway writes its counts every second, not on every call
    usage = n.check(
        "GET /v1/deliveries/{id}/usage", client.get(f"/v1/deliveries/{licence_id}/usage", headers=buyer), 200
    )
    if usage:
        days = ", ".join(f"{d['day']}: {d['calls']} call(s)" for d in usage["days"]) or "none yet"
        n.say(
            f"    {usage['calls_used']} of {usage['call_quota']} calls used; "
            f"through the gateway by day: {days}"
        )
