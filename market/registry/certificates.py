"""Registration certificates, signed by the exchange (Ed25519) and verifiable offline by anyone
with the exchange's public key and, optionally, the data file itself (Art. 62)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from market.common.ed25519 import key_id, public_key_b64, public_key_from_b64
from market.common.masking import mask_name

DOMAIN = b"market-cert-v1\n"
__all__ = ["key_id", "public_key_b64", "public_key_from_b64"]


def certificate_signing_bytes(certificate: dict[str, Any]) -> bytes:
    """The exact bytes signed: a domain prefix and the certificate's canonical JSON."""
    body = json.dumps(certificate, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return DOMAIN + body.encode("utf-8")


def sign_certificate(certificate: dict[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    public = private_key.public_key()
    certificate = {**certificate, "key_id": key_id(public)}
    signature = private_key.sign(certificate_signing_bytes(certificate))
    return {
        "certificate": certificate,
        "algorithm": "Ed25519",
        "signature": base64.b64encode(signature).decode(),
    }


def public_holder_name(holder_kind: str, name: str) -> str:
    """The holder as a certificate names it: a natural person masked (李*), so the public register
    never carries a person's full name (PIPL Art. 6 minimal exposure); organisations in full."""
    return mask_name(name) if holder_kind == "natural_person" else name


def masked_reissue(signed: dict[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """The same certificate with the natural-person holder's name masked, signed again.

    Ed25519 signatures are deterministic, so the public register serves the same bytes every
    time without storing them; the stored original (the holder's own copy) still verifies too.
    """
    certificate = dict(signed["certificate"])
    certificate["holder_kind"] = "natural_person"
    certificate["holder_name"] = mask_name(str(certificate.get("holder_name", "")))
    certificate["masked_from_original"] = True
    return sign_certificate(certificate, private_key)


def fingerprint_stream(chunks: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def file_chunks(path: Path, size: int = 1 << 20) -> Iterable[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            yield chunk


@dataclass
class VerificationResult:
    ok: bool
    reasons: list[str] = field(default_factory=list)


def verify_certificate(
    signed: dict[str, Any], public_key: Ed25519PublicKey, fingerprint: str | None = None
) -> VerificationResult:
    """Checks the signature, the key id and, when given, the data file's SHA-256."""
    reasons = []
    certificate = signed.get("certificate")
    if not isinstance(certificate, dict) or signed.get("algorithm") != "Ed25519":
        return VerificationResult(False, ["not a signed certificate of this exchange"])
    try:
        public_key.verify(
            base64.b64decode(signed.get("signature", "")), certificate_signing_bytes(certificate)
        )
    except (InvalidSignature, ValueError):
        reasons.append("signature does not verify: the certificate was altered or signed by another key")
    if certificate.get("key_id") != key_id(public_key):
        reasons.append("certificate names another signing key")
    if fingerprint is not None and certificate.get("fingerprint_sha256") != fingerprint:
        reasons.append("the file's SHA-256 differs from the registered fingerprint")
    return VerificationResult(not reasons, reasons)


def verify_certificate_files(
    cert_path: Path, file_path: Path | None, public_key_text: str
) -> VerificationResult:
    signed = json.loads(cert_path.read_text(encoding="utf-8"))
    signed = signed.get("signed_certificate", signed)  # accept the /v1/registry response as is
    fingerprint = fingerprint_stream(file_chunks(file_path)) if file_path else None
    return verify_certificate(signed, public_key_from_b64(public_key_text), fingerprint)
