"""A live `market serve` in embedded mode (SQLite, demo data) on a fresh MARKET_HOME, as a
newcomer starts it; the CLI and `curl` talk to it like they would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@dataclass
class LiveServer:
    base_url: str
    home: Path
    env: dict[str, str]

    def market(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """A `market` command with the server's MARKET_HOME."""
        return subprocess.run(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "market.cli", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(home: Path) -> Iterator[LiveServer]:
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("MARKET_") or key in ("MARKET_TEST_DATABASE_URL",)
    }
    env.update(
        {
            "MARKET_HOME": str(home),
            "MARKET_AUDIT_HEAD_INTERVAL_SECONDS": "2",  # checkpoints soon after each step
            "PYTHONPATH": str(ROOT),
            # The walkthroughs call `market` and `curl` as a reader of the documents would.
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    env.pop("MARKET_TEST_DATABASE_URL", None)
    log = home.parent / f"{home.name}-server.log"
    server = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "market.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        else:
            pytest.fail("market serve did not become ready: " + log.read_text()[-3000:])
        yield LiveServer(base, home, {**env, "MARKET_BASE_URL": base})
    finally:
        server.terminate()
        server.wait(timeout=30)
