"""File delivery against this machine's own disk: a 1 GB download through the API ÷ `cat` of
the same stored file to /dev/null, with the server's RSS sampled throughout.

Starts `market serve` (one uvicorn worker, embedded SQLite, demo data, publicity 0) on a free
loopback port in a temporary MARKET_HOME; the demo seller uploads a new revision holding one
file of --size MB (streamed), finalises it, has the registration change approved; the demo buyer
buys the file product; then the file is downloaded with curl (to /dev/null, the buyer's token)
--runs times, and `cat` reads the stored object (`<home>/objects/sha256/<hex>`) as many times.

    goal: download MB/s ÷ cat MB/s >= 0.5; server RSS while downloading - before <= 64 MB

    .venv/bin/python bench/bench_files.py [--size 1024] [--runs 3] [--no-readme]

The upload's rate and RSS are reported too (not a goal). Writes bench/README.md's file figures
(between their markers) unless --no-readme.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
MB = 1 << 20
PASSWORD = "demo-password-2026"  # noqa: S105 - the embedded demo accounts
SELLER, BUYER, OPERATOR = (
    "seller@jilin-seller.example.cn",
    "buyer@changchun-buyer.example.cn",
    "operator@demo.example.cn",
)
CHECKLIST = {
    "classification_present": True,
    "lawful_source": True,
    "fingerprint": True,
    "rights_evidence": True,
}
BEGIN, END = "<!-- bench_files:begin -->", "<!-- bench_files:end -->"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class RssSampler:
    """Peak RSS of a process, sampled every 100 ms while active."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.1)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def login(client: httpx.Client, email: str) -> dict[str, str]:
    r = client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def ok(r: httpx.Response, status: int = 200) -> Any:
    if r.status_code != status:
        raise SystemExit(f"{r.request.method} {r.request.url}: {r.status_code} {r.text[:400]}")
    return r.json()


