"""`market audit verify`: recompute the log from the database, an export or the published
tiles, check every signed head and checkpoint, and name the first bad entry."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import httpx
import typer

from market.audit.macs import EntryKeyring, optional_keyring
from market.audit.note import Checkpoint, InvalidNote, Verifier, open_checkpoint
from market.audit.offline import read_export
from market.audit.records import EntryRecord
from market.audit.report import VerificationReport
from market.audit.tlog_client import verify_tiles
from market.audit.tree_head import SignedTreeHead
from market.audit.verify import LogVerifier
from market.audit.verify_db import verify_database
from market.common.ed25519 import public_key_from_b64

audit_app = typer.Typer(help="Tamper-evident audit log.", no_args_is_help=True)
BATCH = 4096  # export entries checked together


def verify_export(
    export: Path,
    heads_file: Path | None,
    public_key_b64: str,
    *,
    checkpoints: list[Checkpoint] | None = None,
    mac_keys: EntryKeyring | None = None,
) -> VerificationReport:
    heads = []
    if heads_file is not None:
        data = json.loads(heads_file.read_text(encoding="utf-8"))
        heads = [SignedTreeHead.model_validate(h) for h in (data if isinstance(data, list) else [data])]
    verifier = LogVerifier(
        heads,
        public_key_from_b64(public_key_b64),
        checkpoints=checkpoints or (),
        mac_keys=None if mac_keys is None else mac_keys.keys,
    )
    try:
        batch: list[EntryRecord] = []
        for record in read_export(export, macs=mac_keys is not None):
            batch.append(record)
            if len(batch) == BATCH:
                verifier.feed_batch(batch)
                batch = []
        verifier.feed_batch(batch)
    except ValueError as exc:
        verifier.report.fail(verifier.expected_seq, "malformed", str(exc))
    return verifier.finish()


def _log_verifier(log_vkey: str | None, public_key: str, origin: str) -> Verifier:
    if log_vkey:
        return Verifier.parse(log_vkey)
    return Verifier(origin, "ed25519", public_key_from_b64(public_key).public_bytes_raw())


def _trusted(files: list[Path], log: Verifier) -> list[Checkpoint]:
    """Checkpoints kept earlier (e.g. saved from GET /checkpoint), each checked against the log key."""
    trusted = []
    for path in files:
        try:
            trusted.append(open_checkpoint(path.read_bytes(), log)[0])
        except InvalidNote as exc:
            raise typer.BadParameter(f"{path}: {exc}", param_hint="--checkpoint") from exc
    return trusted


def _print(report: VerificationReport) -> None:
    typer.echo(f"entries checked: {report.entries}; signed heads checked: {report.heads_checked}")
    for note in report.notes[:20]:
        typer.echo(f"note: {note}")
    if report.ok:
        typer.echo("log intact")
        return
    typer.echo(f"TAMPERED: {report.finding}", err=True)
    if report.forged_ids:
        typer.echo(f"  entries without a valid MAC (ids): {report.forged_ids}", err=True)
    for problem in report.problems[1:5]:
        typer.echo(f"  also: {problem}", err=True)
    raise typer.Exit(1)


@audit_app.command("log-vkey")
def log_vkey_command() -> None:
    """Print the log's note verifier key (for witnesses and outside verifiers)."""
    from market.cli_support import load_settings, require_public_key

    settings = load_settings()
    typer.echo(_log_verifier(None, require_public_key(settings), settings.log_origin).vkey())


@audit_app.command("verify")
def verify(
    export: Annotated[
        Path | None, typer.Option(exists=True, help="JSON lines from GET /v1/audit/export")
    ] = None,
    heads: Annotated[
        Path | None, typer.Option(exists=True, help="Signed tree head(s) JSON (with --export)")
    ] = None,
    tiles: Annotated[str | None, typer.Option(help="Base URL of the log's tiles and /checkpoint")] = None,
    checkpoint: Annotated[
        list[Path] | None, typer.Option(exists=True, help="A checkpoint you kept earlier; repeatable")
    ] = None,
    log_vkey: Annotated[str | None, typer.Option(help="The log's note key (else from --public-key)")] = None,
    witness: Annotated[
        list[str] | None, typer.Option(help="A witness's vkey (with --tiles); repeatable")
    ] = None,
    quorum: Annotated[int, typer.Option(help="Witness cosignatures required (with --tiles)")] = 0,
    token: Annotated[str | None, typer.Option(help="An auditor's bearer token (entry bundles)")] = None,
    public_key: Annotated[str | None, typer.Option(help="Exchange public key, base64")] = None,
    database_url: Annotated[str | None, typer.Option(help="Default: MARKET_DATABASE_URL")] = None,
    macs: Annotated[bool, typer.Option(help="Check entry MACs with the service's key, if present")] = True,
) -> None:
    """Exit 0 if the log is intact; otherwise name the first bad entry (or range) and exit 1."""
    from market.cli_support import fail, load_settings, require_database, require_public_key

    settings = load_settings()
    url = require_database(settings, database_url) if tiles is None and export is None else ""
    # The exchange's own key only when none is given, and only if it exists (never created here).
    key = public_key or ("" if log_vkey and tiles else require_public_key(settings))
    try:
        log = _log_verifier(log_vkey, key, settings.log_origin)
        witnesses = [Verifier.parse(v) for v in witness or []]
    except ValueError as exc:  # InvalidNote is one too
        fail(f"not a key: {exc}")
    trusted = _trusted(checkpoint or [], log)
    mac_keys = optional_keyring(settings) if macs and tiles is None else None
    if tiles is not None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}

        async def run() -> VerificationReport:
            async with httpx.AsyncClient(base_url=tiles, headers=headers, timeout=60) as client:
                opened, report = await verify_tiles(client, log, witnesses, quorum, trusted)
            cosigned = ", ".join(opened.cosigned_by) or "no witness"
            typer.echo(f"checkpoint of {opened.checkpoint.size} entries, cosigned by {cosigned}")
            return report

        try:
            report = asyncio.run(run())
        except (InvalidNote, LookupError, httpx.HTTPError) as exc:
            typer.echo(f"cannot verify from {tiles}: {exc}", err=True)
            raise typer.Exit(2) from exc
    elif export is not None:
        report = verify_export(export, heads, key, checkpoints=trusted, mac_keys=mac_keys)
    else:
        with typer.progressbar(length=0, label="verifying") as bar:
            report = asyncio.run(verify_database(url, key, bar, mac_keys=mac_keys, checkpoints=trusted))
    _print(report)
