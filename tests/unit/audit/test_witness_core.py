"""The witness's add-checkpoint, answer by answer, as c2sp.org/tlog-witness specifies it."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from market.audit.merkle import MemoryNodeSource, consistency_proof, leaf_hash
from market.audit.note import Checkpoint, Signer, cosigners, parse_note
from market.audit.witnessing import request_body
from market.witness.core import Witness
from market.witness.state import WitnessState

LOG = Signer("exchange.example/audit", "ed25519", Ed25519PrivateKey.generate())
W = Signer("witness.example/w1", "cosignature", Ed25519PrivateKey.generate())
LEAVES = [leaf_hash(bytes([i])) for i in range(40)]
TREE = MemoryNodeSource(LEAVES)


def signed(size: int, signer: Signer = LOG, root: bytes | None = None, origin: str | None = None) -> str:
    text = Checkpoint(origin or LOG.name, size, root if root is not None else TREE.root(size)).text()
    return text + "\n" + signer.sign(text)


def submit(witness: Witness, old: int, size: int, proof: list[bytes] | None = None, note: str | None = None):  # type: ignore[no-untyped-def]
    if proof is None:
        proof = consistency_proof(old, size, TREE) if 0 < old < size else []
    return witness.add_checkpoint(request_body(old, proof, note or signed(size)), 1_800_000_000)


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    return Witness(W, {LOG.name: LOG.verifier}, WitnessState(tmp_path / "w.db"))


def test_it_cosigns_a_growing_log_and_remembers_across_restarts(witness: Witness, tmp_path: Path) -> None:
    first = submit(witness, 0, 10)
    assert first.status == 200
    note = parse_note(signed(10) + first.body)
    assert cosigners(note, [W.verifier]) == [(W.verifier, 1_800_000_000)]
    assert submit(witness, 10, 25).status == 200
    assert submit(witness, 25, 25).status == 200  # the same checkpoint again: cosigned again
    restarted = Witness(W, {LOG.name: LOG.verifier}, WitnessState(tmp_path / "w.db"))
    stale = submit(restarted, 10, 30)
    assert (stale.status, stale.body, stale.media_type) == (409, "25\n", "text/x.tlog.size")


def test_a_size_it_did_not_cosign_is_409_with_its_size(witness: Witness) -> None:
    assert submit(witness, 0, 10).status == 200
    for old in (0, 5, 11):
        answer = submit(witness, old, 20)
        assert (answer.status, answer.body, answer.media_type) == (409, "10\n", "text/x.tlog.size")


def test_a_proof_that_does_not_lead_to_the_new_root_is_422(witness: Witness) -> None:
    assert submit(witness, 0, 10).status == 200
    other = MemoryNodeSource([*LEAVES[:3], leaf_hash(b"rewritten"), *LEAVES[4:20]])
    rewritten = signed(20, root=other.root(20))
    assert submit(witness, 10, 20, consistency_proof(10, 20, other), rewritten).status == 422
    assert submit(witness, 10, 20, [], signed(20)).status == 422  # no proof at all
    assert submit(witness, 10, 20).status == 200  # the honest tree still goes through


def test_the_same_size_with_another_root_is_409(witness: Witness) -> None:
    assert submit(witness, 0, 10).status == 200
    answer = submit(witness, 10, 10, [], signed(10, root=bytes(32)))
    assert (answer.status, answer.body) == (409, "10\n")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"old 0\n\n" + signed(5, origin="stranger.example").encode(), 404),
        (b"old 0\n\n" + signed(5, Signer(LOG.name, "ed25519", Ed25519PrivateKey.generate())).encode(), 403),
        (b"old 6\n\n" + signed(5).encode(), 400),
        (b"old 01\n\n" + signed(5).encode(), 400),
        (b"new 0\n\n" + signed(5).encode(), 400),
        (b"old 0\nnot base64!\n\n" + signed(5).encode(), 400),
        (b"old 0\n" + b"AAAA\n" * 64 + b"\n" + signed(5).encode(), 400),
        (b"old 0\n\nnot a checkpoint\n", 400),
        (b"\xff\xfe", 400),
    ],
)
def test_what_is_not_a_valid_submission_gets_the_specs_status(
    witness: Witness, body: bytes, status: int
) -> None:
    assert witness.add_checkpoint(body, 1).status == status


def test_a_proof_from_size_zero_must_be_empty(witness: Witness) -> None:
    assert submit(witness, 0, 10, [LEAVES[0]]).status == 422


async def test_a_misconfigured_witness_key_is_refused_where_it_is_used_and_the_witness_not_asked() -> None:
    import httpx
    from pydantic import ValidationError

    from market.audit.note import InvalidNote
    from market.audit.witnessing import submit as submit_to
    from market.audit.witnessing import witness_verifier
    from market.settings import WitnessEndpoint

    with pytest.raises(ValidationError, match="vkey"):
        WitnessEndpoint(name="w", url="http://w.example", vkey="not a vkey")  # not even its shape
    good = WitnessEndpoint(name=W.name, url="http://w.example", vkey=W.verifier.vkey())
    assert witness_verifier(good).public_key == W.verifier.public_key
    for wrong in (
        WitnessEndpoint(name="witness.example/other", url="http://w.example", vkey=W.verifier.vkey()),
        WitnessEndpoint(name=LOG.name, url="http://w.example", vkey=LOG.verifier.vkey()),  # not a cosigner
    ):
        with pytest.raises(InvalidNote):
            witness_verifier(wrong)
    asked: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(500)

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))

    async def no_proof(_old: int) -> list[bytes]:
        return []

    reply = await submit_to(client, wrong, signed(10), "", 10, 0, no_proof)
    assert reply.outcome == "unreachable" and "vkey is unusable" in reply.detail and asked == []
    await client.aclose()
