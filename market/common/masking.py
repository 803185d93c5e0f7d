"""Minimal exposure of natural persons (PIPL Art. 6, 51; Jilin Regulation 2023 Art. 41-44):
what public views show of a person's name or contact, and the keyed pseudonym the audit log
carries instead of who a person is.

Masks keep just enough to tell records apart in a list (李*, 138****5678, z***@example.cn);
an identity document number is never shown at all, masked or not.
"""

from __future__ import annotations

import hashlib
import hmac

MASK = "*"


def mask_name(name: str) -> str:
    """A person's name as public views show it: the first character of each part, then one
    star per remaining character (李四 -> 李*, 欧阳娜娜 -> 欧***, John Smith -> J*** S****)."""
    parts = name.split()
    if not parts:
        return MASK
    return " ".join(part[0] + MASK * max(1, len(part) - 1) for part in parts)


def mask_contact(contact: str) -> str:
    """An e-mail address or phone number with all but its edges hidden."""
    if "@" in contact:
        local, _, domain = contact.partition("@")
        return f"{local[:1]}{MASK * 3}@{domain}"
    if len(contact) >= 7:
        return contact[:3] + MASK * (len(contact) - 7) + contact[-4:]
    return MASK * len(contact)


def pseudonym(key: bytes, kind: str, value: str) -> str:
    """A keyed hash (HMAC-SHA256) of `value` in the domain `kind`: the same person always gets
    the same pseudonym, and without the key nobody can test a guess of who it is (a plain hash
    of a phone number or name is reversed by hashing every candidate)."""
    return hmac.new(key, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()
