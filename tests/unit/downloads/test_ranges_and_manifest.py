"""Byte ranges as RFC 9110 §14 reads them, and the manifest fingerprint as docs/delivery.md
tells a third party to recompute it."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market.downloads import ranges
from market.revisions.manifest import ManifestEntry, fingerprint, manifest_bytes


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 10, None),
        ("bytes=0-4", 10, (0, 5)),
        ("bytes=5-", 10, (5, 10)),
        ("bytes=-3", 10, (7, 10)),
        ("bytes=-30", 10, (0, 10)),
        ("bytes=8-100", 10, (8, 10)),
        ("bytes=5-2", 10, None),  # invalid: ignored, the whole body is sent
        ("bytes=0-1,4-5", 10, None),  # several ranges: not supported, the whole body
        ("items=0-1", 10, None),
        ("bytes=-", 10, None),
    ],
)
def test_ranges(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert ranges.parse(header, size) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=-0", 10), ("bytes=0-", 0)])
def test_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(ranges.Unsatisfiable):
        ranges.parse(header, size)


@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(1, 10_000))
def test_a_range_served_is_inside_the_file(first: int, last: int, size: int) -> None:
    try:
        span = ranges.parse(f"bytes={first}-{last}", size)
    except ranges.Unsatisfiable:
        assert first >= size
        return
    if span is not None:
        start, end = span
        assert 0 <= start < end <= size and start == first


def test_the_fingerprint_is_recomputed_as_the_docs_say() -> None:
    files = [
        ManifestEntry("报表.csv", "text/csv", 7, hashlib.sha256(b"q\n3\n").hexdigest().upper()),
        ManifestEntry("a.json", "application/json", 2, "ab" * 32),
    ]
    # As docs/delivery.md: entries sorted by name, keys sorted, compact, UTF-8, lower-case hex.
    entries = sorted(
        (
            {"media_type": f.media_type, "name": f.name, "sha256": f.sha256.lower(), "size": f.size}
            for f in files
        ),
        key=lambda e: str(e["name"]),
    )
    doc = json.dumps({"files": entries}, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert manifest_bytes(files) == doc
    assert fingerprint(files) == hashlib.sha256(doc).hexdigest()
    assert fingerprint(reversed(files)) == fingerprint(files)
    assert b'"name":"\xe6\x8a\xa5\xe8\xa1\xa8.csv"' in doc
