"""A throwaway PostgreSQL server of the test's own, for faults the shared server must not suffer
(stopping and restarting it). Loopback TCP only, trust auth, data in a temporary directory that
is always removed.

Run as root, the server runs as the `postgres` OS user (`runuser -u postgres --`); run as any
other user, as that user. Without the binaries (or as root without a `postgres` user), the
caller gets the reason and skips.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg

START_TIMEOUT_SECONDS = 20


class PrivatePostgresUnavailable(Exception):
    """This machine cannot run a private server; the message says why."""


def _bindir() -> Path:
    candidates = [os.environ.get("MARKET_PG_BINDIR", "")]
    if found := shutil.which("pg_ctl"):
        candidates.append(str(Path(found).parent))
    candidates += sorted(
        (str(p) for p in Path("/usr/lib/postgresql").glob("*/bin")),
        key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0,
        reverse=True,
    )
    for candidate in filter(None, candidates):
        if all((Path(candidate) / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(candidate)
    raise PrivatePostgresUnavailable(
        "no private PostgreSQL server for this test: initdb/pg_ctl/postgres not found "
        "(set MARKET_PG_BINDIR or install the PostgreSQL server binaries)"
    )


def _runner() -> list[str]:
    if os.geteuid() != 0:
        return []  # initdb and pg_ctl run as any user but root
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise PrivatePostgresUnavailable(
            "no private PostgreSQL server for this test: running as root without a 'postgres' OS user"
        ) from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PrivatePostgresUnavailable(
            "no private PostgreSQL server for this test: running as root and runuser is missing"
        )
    return [runuser, "-u", "postgres", "--"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivatePostgres:
    def __init__(self, root: Path, bindir: Path, runner: list[str]) -> None:
        self.root, self.bindir, self.runner = root, bindir, runner
        self.data = root / "data"
        self.log = root / "server.log"
        self.port = _free_port()
        self.running = False
        self._wait = ("-w", "-t", str(START_TIMEOUT_SECONDS))

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str, timeout: float = START_TIMEOUT_SECONDS) -> None:
        cmd = [*self.runner, str(self.bindir / tool), *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
        if done.returncode != 0:
            raise RuntimeError(
                f"{tool} {' '.join(args)} failed ({done.returncode}): {done.stderr}\n{self.log_tail()}"
            )

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "-N")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\n"
                "max_connections = 60\n"
                "shared_buffers = 16MB\n"
            )

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), *self._wait, "start")
        self.running = True

    def stop(self, mode: str = "fast", wait: bool = True) -> None:
        """`wait=False` returns at once: with mode "smart" the server then refuses new sessions
        ("the database system is shutting down") until the open ones end."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, *(self._wait if wait else ("-W",)), "stop")
        self.running = self.running and not wait

    async def connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(host="127.0.0.1", port=self.port, user="postgres", database="postgres")


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A started private server; stopped and deleted on the way out, also on failure.

    Raises PrivatePostgresUnavailable when the machine cannot create one.
    """
    bindir, runner = _bindir(), _runner()
    root = Path(tempfile.mkdtemp(prefix="market-pg-"))
    server = PrivatePostgres(root, bindir, runner)
    try:
        if runner:
            shutil.chown(root, user="postgres", group=None)
        try:
            server.init()
            server.start()
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            raise PrivatePostgresUnavailable(f"no private PostgreSQL server for this test: {exc}") from exc
        yield server
    finally:
        if server.running or (server.data / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
