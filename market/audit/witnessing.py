"""Submitting checkpoints to witnesses (c2sp.org/tlog-witness `add-checkpoint`), as a client.

The request is `old <size>\\n`, the consistency proof from that size (one base64 hash a line),
a blank line and the signed checkpoint. A witness answers 200 with its cosignature lines, 409
(`text/x.tlog.size`) with the size it last cosigned when ours is not that size, 422 when the
proof does not lead from what it saw to our checkpoint. On a 409 the submission is retried once
from the witness's size; a witness that saw a larger tree, a different tree at the same size,
or a proof that fails has refused the checkpoint: our log is not the one it witnessed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import httpx

from market.audit.note import InvalidNote, Verifier, b64, parse_signature_lines
from market.settings import WitnessEndpoint

SIZE_MEDIA_TYPE = "text/x.tlog.size"
Prover = Callable[[int], Awaitable[list[bytes]]]


@dataclass(frozen=True)
class WitnessReply:
    witness: str
    outcome: Literal["cosigned", "refused", "unreachable"]
    detail: str
    line: str | None = None
    timestamp: int | None = None


def request_body(old: int, proof: list[bytes], note: str) -> bytes:
    return (f"old {old}\n" + "".join(b64(h) + "\n" for h in proof) + "\n" + note).encode()


def witness_verifier(witness: WitnessEndpoint) -> Verifier:
    """The configured witness's key (MARKET_AUDIT_WITNESSES only checks its shape): an Ed25519
    cosignature key (type 0x04) under the witness's own name; InvalidNote says what is wrong."""
    verifier = Verifier.parse(witness.vkey)
    if verifier.name != witness.name or verifier.kind != "cosignature":
        raise InvalidNote("the vkey must be an Ed25519 cosignature key (type 0x04) named like the witness")
    return verifier


def _cosignature(verifier: Verifier, text: str, reply: str) -> tuple[str, int] | None:
    """The witness's own valid cosignature line in its reply, with its time."""
    try:
        lines = parse_signature_lines(reply)
    except InvalidNote:
        return None
    for line in lines:
        if (line.name, line.key_hash) == (verifier.name, verifier.key_hash):
            timestamp = verifier.verify(text, line.signature)
            if timestamp is not None:
                return line.line, timestamp
    return None


async def submit(
    client: httpx.AsyncClient,
    witness: WitnessEndpoint,
    note: str,
    text: str,
    size: int,
    old: int,
    prove: Prover,
) -> WitnessReply:
    """Ask one witness to cosign our checkpoint of `size` (note text `text`), starting from the
    size we believe it last cosigned."""
    name = witness.name
    try:
        verifier = witness_verifier(witness)
    except InvalidNote as exc:  # nothing it answers could be checked: it is not asked
        return WitnessReply(name, "unreachable", f"MARKET_AUDIT_WITNESSES: its vkey is unusable: {exc}")
    for _attempt in range(2):
        if old > size:
            return WitnessReply(
                name, "refused", f"it cosigned a tree of {old} entries, larger than ours ({size})"
            )
        proof = await prove(old) if 0 < old < size else []
        try:
            response = await client.post(
                witness.url.rstrip("/") + "/add-checkpoint", content=request_body(old, proof, note)
            )
        except httpx.HTTPError as exc:
            return WitnessReply(name, "unreachable", f"{type(exc).__name__}: {exc}")
        if response.status_code == 200:
            found = _cosignature(verifier, text, response.text)
            if found is None:
                return WitnessReply(name, "unreachable", "its reply holds no valid cosignature of its key")
            return WitnessReply(name, "cosigned", "cosigned", found[0], found[1])
        if response.status_code == 409 and response.headers.get("content-type", "").startswith(
            SIZE_MEDIA_TYPE
        ):
            try:
                seen = int(response.text.strip())
            except ValueError:
                return WitnessReply(name, "unreachable", "its 409 reply does not hold a tree size")
            if seen == old:
                return WitnessReply(name, "refused", f"it cosigned a different tree of {seen} entries")
            old = seen
            continue
        if response.status_code == 422:
            return WitnessReply(
                name, "refused", f"the consistency proof from the {old} entries it cosigned does not verify"
            )
        return WitnessReply(name, "unreachable", f"it answered {response.status_code}: {response.text[:200]}")
    return WitnessReply(name, "unreachable", "it kept changing the size it reports")
