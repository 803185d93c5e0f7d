"""`market registry verify`: check a certificate offline with the exchange's public key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from market.registry.certificates import verify_certificate_files

registry_app = typer.Typer(help="Data-element registry.", no_args_is_help=True)


@registry_app.command("verify")
def verify(
    certificate: Annotated[Path, typer.Option(exists=True, help="JSON from GET /v1/registry/{number}")],
    public_key: Annotated[
        str | None, typer.Option(help="Exchange public key, base64 (default: the key in MARKET_HOME)")
    ] = None,
    file: Annotated[Path | None, typer.Option(exists=True, help="The data file to match")] = None,
) -> None:
    """Exit 0 when the certificate is genuine (and matches the file), 1 otherwise."""
    from market.cli_support import load_settings, require_public_key

    key = public_key or require_public_key(load_settings())
    result = verify_certificate_files(certificate, file, key)
    if result.ok:
        typer.echo("certificate verified" + (" and the file matches its fingerprint" if file else ""))
        return
    for reason in result.reasons:
        typer.echo(f"REFUSED: {reason}", err=True)
    raise typer.Exit(1)
