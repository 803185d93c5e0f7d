"""Real `market serve` and `market worker` processes on one PostgreSQL database, on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.api.conftest import TEST_JWT_SECRET, TEST_SIGNING_KEY

# Every process of a cluster MACs its audit entries with the key derived from this root secret
# (as docker-compose.yml gives every service the same MARKET_ROOT_SECRET).
TEST_ROOT_SECRET = "cmVwbGljYXMtc2hhcmUtb25lLXJvb3Qtc2VjcmV0LTMyIQ=="

MARKET = str(Path(sys.executable).with_name("market"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    database_url: str
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def environment(self, **extra: str) -> dict[str, str]:
        env = {
            **os.environ,
            "MARKET_MODE": "embedded",
            "MARKET_DATABASE_URL": self.database_url,
            "MARKET_DATA_DIR": str(self.data_dir),
            "MARKET_JWT_SECRET": TEST_JWT_SECRET,
            "MARKET_SIGNING_KEY": TEST_SIGNING_KEY,
            "MARKET_ROOT_SECRET": TEST_ROOT_SECRET,
            "MARKET_LOG_JSON": "false",
            "MARKET_PUBLICITY_WORKING_DAYS": "1",
            "MARKET_OFFLINE_AUTO_CONFIRM": "false",
            **self.env,
            **extra,
        }
        return env

    def start(self, args: list[str], log: str, **extra: str) -> subprocess.Popen[bytes]:
        out = (self.data_dir / f"{log}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603  (our own console script)
            [MARKET, *args], env=self.environment(**extra), stdout=out, stderr=subprocess.STDOUT
        )
        self.processes.append(process)
        return process

    def serve(self, name: str) -> str:
        port = free_port()
        self.start(["serve", "--host", "127.0.0.1", "--port", str(port), "--no-migrate", "--no-seed"], name)
        return f"http://127.0.0.1:{port}"

    def worker(self, name: str, **extra: str) -> subprocess.Popen[bytes]:
        return self.start(["worker", "--concurrency", "2", "--name", name], name, **extra)

    def log(self, name: str) -> str:
        return (self.data_dir / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def wait_ready(base_url: str, within: float = 90) -> None:
    async def ready() -> bool:
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(base_url + "/readyz", timeout=1)).status_code == 200
        except httpx.HTTPError:
            return False

    await until(ready, within, f"{base_url} to be ready")


def schedules(**cron: str) -> str:
    return json.dumps({k.replace("__", "."): v for k, v in cron.items()})


async def until(check: Callable[[], Awaitable[Any]], within: float, what: str) -> Any:
    """Await `check()` until it returns something truthy."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(0.2)
    raise TimeoutError(f"waited {within}s for {what}")
