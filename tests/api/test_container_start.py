"""The container's start-up, without Docker: the Dockerfile's own CMD and ENV, run as an
unprivileged user (as the image's USER) against a read-only copy of the application and an
empty writable data directory, configured as docker-compose.yml configures it. It must migrate,
create the first operator from the environment (once), serve /readyz, log JSON lines without
colour codes, and refuse a bad configuration in one line."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.api.conftest import TEST_JWT_SECRET, _create_database, _drop_database

ROOT = Path(__file__).resolve().parents[2]
OPERATOR = "first-operator@exchange.example.cn"
OPERATOR_PASSWORD = "a long first password 2026"
T = TypeVar("T")
UNPRIVILEGED = 65534  # nobody: root would write through any read-only permission bit


def dockerfile() -> tuple[dict[str, str], list[str]]:
    """The image's ENV and CMD, read from the Dockerfile (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    env: dict[str, str] = {}
    command: list[str] = []
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(tuple(pair.split("=", 1)) for pair in shlex.split(line[4:]))  # type: ignore[misc]
        elif line.startswith("CMD "):
            command = json.loads(line[4:])
    return env, command


def in_own_loop(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion in a thread of its own, leaving this thread's event loop
    (pytest-asyncio's) untouched."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Container:
    app_dir: Path
    data_dir: Path
    env: dict[str, str]
    command: list[str]
    as_user: list[str]

    def run(self, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(  # noqa: S603 (the image's own command line)
            [*self.as_user, *self.command],
            cwd=self.app_dir,
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def _read_only_copy(target: Path) -> Path:
    app = target / "app"
    for package in ("market", "pricing", "contracts"):
        shutil.copytree(ROOT / package, app / package, ignore=shutil.ignore_patterns("__pycache__"))
    for path in [app, *app.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return app


def _which_python_runs(as_user: list[str], app: Path, env: dict[str, str]) -> str:
    found = subprocess.run(  # noqa: S603
        [*as_user, sys.executable, "-c", "import market; print(market.__file__)"],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
    )
    return found.stdout.strip() if found.returncode == 0 else ""


@pytest.fixture(params=["sqlite", "postgres"])
def container(request: pytest.FixtureRequest) -> Iterator[Container]:
    image_env, command = dockerfile()
    assert command[:2] == ["market", "serve"], command
    assert image_env["MARKET_MODE"] == "production" and image_env["MARKET_HOME"] == "/data"
    # Not under pytest's temporary root, which only its owner may enter.
    root = Path(tempfile.mkdtemp(prefix="market-image-"))
    app = _read_only_copy(root)
    data = root / "data"
    secrets = root / "secrets"
    data.mkdir()
    secrets.mkdir()
    (secrets / "operator_password").write_text(OPERATOR_PASSWORD + "\n")
    dropper = None
    if request.param == "sqlite":
        database_url = f"sqlite+aiosqlite:///{data / 'market.db'}"
    else:
        server = request.getfixturevalue("postgres_server_url")
        database_url, name = in_own_loop(_create_database(server))
        dropper = (server, name)
    env = {
        "PATH": os.environ["PATH"],
        "LANG": "C.UTF-8",
        **image_env,
        # Where this machine differs from the image: the data volume and a free local port.
        "MARKET_HOME": str(data),
        "MARKET_HOST": "127.0.0.1",
        "MARKET_PORT": str(free_port()),
        # What docker-compose.yml sets.
        "MARKET_DATABASE_URL": database_url,
        "MARKET_JWT_SECRET": TEST_JWT_SECRET,
        "MARKET_SIGNING_KEY": base64.b64encode(bytes(range(32))).decode(),
        "MARKET_ROOT_SECRET": base64.b64encode(bytes(range(1, 33))).decode(),
        "MARKET_STORAGE_URL": (data / "objects").as_uri(),
        "MARKET_BOOTSTRAP_OPERATOR_EMAIL": OPERATOR,
        "MARKET_BOOTSTRAP_OPERATOR_PASSWORD_FILE": str(secrets / "operator_password"),
        "MARKET_AUDIT_HEAD_INTERVAL_SECONDS": "0",
        "PYTHONPATH": str(app),
    }
    as_user: list[str] = []
    if os.geteuid() == 0:
        for path in (root, data, secrets, secrets / "operator_password"):
            os.chown(path, UNPRIVILEGED, UNPRIVILEGED)
        as_user = ["setpriv", f"--reuid={UNPRIVILEGED}", f"--regid={UNPRIVILEGED}", "--clear-groups"]
        if not _which_python_runs(as_user, app, env).startswith(str(app)):
            # This checkout's interpreter is out of the unprivileged user's reach (e.g. under
            # /root): run as root; the listing comparison still proves nothing was written.
            as_user = []
    assert _which_python_runs(as_user, app, env).startswith(str(app)), "the read-only copy is not what runs"
    if as_user:
        attempt = subprocess.run([*as_user, "touch", str(app / "written")], capture_output=True)  # noqa: S603
        assert attempt.returncode != 0, "the application directory is writable for the service's user"
    installed = str(Path(sys.executable).with_name(command[0]))
    try:
        yield Container(app, data, env, [installed, *command[1:]], as_user)
    finally:
        if dropper:
            in_own_loop(_drop_database(*dropper))
        for path in [root, *root.rglob("*")]:
            if path.is_dir():
                path.chmod(0o700)
        shutil.rmtree(root, ignore_errors=True)


def serve_until_ready(container: Container) -> tuple[str, str, str]:
    """Start, wait for /readyz, log in as the bootstrap operator, stop; (stdout, stderr, token)."""
    process = container.run()
    base = f"http://127.0.0.1:{container.env['MARKET_PORT']}"
    token = ""
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert process.poll() is None, "the service stopped: " + process.communicate()[1][-3000:]
        login = httpx.post(
            f"{base}/v1/auth/token", data={"username": OPERATOR, "password": OPERATOR_PASSWORD}
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        staff_only = httpx.get(f"{base}/v1/objections", headers={"Authorization": f"Bearer {token}"})
        assert staff_only.status_code == 200, staff_only.text  # an operator indeed
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    return out, err, token


def test_the_image_command_starts_read_only_with_a_bootstrap_operator(container: Container) -> None:
    before = sorted(p.relative_to(container.app_dir) for p in container.app_dir.rglob("*"))
    out, err, _ = serve_until_ready(container)
    assert f"bootstrap: created operator {OPERATOR}" in out, out
    assert "seeded demo data" not in out  # production: no demo accounts
    log_lines = [line for line in err.splitlines() if line.strip()]
    assert log_lines, "no log lines"
    for line in log_lines:
        assert "\x1b[" not in line, line
        entry = json.loads(line)  # every line is one JSON object
        assert {"event", "level", "ts"} <= set(entry), entry
    assert any(json.loads(line).get("logger", "").startswith("uvicorn") for line in log_lines)
    assert any("request_id" in json.loads(line) for line in log_lines)
    # Nothing was written into the application; the data volume holds what the service made.
    assert sorted(p.relative_to(container.app_dir) for p in container.app_dir.rglob("*")) == before

    again, _, _ = serve_until_ready(container)  # a restart leaves the operator alone
    assert f"bootstrap: operator {OPERATOR} exists; nothing changed" in again, again


def test_a_bad_configuration_stops_the_image_in_one_line(container: Container) -> None:
    env = {**container.env, "MARKET_JWT_SECRET": "short"}
    refused = subprocess.run(  # noqa: S603
        [*container.as_user, *container.command],
        cwd=container.app_dir,
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        "configuration error: MARKET_JWT_SECRET must be set to a secret of 32+ characters in production"
    ]
    (container.data_dir.parent / "secrets" / "operator_password").write_text("too short\n")
    short = subprocess.run(  # noqa: S603
        [*container.as_user, *container.command],
        cwd=container.app_dir,
        env=container.env,
        capture_output=True,
        text=True,
    )
    assert short.returncode == 2
    errors = [line for line in short.stderr.splitlines() if not line.startswith("{")]
    assert errors == [
        "configuration error: the password in MARKET_BOOTSTRAP_OPERATOR_PASSWORD_FILE: "
        "String should have at least 12 characters"
    ], short.stderr
