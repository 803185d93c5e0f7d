"""`market` command line: serve, db upgrade, demo, create-staff, registry/audit verification."""

from __future__ import annotations

import asyncio
import getpass
import json
from pathlib import Path
from typing import Annotated

import typer

from market.audit.cli import audit_app
from market.registry.cli import registry_app
from market.settings import get_settings

app = typer.Typer(help="Jilin data exchange backend.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(registry_app, name="registry")
app.add_typer(audit_app, name="audit")


@db_app.command("upgrade")
def db_upgrade(revision: str = "heads") -> None:
    """Apply Alembic migrations to MARKET_DATABASE_URL (default: the embedded SQLite file)."""
    from market.db.migrate import upgrade

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url, revision)
    typer.echo(f"database at {settings.effective_database_url} upgraded to {revision}")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    migrate: Annotated[bool, typer.Option(help="Apply migrations first.")] = True,
    seed: Annotated[bool, typer.Option(help="Seed demo participants and products if empty.")] = True,
) -> None:
    """Serve the HTTP API (embedded default: SQLite file, migrated, demo data)."""
    import uvicorn

    from market.app import create_app

    settings = get_settings()
    if migrate:
        db_upgrade()
    if seed and settings.mode != "production":
        from market.demo.seed import seed_demo_data

        created = asyncio.run(seed_demo_data(settings))
        if created:
            typer.echo("seeded demo data; log in with the accounts printed below:")
            for line in created:
                typer.echo(f"  {line}")
    typer.echo(f"API docs: http://{host}:{port}/docs  (OpenAPI: http://{host}:{port}/openapi.json)")
    # Forwarded headers count only from MARKET_TRUSTED_PROXIES, judged in one place
    # (market.common.iris), so uvicorn's own reading of them is off.
    uvicorn.run(
        create_app(settings), host=host, port=port, log_config=None, access_log=False, proxy_headers=False
    )


@app.command("create-staff")
def create_staff(
    email: str,
    role: Annotated[str, typer.Option(help="operator | auditor | price_authority")],
    display_name: str = "",
    password: Annotated[str, typer.Option(envvar="MARKET_STAFF_PASSWORD", help="Prompted if unset.")] = "",
) -> None:
    """Create an exchange staff user (operator, auditor or price authority)."""
    from market.db.session import make_engine, make_sessionmaker
    from market.participants.schemas import StaffCreate
    from market.participants.service import create_staff as create

    secret = password or getpass.getpass("password (12+ characters): ")
    data = StaffCreate(email=email, password=secret, display_name=display_name or email, role=role)

    async def _run() -> str:
        engine = make_engine(get_settings().effective_database_url)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                user = await create(session, data, actor="cli")
                return str(user.id)
        finally:
            await engine.dispose()

    typer.echo(f"created {role} {email} ({asyncio.run(_run())})")


@app.command()
def demo(
    base_url: Annotated[str, typer.Option(help="A running `market serve`.")] = "http://127.0.0.1:8000",
) -> None:
    """Run a scripted seller → buyer → operator flow against a running service and narrate it."""
    from market.demo.script import run_demo

    raise typer.Exit(run_demo(base_url))


@app.command("public-key")
def public_key() -> None:
    """Print the exchange's Ed25519 public key (base64), for offline verification."""
    typer.echo(get_settings().exchange_public_key_b64())


def _print_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    app()
