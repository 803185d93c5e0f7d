"""The public register (`GET /v1/registry/{number}`, no login): a certificate anyone can verify
offline, carrying no natural person's identity (PIPL Art. 6; Jilin 2023 Art. 41-44)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from market.errors import NotFound
from market.participants import service as participants
from market.registry import repository
from market.registry.certificates import masked_reissue
from market.registry.schemas import RegistryEntry
from market.settings import Settings


async def public_entry(session: AsyncSession, settings: Settings, registration_number: str) -> RegistryEntry:
    """The signed certificate as the public may see it. Certificates issued since holders are
    masked are served as stored; an older one naming a natural person in full is served as a
    masked copy signed again by the exchange (nothing is written: signing is deterministic)."""
    reg = await repository.by_number(session, registration_number)
    if reg is None or reg.certificate is None:
        raise NotFound("no certificate with this registration number")
    signed = reg.certificate
    certificate = signed.get("certificate", {})
    if "holder_kind" not in certificate and certificate.get("holder_id"):  # signed before masking
        holder = await participants.find(session, uuid.UUID(certificate["holder_id"]))
        if holder is not None and holder.kind == "natural_person":
            signed = masked_reissue(signed, settings.exchange_signing_key())
    return RegistryEntry(
        registration_number=registration_number,
        status=reg.status,
        signed_certificate=signed,
        exchange_public_key=settings.exchange_public_key_b64(),
    )
