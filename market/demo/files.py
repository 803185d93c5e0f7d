"""The file part of the demo: the seller's dataset as a revision (seeded), and the buyer buying
the file product and downloading it with its token, with a signed URL, and resuming."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from market.auth.principal import Principal
from market.demo.catalogue import FILE_PRODUCT_TITLE
from market.demo.flow import ask_quote, find_demo_product, order_and_confirm
from market.revisions import service as revisions
from market.revisions import uploads
from market.settings import Settings
from market.storage import open_store

REPORT = "\n".join(
    ["month,district,active_smes,revenue_index"]
    + [
        f"2026-{month:02d},{district},{1000 + 37 * month + 11 * len(district)},{95 + month * 7 % 13}.{month}"
        for month in range(1, 11)
        for district in ("Nanguan", "Chaoyang", "Kuancheng", "Lvyuan", "Erdao")
    ]
).encode()


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def seed_revision(
    session: AsyncSession, settings: Settings, seller: Principal, resource_id: uuid.UUID
) -> str:
    """Revision 1 of the resource: the monthly report, finalised (its manifest hash becomes the
    fingerprint the registration certifies)."""
    view = await revisions.create_revision(session, seller, resource_id)
    stored = await uploads.store_stream(open_store(settings), _once(REPORT), settings.max_revision_file_bytes)
    await revisions.record_file(
        session,
        seller,
        resource_id,
        view.revision.id,
        name="sme-monthly-2026.csv",
        media_type="text/csv",
        size=stored.size,
        sha256=stored.sha256,
        revision_limit=settings.max_revision_bytes,
    )
    final = await revisions.finalise(
        session, seller, resource_id, view.revision.id, limit=settings.max_upload_bytes
    )
    return f"revision 1 of the resource: 1 file, manifest {final.revision.manifest_sha256}"


def file_flow(n: Any, client: httpx.Client, *, buyer: dict[str, str], operator: dict[str, str]) -> None:
    n.say("9. The buyer buys the monthly report as a file and downloads it.")
    product = find_demo_product(n, client, "file", FILE_PRODUCT_TITLE)
    if not product:
        return
    quote = ask_quote(n, client, buyer, product["id"], 1, "POST /v1/quotes (one copy)")
    if not quote:
        return
    confirmation = "POST /v1/payments/{id}/confirmation (the operator saw the transfer)"
    bought = order_and_confirm(n, client, buyer, operator, quote, confirmation)
    if not bought:
        return
    _, paid = bought
    licence_id = paid["licence_id"]
    listed = n.check(
        "GET /v1/deliveries/{licence}/files",
        client.get(f"/v1/deliveries/{licence_id}/files", headers=buyer),
        200,
    )
    if not listed or not listed["files"]:
        return
    file = listed["files"][0]
    n.say(f"   the licence covers {file['name']} ({file['size']} bytes, SHA-256 {file['sha256'][:16]}…)")
    whole = client.get(file["download_path"], headers=buyer)
    n.check("GET the file with the buyer's token", whole, 200)
    digest = hashlib.sha256(whole.content).hexdigest()
    n.say(f"   received {len(whole.content)} bytes; SHA-256 matches the manifest: {digest == file['sha256']}")
    if digest != file["sha256"]:
        n.failures += 1
    signed = n.check(
        "POST .../signed-url (for curl or wget, no credentials)",
        client.post(f"{file['download_path']}/signed-url", headers=buyer),
        200,
    )
    if signed:
        by_url = client.get(signed["path"])
        n.check("GET the signed URL", by_url, 200)
        n.say(f"   curl -o {file['name']} '{signed['url']}'")
    half = file["size"] // 2
    rest = client.get(file["download_path"], headers={**buyer, "Range": f"bytes={half}-"})
    n.check(f"resume from byte {half} (Range)", rest, 206)
    resumed = hashlib.sha256(whole.content[:half] + rest.content).hexdigest() == file["sha256"]
    n.say(f"   {rest.headers.get('content-range')}; the resumed file matches: {resumed}")
    counted = client.get(f"/v1/deliveries/{licence_id}/files", headers=buyer).json()
    n.say(f"   completed downloads of this licence (each in the audit log): {counted['completed_downloads']}")
