"""Demo time kept in a file (embedded mode): `market clock advance` in another process moves the
server's business clock from its next request on; a request keeps one demo time throughout, and
sees a move it made itself."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from market.common import clock


@pytest.fixture
def clock_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "demo-clock.json"
    clock.use_stored_offset(path)
    try:
        yield path
    finally:
        clock.reset()


def advanced_elsewhere(path: Path, seconds: int) -> None:
    """What `market clock advance` run as another process leaves behind: the file replaced."""
    aside = path.with_name(path.name + ".other")
    aside.write_text(json.dumps({"offset_seconds": seconds}), encoding="utf-8")
    os.replace(aside, path)


def test_a_move_made_elsewhere_counts_from_the_next_request(clock_file: Path) -> None:
    advanced_elsewhere(clock_file, 3600)
    with clock.offset_per_request():
        assert clock.total_offset() == timedelta(hours=1)
        advanced_elsewhere(clock_file, 7200)
        assert clock.total_offset() == timedelta(hours=1)  # one demo time per request
    with clock.offset_per_request():
        assert clock.total_offset() == timedelta(hours=2)


def test_outside_a_request_every_reading_sees_the_file(clock_file: Path) -> None:
    assert clock.total_offset() == timedelta(0)
    advanced_elsewhere(clock_file, 60)
    assert clock.total_offset() == timedelta(minutes=1)
    clock_file.unlink()
    assert clock.total_offset() == timedelta(0)


def test_a_request_that_moves_the_clock_sees_its_move(clock_file: Path) -> None:
    with clock.offset_per_request():
        before = clock.now()
        assert clock.store_advance(timedelta(days=1)) == timedelta(days=1)
        assert clock.total_offset() == timedelta(days=1)
        assert clock.now() - before >= timedelta(days=1)
    with clock.offset_per_request():
        assert clock.total_offset() == timedelta(days=1)
