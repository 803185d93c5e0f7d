"""The walkthroughs in docs/ are run as written: every ```bash block of a document, in order,
in one shell (so variables carry from step to step), against a live `market serve` started on
a fresh MARKET_HOME (embedded SQLite, demo data). A document that no longer matches the API
fails here, so the documents cannot rot."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live.server import ROOT, LiveServer, serve

pytestmark = pytest.mark.multiprocess

DOCS = ROOT / "docs"
WALKTHROUGHS = ("seller.md", "buyer.md", "auditor.md")
BASH_BLOCK = re.compile(r"^```bash\n(.*?)^```\s*$", re.DOTALL | re.MULTILINE)
# Stops at the first failing command and says which; `set -u` catches a variable a step forgot.
ABSENT = re.compile(r"^(\w[\w ]* )?null$")
PRELUDE = "set -euo pipefail\ntrap 'echo \"walkthrough step failed: $BASH_COMMAND\" >&2' ERR\n"


def bash_blocks(document: Path) -> list[str]:
    return BASH_BLOCK.findall(document.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve(Path(tmp_path_factory.mktemp("walkthroughs")) / "home")


def test_every_walkthrough_has_steps_and_tools() -> None:
    for name in WALKTHROUGHS:
        assert len(bash_blocks(DOCS / name)) >= 3, f"docs/{name} has no runnable steps"
    missing = [tool for tool in ("bash", "curl", "jq", "sha256sum") if shutil.which(tool) is None]
    assert not missing, f"the walkthroughs need {missing} on this machine"


@pytest.mark.parametrize("name", WALKTHROUGHS)
def test_walkthrough_runs_as_written(server: LiveServer, name: str, tmp_path: Path) -> None:
    script = PRELUDE + "\n".join(bash_blocks(DOCS / name))
    ran = subprocess.run(  # noqa: S603 (the documents' own commands, against a throwaway server)
        ["bash", "-c", script],  # noqa: S607
        cwd=tmp_path,
        env={**server.env, "BASE": server.base_url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, f"docs/{name}:\n{ran.stdout[-4000:]}\n{ran.stderr[-4000:]}"
    # `jq -r .field` of a field that is not there prints null, and a step would echo it.
    unset = [line for line in ran.stdout.splitlines() if ABSENT.match(line)]
    assert not unset, f"docs/{name} extracted values that are not there: {unset}"
