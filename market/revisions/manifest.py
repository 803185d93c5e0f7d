"""The manifest of a revision and its fingerprint (pure: docs/delivery.md shows the same steps).

The manifest is the canonical JSON of `{"files": [...]}`, each file an object with exactly the
keys `media_type`, `name`, `sha256` (lower-case hex) and `size` (integer bytes), the files
sorted by name; canonical means keys sorted, no insignificant whitespace
(separators `,` and `:`), non-ASCII characters written as themselves, UTF-8 encoded. The
fingerprint is the lower-case hex SHA-256 of those bytes. Anyone holding the files recomputes
it: hash each file, build the manifest, hash the manifest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ManifestEntry:
    name: str
    media_type: str
    size: int
    sha256: str


def manifest_bytes(files: Iterable[ManifestEntry]) -> bytes:
    entries = sorted(
        (
            {"media_type": f.media_type, "name": f.name, "sha256": f.sha256.lower(), "size": int(f.size)}
            for f in files
        ),
        key=lambda e: str(e["name"]),
    )
    return json.dumps({"files": entries}, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def fingerprint(files: Iterable[ManifestEntry]) -> str:
    return hashlib.sha256(manifest_bytes(files)).hexdigest()
