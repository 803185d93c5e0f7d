"""Signed notes, checkpoints and cosignatures, exactly as the C2SP specs define them.

- c2sp.org/signed-note: a text ending in a newline, a blank line, then signature lines
  `— <key name> base64(4-byte key ID || signature)`. Ed25519 (type 0x01) signs the text; the
  key ID is `SHA-256(name || 0x0A || type || public key)[:4]`. Verifier keys ("vkeys") are
  written `<name>+<key ID hex>+base64(type || public key)`.
- c2sp.org/tlog-checkpoint: the note text is `<origin>\\n<tree size>\\n<base64 root hash>\\n`.
- c2sp.org/tlog-cosignature: a witness's Ed25519 cosignature (type 0x04) signs
  `cosignature/v1\\ntime <t>\\n` + the checkpoint text, and its signature bytes are the 8-byte
  big-endian POSIX time `t` followed by the 64-byte Ed25519 signature.

Pure: no database, no HTTP; the exchange, the witness and outside verifiers share it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
KINDS: dict[int, Literal["ed25519", "cosignature"]] = {ED25519: "ed25519", COSIGNATURE_V1: "cosignature"}
TYPES = {kind: byte for byte, kind in KINDS.items()}
DASH = "\u2014"
MAX_SIGNATURES = 64  # the spec asks verifiers to accept at least 16
MAX_NOTE_BYTES = 1 << 16
_BAD_NAME = re.compile(r"[\s+]")
_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,19})$")


class InvalidNote(ValueError):
    """A note, key, checkpoint or signature that is malformed or does not verify."""


def b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidNote(f"not base64: {text[:20]!r}") from exc


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def key_hash(name: str, key_type: int, public_key: bytes) -> bytes:
    """The 4-byte key ID of a key (c2sp.org/signed-note)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()[:4]


def _check_name(name: str) -> str:
    if not name or _BAD_NAME.search(name):
        raise InvalidNote(f"key names are non-empty, without spaces or '+': {name!r}")
    return name


@dataclass(frozen=True)
class Verifier:
    """A trusted public key: a log's (Ed25519) or a witness's (Ed25519 cosignature)."""

    name: str
    kind: Literal["ed25519", "cosignature"]
    public_key: bytes  # 32 raw Ed25519 bytes

    @property
    def key_hash(self) -> bytes:
        return key_hash(self.name, TYPES[self.kind], self.public_key)

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """From `<name>+<key ID hex>+<base64(type || key)>`; the key ID must match."""
        name, _, rest = vkey.strip().partition("+")
        hash_hex, _, material = rest.partition("+")
        raw = b64decode(material)
        if not re.fullmatch(r"[0-9a-f]{8}", hash_hex) or len(raw) != 33 or raw[0] not in KINDS:
            raise InvalidNote("a vkey is <name>+<8 hex>+<base64 of a type byte and a 32-byte key>")
        verifier = cls(_check_name(name), KINDS[raw[0]], raw[1:])
        if verifier.key_hash.hex() != hash_hex:
            raise InvalidNote("the vkey's key ID does not match its name and key")
        return verifier

    def vkey(self) -> str:
        material = b64(bytes([TYPES[self.kind]]) + self.public_key)
        return f"{self.name}+{self.key_hash.hex()}+{material}"

    def verify(self, text: str, signature: bytes) -> int | None:
        """Check a signature (the bytes after the key ID) over the note text. Returns the
        cosignature's timestamp (0 for a plain Ed25519 signature), None if it does not verify."""
        public = Ed25519PublicKey.from_public_bytes(self.public_key)
        try:
            if self.kind == "ed25519":
                if len(signature) != 64:
                    return None
                public.verify(signature, text.encode())
                return 0
            if len(signature) != 72:
                return None
            timestamp = int.from_bytes(signature[:8], "big")
            public.verify(signature[8:], cosigned_message(text, timestamp))
            return timestamp
        except InvalidSignature:
            return None


def cosigned_message(text: str, timestamp: int) -> bytes:
    """What an Ed25519 cosignature v1 signs (c2sp.org/tlog-cosignature)."""
    if not 0 <= timestamp < 1 << 63:
        raise InvalidNote("a cosignature's time is between 0 and 2^63 - 1")
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


@dataclass(frozen=True)
class Signer:
    """A private key that signs notes under a name: a log key or a witness cosigning key."""

    name: str
    kind: Literal["ed25519", "cosignature"]
    private_key: Ed25519PrivateKey

    @property
    def verifier(self) -> Verifier:
        return Verifier(_check_name(self.name), self.kind, self.private_key.public_key().public_bytes_raw())

    def sign(self, text: str, timestamp: int = 0) -> str:
        """One signature line (with its newline) over the note text."""
        if self.kind == "ed25519":
            signature = self.private_key.sign(text.encode())
        else:
            signature = timestamp.to_bytes(8, "big") + self.private_key.sign(
                cosigned_message(text, timestamp)
            )
        return f"{DASH} {self.name} {b64(self.verifier.key_hash + signature)}\n"


