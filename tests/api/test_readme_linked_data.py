"""The README's linked-data example runs, as a third party would run it, against the service.

The snippet is read from README.md (after the `linked-data-example` marker) and executed with
two lines changed: the exchange's address is the test client's, and its blocking `http` client
sends each request to the app under test.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from pathlib import Path
from typing import Any

import httpx

from market.demo.seed import seed_demo_data

README = Path(__file__).resolve().parents[2] / "README.md"
ADDRESS = 'EXCHANGE = "http://127.0.0.1:8000"\n'
CLIENT = "http = httpx.Client()\n"


def readme_snippet() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- linked-data-example -->\n```python\n(.*?)```", text, re.S)
    assert match, "README.md lost its linked-data example"
    code = match.group(1)
    assert ADDRESS in code and CLIENT in code, "the example's first lines changed; update this test"
    return code.replace(ADDRESS, 'EXCHANGE = "http://test"\n').replace(CLIENT, "")


class BlockingClient:
    """What `httpx.Client` is to the snippet, answered by the async test client on its own loop."""

    def __init__(self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        self.client, self.loop = client, loop

    def get(self, url: str, **options: Any) -> httpx.Response:
        return asyncio.run_coroutine_threadsafe(self.client.get(url, **options), self.loop).result(timeout=60)


async def test_the_readme_follows_a_dataset_to_its_offer_and_certificate(client: Any, app: Any) -> None:
    assert await seed_demo_data(app.state.settings)
    printed = io.StringIO()
    namespace: dict[str, Any] = {"http": BlockingClient(client, asyncio.get_running_loop())}

    def run() -> None:
        with contextlib.redirect_stdout(printed):
            exec(compile(readme_snippet(), "README.md", "exec"), namespace)  # noqa: S102

    await asyncio.to_thread(run)
    out = printed.getvalue()
    assert "长春中小企业经营指数 API from 吉林省数据样例科技有限公司" in out
    assert "吉林企业经营月报 (file) from 吉林省数据样例科技有限公司" in out
    use = "permission use | elapsedTime lteq P365D; purpose isAnyOf (purpose-commercial-analytics "
    assert use + "purpose-risk-control); spatial eq CHN" in out  # the file product
    assert "purpose-risk-control); spatial eq CHN" in out and "count lteq 10000" in out  # the API one
    assert "prohibition distribute |" in out and "prohibition move | spatial neq CHN" in out
    assert "duty compensate | payAmount gteq 2000.00" in out  # the file product's one-off price
    assert "duty compensate | payAmount gteq 500.00" in out  # the API product's base fee
    registered = [line for line in out.splitlines() if line.strip().startswith("registered JLDR-")]
    assert len(registered) == 2  # both products rest on the demo's registered resource
    assert "sha256 " in registered[0] and "held by http://test/v1/participants/" in registered[0]
