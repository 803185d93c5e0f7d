"""Signed notes, checkpoints and cosignatures against published vectors: the Go sumdb note
package's example, the C2SP signed-note example, and a real checkpoint cosigned by a witness
of the public witness network. Byte-exact: any Go verifier or witness accepts what we sign."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from market.audit.note import (
    Checkpoint,
    InvalidNote,
    Signer,
    Verifier,
    cosigners,
    open_checkpoint,
    parse_note,
    verified,
)

# golang.org/x/mod/sumdb/note, note.go's example.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
GO_SIGNATURE = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
GO_NOTE = GO_TEXT + "\n\u2014 PeterNeumann " + GO_SIGNATURE + "\n"

# c2sp.org/signed-note's example key and signature.
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n\u2014 example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)

# A checkpoint of a staging CT log, cosigned by several witnesses of the public network.
ARCHE_VKEY = "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f"
REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
ARCHE = (
    "arche2025h1.staging.ct.transparency.dev\n"
    "1432088532\n"
    "U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n"
    "\n"
    "— arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsY"
    "LfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=\n"
    "— arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw"
    "7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=\n"
    "— transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjM"
    "WE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==\n"
    "— remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxc"
    "OVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==\n"
)


def go_signer() -> Signer:
    seed = base64.b64decode(GO_SKEY.split("+", 4)[4])[1:]  # PRIVATE+KEY+<name>+<id>+<type, seed>
    return Signer("PeterNeumann", "ed25519", Ed25519PrivateKey.from_private_bytes(seed))


def test_our_note_signature_is_the_go_packages_byte_for_byte() -> None:
    signer = go_signer()
    assert signer.verifier.vkey() == GO_VKEY
    assert GO_TEXT + "\n" + signer.sign(GO_TEXT) == GO_NOTE
    assert verified(parse_note(GO_NOTE), [Verifier.parse(GO_VKEY)])[0][0].name == "PeterNeumann"


def test_the_c2sp_signed_note_example_verifies() -> None:
    key = Verifier.parse(C2SP_VKEY)
    assert key.public_key.hex() == "e932791ae6e7a840a46164c904786426d5e7821dd8b29a00d61cae72afdd4da4"
    assert verified(parse_note(C2SP_NOTE), [key])


def test_a_real_witness_cosignature_verifies_and_a_changed_checkpoint_does_not() -> None:
    checkpoint, note = open_checkpoint(ARCHE, Verifier.parse(ARCHE_VKEY))
    assert checkpoint.size == 1432088532 and checkpoint.origin == "arche2025h1.staging.ct.transparency.dev"
    [(witness, timestamp)] = cosigners(note, [Verifier.parse(REMORA_VKEY)])
    assert witness.name == "remora.n621.de" and timestamp == 1779573024
    with pytest.raises(InvalidNote):
        cosigners(parse_note(ARCHE.replace("1432088532", "1432088533")), [Verifier.parse(REMORA_VKEY)])


def test_unknown_keys_are_ignored_and_a_known_key_that_fails_rejects_the_note() -> None:
    other = Signer("PeterNeumann", "ed25519", Ed25519PrivateKey.generate())  # same name, other key
    note = parse_note(GO_TEXT + "\n" + other.sign(GO_TEXT) + go_signer().sign(GO_TEXT))
    assert [v.name for v, _ in verified(note, [Verifier.parse(GO_VKEY)])] == ["PeterNeumann"]
    assert verified(note, []) == []
    tampered = parse_note(GO_NOTE.replace("cryptography", "cryptographY"))
    with pytest.raises(InvalidNote):
        verified(tampered, [Verifier.parse(GO_VKEY)])


def test_our_cosignatures_are_c2sp_cosignature_v1() -> None:
    witness = Signer("witness.example/w1", "cosignature", Ed25519PrivateKey.generate())
    text = Checkpoint("example.com/log", 20852163, bytes(32)).text()
    line = witness.sign(text, timestamp=1679315147)
    note = parse_note(text + "\n" + line)
    assert cosigners(note, [witness.verifier]) == [(witness.verifier, 1679315147)]
    assert witness.verifier.vkey().split("+")[2].startswith("B")  # type byte 0x04
    raw = note.signatures[0].signature
    assert len(raw) == 72 and int.from_bytes(raw[:8], "big") == 1679315147
    # The timestamp is signed: moving it breaks the cosignature.
    moved = note.signatures[0].__class__(
        note.signatures[0].name, note.signatures[0].key_hash, (1).to_bytes(8, "big") + raw[8:]
    )
    with pytest.raises(InvalidNote):
        cosigners(note.__class__(note.text, (moved,)), [witness.verifier])


@pytest.mark.parametrize(
    "bad",
    [
        "no blank line\n\u2014 a AAAA\n",
        "text\n\n- a QUJDREVGRw==\n",  # a hyphen, not the em dash
        "text\n\n\u2014 a+b QUJDREVGRw==\n",  # '+' in a key name
        "text\n\n\u2014 a QUJD\n",  # shorter than a key ID
        "text\n\n\u2014 a QUJDREVGRw==",  # no final newline
        "te\x01xt\n\n\u2014 a QUJDREVGRw==\n",  # a control character
    ],
)
def test_malformed_notes_are_refused(bad: str) -> None:
    with pytest.raises(InvalidNote):
        parse_note(bad)


@pytest.mark.parametrize(
    "text",
    [
        "origin\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n1\nAAAA\n",
        "origin\n1\n",
        "\n1\nAA==\n",
    ],
)
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(InvalidNote):
        Checkpoint.parse(text)


def test_a_checkpoint_round_trips_and_a_vkey_must_match_its_key_id() -> None:
    checkpoint = Checkpoint("exchange.example", 42, bytes(range(32)))
    assert Checkpoint.parse(checkpoint.text()) == checkpoint
    assert checkpoint.text() == "exchange.example\n42\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
    with pytest.raises(InvalidNote, match="key ID"):
        Verifier.parse(GO_VKEY.replace("c74f20a3", "c74f20a4"))
    signer = Signer("exchange.example", "ed25519", Ed25519PrivateKey.generate())
    with pytest.raises(InvalidNote, match="origin"):
        open_checkpoint(
            Checkpoint("elsewhere", 1, bytes(32)).text()
            + "\n"
            + signer.sign(Checkpoint("elsewhere", 1, bytes(32)).text()),
            signer.verifier,
        )