@dataclass(frozen=True)
class SignatureLine:
    name: str
    key_hash: bytes
    signature: bytes

    @property
    def line(self) -> str:
        return f"{DASH} {self.name} {b64(self.key_hash + self.signature)}\n"


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[SignatureLine, ...]

    def __str__(self) -> str:
        return self.text + "\n" + "".join(s.line for s in self.signatures)


def parse_signature_lines(block: str) -> list[SignatureLine]:
    """Lines `— <name> <base64>`, each ending in a newline (a note's tail, or a witness reply)."""
    if not block.endswith("\n"):
        raise InvalidNote("signature lines end in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise InvalidNote(f"more than {MAX_SIGNATURES} signatures")
    parsed = []
    for line in lines:
        dash, _, rest = line.partition(" ")
        name, _, encoded = rest.partition(" ")
        raw = b64decode(encoded)
        if dash != DASH or len(raw) < 5:
            raise InvalidNote(f"not a signature line: {line[:40]!r}")
        parsed.append(SignatureLine(_check_name(name), raw[:4], raw[4:]))
    return parsed


def parse_note(data: str | bytes) -> Note:
    """Split a signed note into its text and signature lines (nothing is verified here)."""
    if isinstance(data, bytes):
        if len(data) > MAX_NOTE_BYTES:
            raise InvalidNote("the note is too large")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidNote("a note is UTF-8") from exc
    if len(data) > MAX_NOTE_BYTES or any(c < " " and c != "\n" for c in data):
        raise InvalidNote("a note holds no control characters but newlines")
    split = data.rfind("\n\n")
    if split < 0:
        raise InvalidNote("a note's text and signatures are separated by a blank line")
    text, block = data[: split + 1], data[split + 2 :]
    return Note(text, tuple(parse_signature_lines(block)))


def verified(note: Note, verifiers: Iterable[Verifier]) -> list[tuple[Verifier, int]]:
    """(verifier, timestamp) for each known key that signed the note. Signatures from unknown
    keys are ignored; a known key whose signature fails makes the whole note invalid."""
    known = {(v.name, v.key_hash): v for v in verifiers}
    found: dict[tuple[str, bytes], tuple[Verifier, int]] = {}
    for signature in note.signatures:
        verifier = known.get((signature.name, signature.key_hash))
        if verifier is None:
            continue
        timestamp = verifier.verify(note.text, signature.signature)
        if timestamp is None:
            raise InvalidNote(f"the signature of {verifier.name} does not verify")
        found.setdefault((verifier.name, verifier.key_hash), (verifier, timestamp))
    return list(found.values())


@dataclass(frozen=True)
class Checkpoint:
    """A log's Merkle tree head as a note text (c2sp.org/tlog-checkpoint)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        if not self.origin or "\n" in self.origin or len(self.root) != 32 or self.size < 0:
            raise InvalidNote("a checkpoint has an origin, a size and a 32-byte root")
        return "".join(
            f"{line}\n" for line in (self.origin, str(self.size), b64(self.root), *self.extensions)
        )

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or not all(lines[:-1]):
            raise InvalidNote("a checkpoint is at least three non-empty lines, each ending in a newline")
        origin, size, root = lines[0], lines[1], b64decode(lines[2])
        if not _DECIMAL.match(size) or len(root) != 32:
            raise InvalidNote("a checkpoint's size is a decimal without leading zeros, its root 32 bytes")
        return cls(origin, int(size), root, tuple(lines[3:-1]))


def open_checkpoint(data: str | bytes, log: Verifier) -> tuple[Checkpoint, Note]:
    """Parse a signed checkpoint and check the log's own signature on it (InvalidNote if
    absent or bad). Its origin must be the log key's name."""
    note = parse_note(data)
    if not any(v == log for v, _ in verified(note, [log])):
        raise InvalidNote("the checkpoint carries no valid signature of the log")
    checkpoint = Checkpoint.parse(note.text)
    if checkpoint.origin != log.name:
        raise InvalidNote("the checkpoint's origin is not the log's key name")
    return checkpoint, note


def cosigners(note: Note, witnesses: Sequence[Verifier]) -> list[tuple[Verifier, int]]:
    """The witnesses (of those given) whose cosignature on the note verifies, with its time."""
    return [(v, t) for v, t in verified(note, witnesses) if v.kind == "cosignature"]
