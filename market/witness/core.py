"""The witness's one operation, `add-checkpoint` (c2sp.org/tlog-witness), as a pure decision.

A submission is `old <size>\\n`, up to 63 base64 consistency-proof lines, a blank line and a
signed checkpoint. The witness cosigns it only if the checkpoint is signed by a log it knows
(404 unknown origin, 403 no valid signature), `old` is exactly the size it last cosigned for
that log (409 with that size, `text/x.tlog.size`, otherwise), and the proof shows the new tree
extends the one it cosigned (422 if not; 409 if the size is the same but the root is not). It
then records the new checkpoint and answers with its cosignature (c2sp.org/tlog-cosignature).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from market.audit.merkle import verify_consistency
from market.audit.note import Checkpoint, InvalidNote, Signer, Verifier, b64decode, parse_note, verified
from market.witness.state import WitnessState

MAX_PROOF = 63
MAX_BODY = 1 << 16
_OLD = re.compile(r"^old (0|[1-9][0-9]{0,19})$")


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    media_type: str = "text/plain; charset=utf-8"


def _bad(status: int, reason: str) -> Answer:
    return Answer(status, reason + "\n")


def _parse(body: bytes) -> tuple[int, list[bytes], str] | Answer:
    if len(body) > MAX_BODY:
        return _bad(400, "request too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return _bad(400, "the request is not UTF-8")
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    match = _OLD.match(lines[0])
    if not sep or match is None:
        return _bad(400, "expected `old <size>`, proof lines, a blank line and a checkpoint")
    if len(lines) - 1 > MAX_PROOF:
        return _bad(400, f"at most {MAX_PROOF} consistency proof lines")
    try:
        proof = [b64decode(line) for line in lines[1:]]
    except InvalidNote:
        return _bad(400, "a consistency proof line is not base64")
    if any(len(h) != 32 for h in proof):
        return _bad(400, "a consistency proof line is not a 32-byte hash")
    return int(match.group(1)), proof, note


class Witness:
    def __init__(self, signer: Signer, logs: Mapping[str, Verifier], state: WitnessState) -> None:
        if signer.kind != "cosignature":
            raise ValueError("a witness signs Ed25519 cosignatures (type 0x04)")
        self.signer, self.logs, self.state = signer, dict(logs), state

    def add_checkpoint(self, body: bytes, timestamp: int) -> Answer:
        parsed = _parse(body)
        if isinstance(parsed, Answer):
            return parsed
        old, proof, data = parsed
        try:
            note = parse_note(data)
            checkpoint = Checkpoint.parse(note.text)
        except InvalidNote as exc:
            return _bad(400, f"not a checkpoint: {exc}")
        log = self.logs.get(checkpoint.origin)
        if log is None:
            return _bad(404, "unknown log origin")
        try:
            if not verified(note, [log]):
                return _bad(403, "no valid signature of the log's key")
        except InvalidNote:
            return _bad(403, "the log's signature does not verify")
        if old > checkpoint.size:
            return _bad(400, "the old size exceeds the checkpoint's size")
        with self.state.transaction() as state:
            latest = state.latest(checkpoint.origin)
            seen = 0 if latest is None else latest.size
            if old != seen:
                return Answer(409, f"{seen}\n", "text/x.tlog.size")
            if latest is not None and old == checkpoint.size:
                if latest.root != checkpoint.root:
                    return Answer(409, f"{seen}\n", "text/x.tlog.size")
            elif old == 0:
                if proof:
                    return _bad(422, "a proof from size 0 is empty")
            elif latest is None or not verify_consistency(
                old, checkpoint.size, latest.root, checkpoint.root, proof
            ):
                return _bad(422, "the consistency proof does not verify")
            state.record(checkpoint.origin, checkpoint.size, checkpoint.root, note.text, timestamp)
        return Answer(200, self.signer.sign(note.text, timestamp))
