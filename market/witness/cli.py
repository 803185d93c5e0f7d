"""`market witness keygen | vkey | serve`: run an independent witness of the exchange's log.

    market witness keygen --name witness.example/w1 --key-file w1.key
    market witness serve --name witness.example/w1 --key-file w1.key --state w1.db \\
        --log "<the exchange's log vkey, from GET /v1/audit/tree-head>" --port 7380

The exchange lists the witness in `MARKET_AUDIT_WITNESSES` with the vkey `keygen` printed.
"""

from __future__ import annotations

import base64
import secrets
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from market.audit.note import InvalidNote, Signer, Verifier
from market.common.keys import write_private

witness_app = typer.Typer(help="An independent witness of transparency logs (c2sp.org/tlog-witness).")

Name = Annotated[str, typer.Option(help="The witness's key name, e.g. witness.example/w1")]
KeyFile = Annotated[Path, typer.Option(help="File holding the witness's Ed25519 seed (base64)")]


def load_signer(name: str, key_file: Path) -> Signer:
    seed = base64.b64decode(key_file.read_text().strip())
    return Signer(name, "cosignature", Ed25519PrivateKey.from_private_bytes(seed))


@witness_app.command("keygen")
def keygen(name: Name, key_file: KeyFile) -> None:
    """Create a new witness key (refuses to overwrite one) and print its vkey."""
    write_private(key_file, base64.b64encode(secrets.token_bytes(32)).decode())
    typer.echo(load_signer(name, key_file).verifier.vkey())


@witness_app.command("vkey")
def vkey(name: Name, key_file: KeyFile) -> None:
    """Print the witness's verifier key (what logs configure)."""
    typer.echo(load_signer(name, key_file).verifier.vkey())


@witness_app.command("serve")
def serve(
    name: Name,
    key_file: KeyFile,
    state: Annotated[Path, typer.Option(help="SQLite file of the latest cosigned checkpoints")],
    log: Annotated[list[str], typer.Option(help="A log's vkey (its name is its origin); repeatable")],
    host: str = "127.0.0.1",
    port: int = 7380,
) -> None:
    """Serve `POST /add-checkpoint` for the given logs."""
    import uvicorn

    from market.witness.app import witness_app as make_app
    from market.witness.core import Witness
    from market.witness.state import WitnessState

    try:
        logs = {v.name: v for v in (Verifier.parse(text) for text in log)}
    except InvalidNote as exc:
        raise typer.BadParameter(str(exc), param_hint="--log") from exc
    if any(v.kind != "ed25519" for v in logs.values()):
        raise typer.BadParameter("a log's vkey is an Ed25519 note key (type 0x01)", param_hint="--log")
    witness = Witness(load_signer(name, key_file), logs, WitnessState(state))
    typer.echo(f"witness {witness.signer.verifier.vkey()} on http://{host}:{port}", err=True)
    uvicorn.run(make_app(witness), host=host, port=port, log_level="warning")
