"""The streaming verifier against a forger: each tampering names its first bad seq and kind."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from audit_factories import KEY, PUBLIC, edited, entries, entry, head, rewritten
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from market.audit.canonical import parse_leaf
from market.audit.cli import verify_export
from market.audit.merkle import MemoryNodeSource, inclusion_proof, leaf_hash, root
from market.audit.offline import export_line, verify_inclusion_proof_offline
from market.audit.records import EntryRecord
from market.audit.verify import LogVerifier, verify_log

LOG = entries(40)
HEADS = [head(LOG[:n]) for n in (0, 10, 25, 40)]


def check(records: list[EntryRecord], **kwargs: object):  # type: ignore[no-untyped-def]
    return verify_log(records, HEADS, PUBLIC, **kwargs)  # type: ignore[arg-type]


def test_an_intact_log_verifies_every_head_and_reports_its_root() -> None:
    seen: list[int] = []
    report = check(LOG, progress=seen.append)
    assert report.ok and report.first_bad_seq is None and report.problems == []
    assert report.entries == report.tree_size == 40 and report.heads_checked == 4
    assert report.root_hash == root(r.leaf_hash for r in LOG).hex()
    assert report.unsigned_entries == 0 and seen[-1] == 40
    tail = check([*LOG, entry(40)])
    assert tail.ok and tail.unsigned_entries == 1


def test_an_edited_entry_is_named() -> None:
    forged = list(LOG)
    forged[17] = edited(LOG[17], payload={"amount_fen": 1, "note": "x"})
    report = check(forged)
    assert not report.ok and (report.first_bad_seq, report.kind) == (17, "edited")
    assert report.heads_checked == 4  # the stored leaves still match every signed root


def test_an_entry_rewritten_with_its_leaf_hash_is_caught_by_the_signed_root() -> None:
    forged = list(LOG)
    forged[17] = rewritten(LOG[17], actor="someone-else")
    report = check(forged)
    # Only the signed heads can see this; they bound it between the heads at 10 and 25, and no
    # single entry is named (entry 10 is as intact as any other in the range).
    assert not report.ok and (report.bad_range, report.kind) == ((10, 25), "root_mismatch")
    assert report.first_bad_seq is None and "[10, 25)" in report.finding


def test_a_deleted_entry_is_named() -> None:
    report = check(LOG[:12] + LOG[13:])
    assert not report.ok and (report.first_bad_seq, report.kind) == (12, "deleted")


def test_a_truncated_log_never_reaches_its_signed_head() -> None:
    report = check(LOG[:33])
    assert not report.ok and (report.first_bad_seq, report.kind) == (33, "deleted")
    assert "covers 40 entries" in report.detail


def test_swapped_entries_are_named_as_reordered() -> None:
    forged = list(LOG)
    forged[5], forged[6] = forged[6], forged[5]
    report = check(forged)
    assert not report.ok and (report.first_bad_seq, report.kind) == (5, "reordered")


def test_a_swap_inside_the_database_shows_against_the_trees_own_leaves() -> None:
    # The rows exchanged their seq values: read ORDER BY seq, the sequence looks perfect.
    forged = list(LOG)
    forged[5], forged[6] = LOG[6]._replace(seq=5), LOG[5]._replace(seq=6)
    tree_leaves = {r.seq: r.leaf_hash for r in LOG}
    report = check(forged, tree_leaves=tree_leaves)
    assert not report.ok and (report.first_bad_seq, report.kind) == (5, "reordered")
    without = check(forged)  # without the tree's leaves only the signed root can tell
    assert (without.bad_range, without.kind) == ((0, 10), "root_mismatch")


def test_an_inserted_entry_is_named_and_left_out_of_the_tree() -> None:
    forged = [*LOG[:21], edited(LOG[20], actor="ghost"), *LOG[21:]]
    report = check(forged)
    assert not report.ok and (report.first_bad_seq, report.kind) == (20, "inserted")
    assert report.heads_checked == 4 and report.problem_count == 1  # the rest still proves


def test_an_entry_inserted_by_renumbering_the_rest_breaks_the_signed_roots() -> None:
    ghost = rewritten(LOG[30], seq=30, actor="ghost")
    forged = [*LOG[:30], ghost, *(r._replace(seq=r.seq + 1) for r in LOG[30:39])]
    report = check(forged)
    assert not report.ok and (report.bad_range, report.kind) == ((25, 40), "root_mismatch")


def test_forged_heads_are_refused_and_a_fork_is_seen() -> None:
    stranger = head(LOG[:10], key=Ed25519PrivateKey.generate())
    report = verify_log(LOG, [*HEADS, stranger], PUBLIC)
    assert not report.ok and report.kind == "bad_signature"
    fork = head([*LOG[:9], rewritten(LOG[9], action="order.refunded")])
    report = verify_log(LOG, [*HEADS, fork], PUBLIC)
    assert not report.ok and (report.bad_range, report.kind) == ((0, 10), "root_mismatch")


def test_problems_are_capped_and_the_verifier_stops_early() -> None:
    forged = [edited(r, payload={}) for r in LOG]
    report = verify_log(forged, HEADS, PUBLIC, max_problems=5)
    assert report.problem_count == 5 and len(report.problems) == 5
    assert (report.first_bad_seq, report.kind) == (0, "edited") and report.entries < 40


def test_feeding_one_by_one_equals_one_pass_and_memory_is_the_frontier() -> None:
    verifier = LogVerifier(HEADS, PUBLIC)
    for record in LOG:
        verifier.feed(record)
        assert len(verifier._frontier) <= record.seq.bit_length() + 1
    assert verifier.finish() == check(LOG)


def offline_material(seq: int, size: int = 40) -> tuple[str, str, str]:
    nodes = MemoryNodeSource(r.leaf_hash for r in LOG)
    record = LOG[seq]
    shown = parse_leaf(record.leaf)
    entry_json = json.dumps(  # as GET /v1/audit/entries shows it: the leaf, and its fields read out
        {
            "seq": record.seq,
            "created_at": shown.created_at.isoformat(),
            "actor": shown.actor,
            "action": shown.action,
            "subject_type": shown.subject_type,
            "subject_id": shown.subject_id,
            "payload": shown.payload,
            "leaf": record.leaf.decode(),
            "leaf_hash": record.leaf_hash.hex(),
        }
    )
    proof_json = json.dumps(
        {
            "leaf_index": seq,
            "tree_size": size,
            "audit_path": [p.hex() for p in inclusion_proof(seq, size, nodes)],
        }
    )
    return head(LOG[:size]).model_dump_json(), entry_json, proof_json


def test_an_outside_auditor_verifies_an_entry_with_only_the_public_key() -> None:
    sth, entry_json, proof = offline_material(13)
    assert verify_inclusion_proof_offline(sth, entry_json, proof, PUBLIC)
    embedded = json.dumps({**json.loads(proof), "entry": json.loads(entry_json)})
    assert verify_inclusion_proof_offline(sth, None, embedded, PUBLIC)


def test_the_offline_check_refuses_each_lie() -> None:
    sth, entry_json, proof = offline_material(13)
    other = Ed25519PrivateKey.generate().public_key()
    assert not verify_inclusion_proof_offline(sth, entry_json, proof, other)
    shown_otherwise = json.dumps({**json.loads(entry_json), "actor": "ghost"})
    assert "disagrees" in verify_inclusion_proof_offline(sth, shown_otherwise, proof, PUBLIC).reason
    forged = edited(LOG[13], actor="ghost")
    forged_json = json.dumps({**json.loads(entry_json), "actor": "ghost", "leaf": forged.leaf.decode()})
    assert "does not hash" in verify_inclusion_proof_offline(sth, forged_json, proof, PUBLIC).reason
    recomputed = json.dumps({**json.loads(forged_json), "leaf_hash": leaf_hash(forged.leaf).hex()})
    assert "does not lead" in verify_inclusion_proof_offline(sth, recomputed, proof, PUBLIC).reason
    moved = json.dumps({**json.loads(proof), "leaf_index": 14})
    assert not verify_inclusion_proof_offline(sth, entry_json, moved, PUBLIC)
    sth25, _, proof25 = offline_material(13, size=25)
    assert not verify_inclusion_proof_offline(sth, entry_json, proof25, PUBLIC)
    assert not verify_inclusion_proof_offline(sth25, entry_json, proof, PUBLIC)
    assert "malformed" in verify_inclusion_proof_offline("{", entry_json, proof, PUBLIC).reason
    assert KEY.public_key() == PUBLIC


def test_a_far_swap_fed_row_by_row_with_its_tree_leaf_is_reordered_at_the_first_seq() -> None:
    # How the service feeds rows: one at a time, each with the tree's leaf at its seq.
    forged = list(LOG)
    forged[3], forged[31] = LOG[31]._replace(seq=3), LOG[3]._replace(seq=31)
    verifier = LogVerifier(HEADS, PUBLIC)
    for record, original in zip(forged, LOG, strict=True):
        verifier.feed(record, original.leaf_hash)
    report = verifier.finish()
    assert not report.ok and (report.first_bad_seq, report.kind) == (3, "reordered")


def test_a_row_rewritten_with_its_leaf_hash_is_edited_against_the_trees_leaves() -> None:
    forged = list(LOG)
    forged[8] = rewritten(LOG[8], payload={"amount_fen": 1})
    report = check(forged, tree_leaves={r.seq: r.leaf_hash for r in LOG})
    assert not report.ok and (report.first_bad_seq, report.kind) == (8, "edited")


def export_file(tmp_path: Path, records: list[EntryRecord]) -> Path:
    """The records as GET /v1/audit/export?format=jsonl writes them."""
    path = tmp_path / "audit.jsonl"
    lines = (export_line(r.seq, r.seq + 1, r.leaf.decode(), r.leaf_hash) for r in records)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_an_export_verifies_offline_and_a_broken_line_is_named(tmp_path: Path) -> None:
    heads = tmp_path / "heads.json"
    heads.write_text(json.dumps([json.loads(h.model_dump_json()) for h in HEADS]), encoding="utf-8")
    public = base64.b64encode(PUBLIC.public_bytes_raw()).decode()
    intact = verify_export(export_file(tmp_path, LOG), heads, public)
    assert intact.ok and intact.heads_checked == 4 and intact.tree_size == 40
    path = export_file(tmp_path, LOG)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[7] = lines[7][:-20]
    path.write_text("\n".join(lines), encoding="utf-8")
    broken = verify_export(path, heads, public)
    assert not broken.ok and broken.kind == "malformed" and "line 8" in broken.detail
    edited_export = export_file(tmp_path, [*LOG[:9], edited(LOG[9], payload={"amount_fen": 1}), *LOG[10:]])
    report = verify_export(edited_export, heads, public)
    assert not report.ok and (report.first_bad_seq, report.kind) == (9, "edited")
