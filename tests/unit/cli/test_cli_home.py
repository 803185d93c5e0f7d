"""The server and every `market` command find one data directory, wherever they are run from;
a command that only reads never creates a database or a signing key, and says what is missing
in one line with exit status 2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from market.cli import app as cli
from market.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in (
        "MARKET_DATABASE_URL",
        "MARKET_DATA_DIR",
        "MARKET_SIGNING_KEY",
        "MARKET_ROOT_SECRET",
        "MARKET_MODE",
    ):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "exchange-home"
    monkeypatch.setenv("MARKET_HOME", str(data))
    get_settings.cache_clear()
    yield data
    get_settings.cache_clear()


def run(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch) -> Result:
    cwd.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(cwd)
    get_settings.cache_clear()
    return CliRunner().invoke(cli, args)


def one_line_refusal(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert all(f in lines[0] for f in fragments), lines[0]


def test_reading_commands_refuse_in_one_line_and_create_nothing(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "somewhere" / "else"
    one_line_refusal(run(["public-key"], elsewhere, monkeypatch), "no signing key", str(home))
    one_line_refusal(
        run(["audit", "verify", "--public-key", "A" * 44], elsewhere, monkeypatch),
        "no database at",
        str(home / "market.db"),
    )
    staff = run(
        ["create-staff", "op@example.cn", "--role", "operator", "--password", "a long operator passphrase"],
        elsewhere,
        monkeypatch,
    )
    one_line_refusal(staff, "no database at")
    cert = tmp_path / "cert.json"
    cert.write_text("{}")
    one_line_refusal(
        run(["registry", "verify", "--certificate", str(cert)], elsewhere, monkeypatch), "no signing key"
    )
    assert not home.exists()  # no empty database, no new key
    assert not any(elsewhere.iterdir())


def test_commands_run_from_different_directories_share_the_database_and_key(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgraded = run(["db", "upgrade"], tmp_path / "a", monkeypatch)
    assert upgraded.exit_code == 0, upgraded.output
    assert (home / "market.db").is_file()
    # What `market serve` does at start-up: the embedded key is generated into MARKET_HOME.
    server_key = Settings(data_dir=home).exchange_public_key_b64()

    printed = run(["public-key"], tmp_path / "b", monkeypatch)
    assert printed.exit_code == 0 and printed.stdout.strip() == server_key
    staff = run(
        ["create-staff", "op@example.cn", "--role", "operator", "--password", "a long operator passphrase"],
        tmp_path / "c",
        monkeypatch,
    )
    assert staff.exit_code == 0, staff.output
    twice = run(
        ["create-staff", "op@example.cn", "--role", "operator", "--password", "a long operator passphrase"],
        tmp_path / "d",
        monkeypatch,
    )
    one_line_refusal(twice, "op@example.cn", "already in use")
    verified = run(["audit", "verify"], tmp_path / "e", monkeypatch)
    assert verified.exit_code == 0 and "log intact" in verified.stdout, verified.output
    for directory in "abcde":
        assert not any((tmp_path / directory).iterdir())  # nothing was made where they ran


def test_an_unmigrated_database_is_named_not_used(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home.mkdir()
    (home / "market.db").write_bytes(b"")
    one_line_refusal(
        run(["create-staff", "x@example.cn", "--role", "operator"], tmp_path, monkeypatch), "no schema"
    )


def test_default_home_does_not_depend_on_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MARKET_HOME", "MARKET_DATA_DIR", "MARKET_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    homes = set()
    for cwd in (tmp_path, ROOT, ROOT / "market"):
        monkeypatch.chdir(cwd)
        homes.add(Settings().home)
    assert homes == {ROOT / ".market"}  # a source checkout keeps its data at its root
    beside = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/db/exchange.db")
    assert beside.home == tmp_path / "db"
    monkeypatch.chdir(tmp_path)
    assert Settings(data_dir="relative").home == tmp_path / "relative"  # resolved once, absolute


def test_configuration_errors_are_one_line_each_without_traceback(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARKET_MODE", "production")
    monkeypatch.setenv("MARKET_DATABASE_URL", "postgresql+asyncpg://db.invalid/market")
    result = run(["serve"], tmp_path, monkeypatch)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "configuration error: MARKET_JWT_SECRET must be set to a secret of 32+ characters in production",
        "configuration error: MARKET_SIGNING_KEY must be set in production (base64 of a 32-byte seed)",
        "configuration error: MARKET_ROOT_SECRET must be set in production (base64 of 32+ random bytes)",
    ]
    monkeypatch.setenv("MARKET_JWT_TTL_SECONDS", "five")
    bad_number = run(["public-key"], tmp_path, monkeypatch)
    assert bad_number.exit_code == 2
    assert bad_number.stderr.startswith("configuration error: MARKET_JWT_TTL_SECONDS: ")
    assert "Traceback" not in bad_number.output


def test_credit_code_examples_are_valid_and_not_the_demo_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from market.demo.seed import DEMO_CREDIT_CODES
    from market.participants.credit_code import is_valid_credit_code

    result = run(["credit-code", "--example", "--count", "25"], tmp_path, monkeypatch)
    codes = result.stdout.split()
    assert result.exit_code == 0 and len(set(codes)) == 25
    assert all(is_valid_credit_code(c) for c in codes) and not DEMO_CREDIT_CODES & set(codes)
    checked = run(["credit-code", "91350100M000100Y44"], tmp_path, monkeypatch)
    assert checked.exit_code == 1 and "check digit (position 18)" in checked.stderr
