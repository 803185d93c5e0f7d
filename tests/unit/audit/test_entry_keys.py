"""One root secret, keys per purpose, entry MACs, and what the verifier makes of them."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from audit_factories import PUBLIC, entries, entry
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from market.audit.canonical import entry_leaf
from market.audit.macs import PURPOSE, EntryKeyring, entry_keyring, optional_keyring
from market.audit.merkle import leaf_hash
from market.audit.offline import export_line, read_export
from market.audit.records import EntryRecord
from market.audit.verify import verify_log
from market.common.keys import RootSecretMissing, derive_key, key_id, keyring
from market.settings import Settings

ROOT = base64.b64encode(bytes(range(32))).decode()
OTHER_ROOT = base64.b64encode(bytes(range(1, 33))).decode()


def test_keys_are_per_purpose_stable_and_named_without_being_revealed(tmp_path: Path) -> None:
    [root] = Settings(root_secret=ROOT, data_dir=tmp_path).root_secrets()
    mac = derive_key(root, PURPOSE)
    assert len(mac) == 32 and mac == derive_key(base64.b64decode(ROOT), PURPOSE)
    assert derive_key(root, "token-signing-v1") != mac  # independent purposes
    assert derive_key(base64.b64decode(OTHER_ROOT), PURPOSE) != mac
    assert len(key_id(mac)) == 16 and key_id(mac) not in mac.hex()
    assert not (tmp_path / "root.key").exists()  # a configured secret is never written down


def test_embedded_mode_generates_one_private_root_key_and_production_refuses_none(tmp_path: Path) -> None:
    settings = Settings(mode="embedded", data_dir=tmp_path)
    with pytest.raises(RootSecretMissing):
        settings.root_secrets(create=False)  # read-only tools never create one
    first = settings.root_secrets()
    assert settings.root_secrets() == first and len(first[0]) == 32
    assert stat.S_IMODE((tmp_path / "root.key").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["root.key"]  # nothing left aside
    with pytest.raises(ValidationError, match="MARKET_ROOT_SECRET"):
        Settings(
            mode="production", database_url="postgresql+asyncpg://db/x", jwt_secret="s" * 40, signing_key=ROOT
        )
    for bad in ("not base64!", base64.b64encode(b"short").decode()):
        with pytest.raises(ValidationError, match="root secret"):
            Settings(root_secret=bad)


def test_a_rotated_root_still_checks_what_the_old_one_made(tmp_path: Path) -> None:
    old = entry_keyring(Settings(root_secret=ROOT, data_dir=tmp_path))
    key_id_then, mac_then = old.mac(b"leaf")
    rotated = entry_keyring(Settings(root_secret=OTHER_ROOT, retired_root_secrets=[ROOT], data_dir=tmp_path))
    assert rotated.current_id != key_id_then and rotated.verifies(key_id_then, b"leaf", mac_then)
    assert not rotated.verifies(key_id_then, b"other leaf", mac_then)
    assert not rotated.verifies("0" * 16, b"leaf", mac_then) and not rotated.verifies(
        key_id_then, b"leaf", None
    )
    roots = Settings(root_secret=OTHER_ROOT, retired_root_secrets=[ROOT]).root_secrets()
    assert list(keyring(roots, PURPOSE)) == [
        rotated.current_id, key_id_then,
    ]  # fmt: skip
    assert optional_keyring(Settings(data_dir=tmp_path / "empty")) is None


def macd(records: list[EntryRecord], keys: EntryKeyring) -> list[EntryRecord]:
    return [
        r._replace(mac=keys.mac(r.leaf)[1], mac_key_id=keys.current_id, entry_id=r.seq + 100) for r in records
    ]


def test_the_verifier_names_every_entry_the_key_holder_did_not_write() -> None:
    keys = entry_keyring(Settings(root_secret=ROOT))
    log = macd(entries(12), keys)
    assert verify_log(log, [], PUBLIC, mac_keys=keys.keys).ok
    forged = list(log)
    leaf = entry(7, note="rewritten").leaf
    forged[7] = forged[7]._replace(leaf=leaf, leaf_hash=leaf_hash(leaf))  # hash recomputed, MAC not
    forged[9] = forged[9]._replace(mac=None)
    report = verify_log(forged, [], PUBLIC, mac_keys=keys.keys)
    assert (report.first_bad_seq, report.kind) == (7, "forged") and report.forged_ids == [107, 109]
    # MACs under a key this verifier does not hold: others verify, so these are forgeries too.
    strange = list(log)
    strange[3] = strange[3]._replace(mac_key_id="feedfacefeedface")
    assert verify_log(strange, [], PUBLIC, mac_keys=keys.keys).forged_ids == [103]
    # But with the wrong keys altogether, nothing can be said: a note, not a false alarm.
    elsewhere = verify_log(log, [], PUBLIC, mac_keys=entry_keyring(Settings(root_secret=OTHER_ROOT)).keys)
    assert elsewhere.ok and "MACs not checked" in elsewhere.notes[0]


text = st.text(st.characters(codec="utf-8"), max_size=30)


@settings(max_examples=150, deadline=None)
@given(actor=text, note=text, seq=st.integers(min_value=0, max_value=10**12))
def test_the_fast_export_reader_reads_exactly_what_json_reads(
    tmp_path_factory: pytest.TempPathFactory, actor: str, note: str, seq: int
) -> None:
    from datetime import UTC, datetime

    leaf = entry_leaf(
        created_at=datetime(2026, 11, 30, tzinfo=UTC), actor=actor, action="a", subject_type="t",
        subject_id="s", payload={"note": note},
    )  # fmt: skip
    digest, mac = leaf_hash(leaf.encode()), bytes(range(32))
    for line in (
        export_line(seq, 7, leaf, digest, mac, "00ff00ff00ff00ff"),
        export_line(seq, 7, leaf, digest),
    ):
        path = tmp_path_factory.mktemp("export") / "audit.jsonl"
        path.write_text(line + "\n", encoding="utf-8")
        [record] = list(read_export(path))
        assert record == EntryRecord.from_json(json.loads(line))
        assert record.leaf == leaf.encode() and record.seq == seq
        [lean] = list(read_export(path, macs=False))  # a verifier without the key reads less
        assert lean[:3] == record[:3]
