"""The one source of "now" for business rules (publicity periods, quote expiry, terms).

Tests move it forward instead of sleeping; production never touches the offset.

Demo time (embedded mode only): an operator may move the business clock forward with
`market clock advance 10d` or `POST /v1/admin/clock/advance`. That offset is kept in a small
file in the data directory (`use_stored_offset`), so the server and every `market` command run
on the same business time: a request re-reads the file when it has changed (one `stat`, at its
first `now()`; `offset_per_request`), and keeps that offset to its end.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from pathlib import Path

_offset = timedelta(0)
_stored_path: Path | None = None
# (inode, mtime_ns, size) of the file last read (each write replaces it), and its offset.
_stored_seen: tuple[int, int, int] | None = None
_stored_offset = timedelta(0)
# Within a request (`offset_per_request`): the stored offset it read first, once read. A purchase
# asks for `now()` some 25 times, and a `stat` each was 2 % of its CPU (issue 21).
_request_offset: ContextVar[list[timedelta] | None] = ContextVar("request_offset", default=None)


def now() -> datetime:
    return datetime.now(UTC) + _offset + stored_offset()


def advance(delta: timedelta) -> None:
    """Move business time forward (tests and demos only)."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = timedelta(0)
    use_stored_offset(None)


def use_stored_offset(path: Path | None) -> None:
    """Read (and, with `store_advance`, write) the demo-time offset kept at `path`; None: none."""
    global _stored_path, _stored_seen, _stored_offset
    _stored_path, _stored_seen, _stored_offset = path, None, timedelta(0)


def stored_offset_path() -> Path | None:
    return _stored_path


@contextlib.contextmanager
def offset_per_request() -> Iterator[None]:
    """Within the block, the stored offset is read once, at the first `now()`: a request runs on
    one demo time, as a `market clock advance` meanwhile moves the next request's."""
    token = _request_offset.set([])
    try:
        yield
    finally:
        _request_offset.reset(token)


def stored_offset() -> timedelta:
    """The offset in the demo-time file (zero without one): once per request, re-read only when
    the file changed."""
    if _stored_path is None:
        return timedelta(0)
    held = _request_offset.get()
    if held:
        return held[0]
    offset = _offset_on_file(_stored_path)
    if held is not None:
        held.append(offset)
    return offset


def _offset_on_file(path: Path) -> timedelta:
    global _stored_seen, _stored_offset
    try:
        stat = path.stat()
    except FileNotFoundError:
        _stored_seen, _stored_offset = None, timedelta(0)
        return _stored_offset
    seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    if seen != _stored_seen:
        _stored_offset = _read_offset(path)
        _stored_seen = seen
    return _stored_offset


def _read_offset(path: Path) -> timedelta:
    try:
        seconds = json.loads(path.read_text(encoding="utf-8"))["offset_seconds"]
    except (OSError, ValueError, KeyError, TypeError):
        return timedelta(0)  # a file being replaced or damaged: business time is wall time
    return timedelta(seconds=int(seconds)) if isinstance(seconds, int) and seconds > 0 else timedelta(0)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Two advances at once (the CLI and the server) must not lose one of them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def store_advance(delta: timedelta) -> timedelta:
    """Add `delta` to the stored offset (atomically replacing the file); returns the new total.
    Without a stored offset (tests), the process's own offset moves instead."""
    if _stored_path is None:
        advance(delta)
        return _offset
    with _locked(_stored_path):
        total = _read_offset(_stored_path) + delta if _stored_path.exists() else delta
        seconds = math.ceil(total.total_seconds())  # never short of an instant asked for
        temporary = _stored_path.with_name(_stored_path.name + ".tmp")
        temporary.write_text(json.dumps({"offset_seconds": seconds}) + "\n", encoding="utf-8")
        os.replace(temporary, _stored_path)
    stored = timedelta(seconds=seconds)
    if (held := _request_offset.get()) is not None:
        held[:] = [max(stored, timedelta(0))]  # the request that moved the clock sees its move
    return stored


def total_offset() -> timedelta:
    """How far business time is ahead of the wall clock in this process."""
    return _offset + stored_offset()
