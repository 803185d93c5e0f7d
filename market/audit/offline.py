"""What an auditor holds outside the exchange: the JSONL export, and single-entry proofs.

An export line is compact JSON, `{"seq":…,"id":…,"leaf_hash":"<hex>","mac":"<hex>"|null,
"mac_key_id":…,"leaf":"<the leaf text>"}`, the leaf last. Any JSON tool reads it (and gets the
leaf's exact text); `read_export` also reads it without a JSON parser, by position, so that
checking an export costs little more than hashing it.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from market.audit.merkle import verify_inclusion
from market.audit.records import EntryRecord
from market.audit.tree_head import SignedTreeHead, verify_tree_head


def export_line(
    seq: int | None,
    entry_id: int,
    leaf: str,
    leaf_hash: bytes,
    mac: bytes | None = None,
    mac_key_id: str | None = None,
) -> str:
    """One line of the JSONL export: the entry's place, hashes, MAC and exact leaf text."""
    return json.dumps(
        {
            "seq": seq,
            "id": entry_id,
            "leaf_hash": leaf_hash.hex(),
            "mac": None if mac is None else mac.hex(),
            "mac_key_id": mac_key_id,
            "leaf": leaf,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


_SEQ = b'{"seq":'
_HASH = b',"leaf_hash":"'
_LEAF = b',"leaf":"'
_MAC = b'"mac":"'
_KEY = b'"mac_key_id":"'


def _fast(line: bytes, macs: bool) -> EntryRecord | None:
    """Read a line as `export_line` writes it, by position; None if it is not in that exact
    form (then the JSON parser decides). The MAC and the id are read only if `macs`."""
    comma = line.find(b",", 7)
    at = line.find(_HASH, comma)
    leaf_at = line.find(_LEAF, at + 78)
    end = -2 if line[-1] == 125 else -3  # the line ends '"}' or '"}\n'
    if not line.startswith(_SEQ) or min(comma, at, leaf_at) < 0 or line[end : end + 2 or None] != b'"}':
        return None
    escaped = line[leaf_at + 9 : end]
    if b"\\\\" in escaped:
        return None  # a backslash in the leaf itself: let the JSON parser unescape it
    mac = key_id = entry_id = None
    if macs:
        middle = line[at + 78 : leaf_at]
        if (m := middle.find(_MAC)) >= 0:
            mac = binascii.unhexlify(middle[m + 7 : m + 71])
            if (k := middle.find(_KEY)) >= 0:
                key_id = middle[k + 14 : middle.find(b'"', k + 14)].decode()
        id_text = line[comma + 6 : at]
        entry_id = None if id_text == b"null" else int(id_text)
    return EntryRecord(
        int(line[7:comma]),
        escaped.replace(b'\\"', b'"'),
        binascii.unhexlify(line[at + 14 : at + 78]),
        mac,
        key_id,
        entry_id,
    )


def read_export(path: Path, macs: bool = True) -> Iterator[EntryRecord]:
    """The export's entries in order; ValueError naming the line that cannot be read.
    Without `macs` the MACs and ids are not read (a verifier without the key skips them)."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                record = _fast(line, macs) if len(line) > 80 else None
                if record is None:
                    if not line.strip():
                        continue
                    record = EntryRecord.from_json(line)
            except (ValueError, KeyError, TypeError, binascii.Error) as exc:
                raise ValueError(f"line {number} of the export: {exc}") from exc
            yield record


@dataclass(frozen=True)
class OfflineCheck:
    ok: bool
    reason: str

    def __bool__(self) -> bool:
        return self.ok


def _load(data: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    loaded = json.loads(data) if isinstance(data, str | bytes) else data
    if not isinstance(loaded, Mapping):
        raise ValueError("expected a JSON object")
    return loaded


def verify_inclusion_proof_offline(
    sth_json: str | bytes | Mapping[str, Any],
    entry_json: str | bytes | Mapping[str, Any] | None,
    proof_json: str | bytes | Mapping[str, Any],
    public_key: Ed25519PublicKey,
) -> OfflineCheck:
    """For an outside auditor holding only the exchange's public key: the head is signed by
    it, the entry's content hashes to its leaf, and the proof puts that leaf at `seq` in the
    signed tree. The proof is `{"leaf_index", "tree_size", "audit_path"|"inclusion_path"}` as
    served by the API (its `entry` is used when `entry_json` is None)."""
    try:
        sth = SignedTreeHead.model_validate(_load(sth_json))
        proof = _load(proof_json)
        entry = EntryRecord.from_json(entry_json if entry_json is not None else proof["entry"])
        path = [bytes.fromhex(h) for h in proof.get("audit_path", proof.get("inclusion_path", []))]
        index, size = int(proof["leaf_index"]), int(proof["tree_size"])
    except (ValueError, KeyError, TypeError) as exc:
        return OfflineCheck(False, f"malformed input: {exc}")
    if not verify_tree_head(sth, public_key):
        return OfflineCheck(False, "the tree head is not signed by this key")
    leaf = entry.recomputed_leaf_hash()
    if entry.leaf_hash and entry.leaf_hash != leaf:
        return OfflineCheck(False, "the entry's content does not hash to its leaf hash")
    if "leaf_hash" in proof and proof["leaf_hash"] != leaf.hex():
        return OfflineCheck(False, "the proof is for another leaf")
    # Only the signed head authenticates the size; a proof's own claim is checked against it.
    if size != sth.tree_size or index != entry.seq:
        return OfflineCheck(False, "the proof is for another tree size or position")
    if not verify_inclusion(leaf, index, sth.tree_size, path, sth.root):
        return OfflineCheck(False, "the inclusion proof does not lead to the signed root")
    return OfflineCheck(True, f"entry {index} is in the signed tree of size {sth.tree_size}")
