"""Where the exchange keeps its files when MARKET_HOME does not say.

The server and every `market` command must find the same embedded database and signing key
wherever they are run from, so the default never depends on the working directory: a source
checkout keeps `.market/` at its root (where `python3 dev.py serve` has always put it), an
installed package the user's data directory (XDG).
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PACKAGE_DIR = Path(__file__).resolve().parent
APP_NAME = "jilin-data-exchange"


def default_home() -> Path:
    checkout = PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "market").is_dir():
        return checkout / ".market"
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / APP_NAME


def sqlite_file(database_url: str) -> Path | None:
    """The file an SQLite URL names (None for another database, an in-memory one or no URL)."""
    if not database_url.startswith("sqlite"):
        return None
    try:
        database = make_url(database_url).database
    except ArgumentError:
        return None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()
