"""`market demo` and `market demo --seller` play the buyer and seller paths against a running
server, and demo time moved by the CLI is the server's time too (they share MARKET_HOME)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from market.demo.seed import DEMO_PASSWORD
from tests.live.server import LiveServer, serve

pytestmark = pytest.mark.multiprocess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve(Path(tmp_path_factory.mktemp("seller-demo")) / "home")


def test_the_seller_demo_lists_a_product_through_publicity(server: LiveServer) -> None:
    played = server.market("demo", "--seller", "--base-url", server.base_url)
    assert played.returncode == 0, played.stdout + played.stderr
    out = played.stdout
    assert "[FAIL]" not in out, out
    assert "is in publicity until" in out and "and registers then" in out, out
    assert "registered as JLDR-" in out, out
    assert "listed; compliance outcome allow" in out, out
    assert "in the public catalogue" in out, out


def test_the_cli_moves_the_servers_clock(server: LiveServer) -> None:
    token = httpx.post(
        f"{server.base_url}/v1/auth/token",
        data={"username": "operator@demo.example.cn", "password": DEMO_PASSWORD},
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    before = httpx.get(f"{server.base_url}/v1/admin/clock", headers=headers).json()["offset_seconds"]
    moved = server.market("clock", "advance", "2d")
    assert moved.returncode == 0, moved.stderr
    after = httpx.get(f"{server.base_url}/v1/admin/clock", headers=headers).json()["offset_seconds"]
    assert after == before + 2 * 86400


def test_the_buyer_demo_buys_and_receives_the_data(server: LiveServer) -> None:
    """`market demo` is the README's first trade: it must end with the bought file in hand and
    the bought API answering through the gateway, every step passing."""
    played = server.market("demo", "--base-url", server.base_url)
    assert played.returncode == 0, played.stdout + played.stderr
    out = played.stdout
    assert "[FAIL]" not in out, out
    assert "exchange commission" in out, out
    assert "the licence covers" in out, out
