"""What a licence delivers as files, who may download them, and the record of each download.

A download is authorised by the buyer's login or API key, or by a signed URL: an HMAC over
(licence, file, expiry) under a key derived from the root secret for this purpose alone
(`market.common.keys`), so it is useless for anything else and never touches the JWT secret.
Which revisions a licence covers: see `market.revisions.service.covered`.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from market import keyring
from market.audit.log import record
from market.auth.principal import Principal
from market.catalog import products
from market.common.clock import now
from market.delivery import service as delivery
from market.delivery.models import LicenceRow
from market.downloads import repository
from market.downloads.models import FileDownload
from market.errors import NotFound, Unauthenticated
from market.revisions import service as revisions
from market.revisions.models import RevisionFile
from market.revisions.service import RevisionView
from market.settings import Settings


class SignedUrlInvalid(Unauthenticated):
    code = "signed-url-invalid"


def signature(settings: Settings, licence_id: uuid.UUID, file_id: uuid.UUID, expires: int) -> str:
    # The signed-URL key (market.keyring), never the token-signing key.
    _kid, key = keyring.current_key(settings, keyring.SIGNED_URLS)
    return _mac(key, licence_id, file_id, expires)


def download_path(licence_id: uuid.UUID, file_id: uuid.UUID) -> str:
    return f"/v1/deliveries/{licence_id}/files/{file_id}"


def signed_path(settings: Settings, licence_id: uuid.UUID, file_id: uuid.UUID) -> tuple[str, int]:
    """A download path that needs no credentials until it expires, and its expiry (Unix time)."""
    expires = int(now().timestamp()) + settings.signed_url_ttl_seconds
    sig = signature(settings, licence_id, file_id, expires)
    return f"{download_path(licence_id, file_id)}?exp={expires}&sig={sig}", expires


def _mac(key: bytes, licence_id: uuid.UUID, file_id: uuid.UUID, expires: int) -> str:
    message = f"download\n{licence_id}\n{file_id}\n{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def check_signature(
    settings: Settings, licence_id: uuid.UUID, file_id: uuid.UUID, expires: int, sig: str
) -> None:
    """A signature under the current root's key or a retired one's, not yet expired."""
    if not any(
        # bytes: compare_digest refuses str with non-ASCII characters (any input may hold them)
        hmac.compare_digest(_mac(key, licence_id, file_id, expires).encode(), sig.encode())
        for key in keyring.accepted_keys(settings, keyring.SIGNED_URLS).values()
    ):
        raise SignedUrlInvalid("the signed URL's signature does not match", fields=[("query.sig", "invalid")])
    if expires < int(now().timestamp()):
        raise SignedUrlInvalid(
            "the signed URL has expired: ask for a new one", fields=[("query.exp", "expired")]
        )


@dataclass(frozen=True)
class Delivered:
    licence: LicenceRow
    revisions: list[RevisionView]

    def file(self, file_id: uuid.UUID) -> RevisionFile:
        for view in self.revisions:
            for f in view.files:
                if f.id == file_id:
                    return f
        raise NotFound("file not found")


async def _buyers_licence(
    session: AsyncSession, principal: Principal | None, licence_id: uuid.UUID
) -> LicenceRow:
    if principal is None:
        raise Unauthenticated("send a bearer token or an X-API-Key header, or use a signed URL")
    licence = await delivery.visible_licence(session, principal, licence_id)
    if principal.participant_id != licence.buyer_id:
        raise NotFound("licence not found")  # files are delivered to the buyer alone
    return licence


async def delivered(
    session: AsyncSession, principal: Principal | None, licence_id: uuid.UUID, *, signed: bool = False
) -> Delivered:
    """The licence's files, if it can be used now: else 410 with the reason (revoked, refunded,
    expired, its upstream right revoked, its product suspended)."""
    if signed:
        found = await delivery.find_licence(session, licence_id)
        if found is None:
            raise NotFound("licence not found")
        licence = found
    else:
        licence = await _buyers_licence(session, principal, licence_id)
    usable, why = await delivery.licence_status(session, licence)
    if not usable:
        raise delivery.DeliveryRevoked(f"this licence cannot be used: {why}")
    product = await products.find(session, licence.product_id)
    assert product is not None, "a licence's product is never deleted"
    if product.listing_status == "suspended":
        raise delivery.DeliveryRevoked(
            f"this licence cannot be used: suspended: {product.listing_reason or 'product suspended'}"
        )
    if product.delivery_mode != "file":
        raise NotFound(
            "this licence delivers no files",
            fields=[("path.licence_id", f"{product.delivery_mode} delivery")],
        )
    views = await revisions.covered(
        session,
        licence.id,
        await products.resource_ids_of(session, licence.product_id),
        subscription=product.price_plan.get("kind") == "subscription",
        term=(licence.valid_from, licence.valid_to),
    )
    return Delivered(licence, views)


async def completed_downloads(session: AsyncSession, licence_id: uuid.UUID) -> int:
    return await repository.completed(session, licence_id)


async def record_download(
    session: AsyncSession, licence_id: uuid.UUID, file: RevisionFile, *, actor: str, bytes_sent: int
) -> None:
    """One completed download: its row (the per-licence count) and its audit entry."""
    session.add(
        FileDownload(
            licence_id=licence_id, file_id=file.id, bytes_sent=bytes_sent, actor=actor, completed_at=now()
        )
    )
    await record(
        session,
        actor=actor,
        action="delivery.file_downloaded",
        subject_type="licence",
        subject_id=licence_id,
        payload={
            "file_id": str(file.id),
            "revision_id": str(file.revision_id),
            "name": file.name,
            "sha256": file.sha256,
            "bytes": bytes_sent,
        },
    )
