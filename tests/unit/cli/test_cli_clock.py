"""`market clock`: demo time moved from the command line is kept in MARKET_HOME, so the next
command (and the server) sees it; refused without a database, with a bad duration and in
production, each in one line with exit status 2."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from market.common import clock
from tests.unit.cli.test_cli_home import home, one_line_refusal, run

__all__ = ["home"]


@pytest.fixture(autouse=True)
def wall_time_after() -> Iterator[None]:
    yield
    clock.reset()  # this process must not keep reading the test's demo-time file


def test_demo_time_is_kept_in_the_data_directory(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    one_line_refusal(run(["clock", "advance", "10d"], elsewhere, monkeypatch), "no database at", str(home))
    assert run(["db", "upgrade"], elsewhere, monkeypatch).exit_code == 0

    moved = run(["clock", "advance", "10d"], elsewhere, monkeypatch)
    assert moved.exit_code == 0, moved.output
    assert "ahead of the wall clock by 10 days" in moved.output
    assert json.loads((home / "demo-clock.json").read_text()) == {"offset_seconds": 864000}

    clock.reset()  # a new command, as a new process would be
    shown = run(["clock", "show"], tmp_path / "another", monkeypatch)
    assert "ahead of the wall clock by 10 days" in shown.output, shown.output
    assert run(["clock", "advance", "1d12h"], elsewhere, monkeypatch).exit_code == 0
    assert json.loads((home / "demo-clock.json").read_text()) == {"offset_seconds": 864000 + 129600}

    one_line_refusal(run(["clock", "advance", "ten days"], elsewhere, monkeypatch), "is not a duration")
    one_line_refusal(run(["clock", "advance", "400d"], elsewhere, monkeypatch), "more than 366 days")


def test_production_keeps_real_time(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKET_MODE", "production")
    monkeypatch.setenv("MARKET_DATABASE_URL", "postgresql+asyncpg://db.invalid/market")
    monkeypatch.setenv("MARKET_JWT_SECRET", "x" * 40)
    monkeypatch.setenv("MARKET_SIGNING_KEY", base64.b64encode(bytes(range(32))).decode())
    monkeypatch.setenv("MARKET_ROOT_SECRET", base64.b64encode(bytes(range(1, 33))).decode())
    one_line_refusal(
        run(["clock", "advance", "10d"], tmp_path, monkeypatch), "moves only in embedded (demo) mode"
    )
    assert not (home / "demo-clock.json").exists()