def payload(size_mb: int) -> Iterator[bytes]:
    block = os.urandom(MB)
    for i in range(size_mb):
        yield i.to_bytes(8, "big") + block[8:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024, help="file size in MB")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    if shutil.which("curl") is None:
        raise SystemExit("needs curl on PATH")
    home = Path(tempfile.mkdtemp(prefix="market-bench-files-"))
    port = free_port()
    env = {
        **os.environ,
        "MARKET_HOME": str(home),
        "MARKET_PUBLICITY_WORKING_DAYS": "0",
        "MARKET_MAX_UPLOAD_BYTES": str((args.size + 16) * MB),
        "MARKET_MAX_REVISION_FILE_BYTES": str((args.size + 16) * MB),
        "MARKET_LOG_JSON": "true",
    }
    env.pop("MARKET_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "market.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=600) as client:
            for _ in range(300):
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
            else:
                raise SystemExit("the server did not start")
            seller, buyer, operator = login(client, SELLER), login(client, BUYER), login(client, OPERATOR)
            product = ok(client.get("/v1/catalog?delivery_mode=file"))["items"][0]
            resource_id = ok(client.get(f"/v1/products/{product['id']}"))["resource_ids"][0]
            rev = ok(client.post(f"/v1/resources/{resource_id}/revisions", headers=seller), 201)
            before_upload = rss_mb(server.pid)
            started = time.perf_counter()
            with RssSampler(server.pid) as up_rss:
                stored = ok(
                    client.put(
                        f"/v1/resources/{resource_id}/revisions/{rev['id']}/files",
                        params={"name": "big.bin"},
                        content=payload(args.size),
                        headers={**seller, "Content-Type": "application/octet-stream"},
                    )
                )
            upload_s = time.perf_counter() - started
            ok(client.post(f"/v1/resources/{resource_id}/revisions/{rev['id']}/finalise", headers=seller))
            tree = ok(client.get(f"/v1/resources/{resource_id}/rights", headers=seller))
            registration_id = next(
                n["grant"]["registration_id"] for n in tree["roots"] if n["grant"]["registration_id"]
            )
            change = ok(
                client.post(
                    f"/v1/registrations/{registration_id}/changes",
                    json={"reason": "a new revision"},
                    headers={**seller, "Idempotency-Key": uuid.uuid4().hex},
                ),
                201,
            )
            ok(
                client.post(
                    f"/v1/registrations/{change['id']}/decision",
                    json={"decision": "approve", "checklist": CHECKLIST},
                    headers=operator,
                )
            )
            ok(client.post("/v1/registrations/finalise-due", headers=operator))
            quote = ok(
                client.post(
                    "/v1/quotes",
                    json={
                        "product_id": product["id"],
                        "quantity": 1,
                        "purpose": "risk_control",
                        "scenario": "SME credit risk scoring",
                    },
                    headers=buyer,
                ),
                201,
            )
            order = ok(
                client.post(
                    "/v1/orders",
                    json={"quote_id": quote["id"]},
                    headers={**buyer, "Idempotency-Key": uuid.uuid4().hex},
                ),
                201,
            )
            licence_id = ok(client.post(f"/v1/payments/{order['id']}/confirmation", headers=operator))[
                "licence_id"
            ]
            files = ok(client.get(f"/v1/deliveries/{licence_id}/files", headers=buyer))["files"]
            file = next(f for f in files if f["sha256"] == stored["sha256"])
            url = base + file["download_path"]
            blob = home / "objects" / "sha256" / file["sha256"]
            subprocess.run(["cat", str(blob)], stdout=subprocess.DEVNULL, check=True)  # warm the cache
            cat_times, get_times = [], []
            idle = rss_mb(server.pid)
            with RssSampler(server.pid) as down_rss:
                for _ in range(args.runs):
                    t = time.perf_counter()
                    subprocess.run(["cat", str(blob)], stdout=subprocess.DEVNULL, check=True)
                    cat_times.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    subprocess.run(
                        [
                            "curl",
                            "-sf",
                            "-o",
                            "/dev/null",
                            "-H",
                            f"Authorization: {buyer['Authorization']}",
                            url,
                        ],
                        check=True,
                    )
                    get_times.append(time.perf_counter() - t)
            # The download is correct, not just fast (hashed once, outside the timings).
            hasher = hashlib.sha256()
            with client.stream("GET", file["download_path"], headers=buyer) as r:
                for chunk in r.iter_bytes(MB):
                    hasher.update(chunk)
            assert hasher.hexdigest() == file["sha256"], "the download differs from the manifest"
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)
    size = args.size
    cat_rate, get_rate = size / min(cat_times), size / min(get_times)
    ratio = get_rate / cat_rate
    grown = down_rss.peak - idle
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        f"{size} MB file, best of {args.runs}:",
        "",
        "| figure | value | goal |",
        "|---|---|---|",
        f"| `cat` of the stored object | {cat_rate:.0f} MB/s | |",
        f"| download through the API (curl, token) | {get_rate:.0f} MB/s | |",
        f"| download ÷ cat | {ratio:.2f} | ≥ 0.5 |",
        f"| server RSS idle → peak while downloading | {idle:.0f} → {down_rss.peak:.0f} MB "
        f"(+{grown:.0f}) | ≤ +64 MB |",
        f"| upload (streamed PUT) | {size / upload_s:.0f} MB/s, "
        f"RSS {before_upload:.0f} → {up_rss.peak:.0f} MB | |",
    ]
    print("\n".join(lines))
    if not args.no_readme:
        readme = ROOT / "bench" / "README.md"
        text = readme.read_text()
        block = f"{BEGIN}\n" + "\n".join(lines) + f"\n{END}"
        if BEGIN in text:
            text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
        else:
            text += f"\n## bench_files.py: a file download against `cat`\n\n{block}\n"
        readme.write_text(text)
    return 0 if ratio >= 0.5 and grown <= 64 else 1


if __name__ == "__main__":
    raise SystemExit(main())
