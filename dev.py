#!/usr/bin/env python3
"""Set-up in one command on a fresh machine with only Python 3.11+ and pip.

    python3 dev.py serve   # venv, install, migrate the SQLite file, seed demo data, serve /docs
    python3 dev.py test    # venv, install, run the whole test suite
    python3 dev.py lock    # regenerate requirements.lock from pyproject.toml (after adding a dependency)

Installs the versions pinned in requirements.lock (those the test suite ran with), so a fresh
machine gets what was tested. Extra arguments are passed on (to `market serve`, to pytest, or
to `uv pip compile`, e.g. `python3 dev.py lock --upgrade`).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"
LOCK = ROOT / "requirements.lock"
# The resolver that writes the lock file; only `dev.py lock` installs it.
UV = "uv>=0.5"
LOCK_COMMAND = [
    "pip",
    "compile",
    "pyproject.toml",
    "--extra",
    "test",
    "--universal",
    "--python-version",
    "3.11",
    "--custom-compile-command",
    "python3 dev.py lock",
    "--output-file",
    LOCK.name,
]
PIP = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==", re.MULTILINE)


def say(text: str) -> None:
    print(text, flush=True)


def step(what: str, command: list[str]) -> None:
    """Run one set-up step, saying what it does first and how long it took after."""
    say(f"  {what} ...")
    started = time.monotonic()
    subprocess.run(command, check=True)
    say(f"  {what}: done in {time.monotonic() - started:.0f} s")


def create_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit("Python 3.11 or newer is required")
    if not (BIN / "python").exists():
        started = time.monotonic()
        say(f"creating .venv with Python {sys.version.split()[0]} ...")
        venv.EnvBuilder(with_pip=True).create(VENV)
        say(f"  created in {time.monotonic() - started:.0f} s")


def ensure_venv() -> None:
    started = time.monotonic()
    create_venv()
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + LOCK.read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    pinned = len(PINNED.findall(LOCK.read_text(encoding="utf-8")))
    say("installing into .venv (first run, or the dependencies changed; about a minute) ...")
    step("upgrading pip", [*PIP, "--upgrade", "pip"])
    step(f"installing {pinned} pinned packages from {LOCK.name}", [*PIP, "--requirement", str(LOCK)])
    # -qq: setuptools' advice on editable installs is noise here.
    step("installing this project (editable)", [*PIP, "--quiet", "--no-deps", "--editable", f"{ROOT}[test]"])
    STAMP.write_text(wanted)
    say(f"ready in {time.monotonic() - started:.0f} s")


def lock(extra: list[str]) -> int:
    """Regenerate requirements.lock; pins already there are kept unless --upgrade is given."""
    started = time.monotonic()
    create_venv()
    uv = BIN / "uv"
    if not uv.exists():
        step("installing uv (the resolver)", [*PIP, UV])
    say(f"resolving pyproject.toml (with the test extra) into {LOCK.name} ...")
    status = subprocess.call([str(uv), *LOCK_COMMAND, "--quiet", *extra], cwd=ROOT)
    if status == 0:
        pinned = len(PINNED.findall(LOCK.read_text(encoding="utf-8")))
        say(f"{LOCK.name}: {pinned} packages pinned, in {time.monotonic() - started:.0f} s")
        say("the next `python3 dev.py test` or `serve` installs them")
    return status


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("serve", "test", "lock"):
        print(__doc__)
        return 2
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "lock":
        return lock(rest)
    ensure_venv()
    os.chdir(ROOT)
    if command == "serve":
        return subprocess.call([str(BIN / "market"), "serve", *rest])
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *rest])


if __name__ == "__main__":
    sys.exit(main())
