"""Argon2id password hashing, and what a new password must be (issue 18, finding 8)."""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from itertools import pairwise
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import AfterValidator, StringConstraints

# Modest cost: interactive logins on a 2-core box, still far beyond brute force.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verifying against this keeps unknown-user logins as slow as known ones (no user probing).
_DUMMY_HASH = _hasher.hash("timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


MIN_LENGTH = 12
MAX_LENGTH = 128
# What may be added around a common password and still leave it common (password1234, !qwerty).
_DECORATION = re.compile(r"^[^a-z]*(.*?)[^a-z]*$")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped blocklist (market/auth/common_passwords.txt), lower-cased."""
    text = files("market.auth").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def password_problem(password: str) -> str | None:
    """Why `password` may not be chosen, or None. NIST SP 800-63B §5.1.1.2: no composition rules,
    but no commonly used values: the blocklist (also with digits or symbols around it), one
    repeated character or a run of few distinct ones, and a straight sequence."""
    lowered = password.lower()
    stem = _DECORATION.sub(r"\1", lowered)
    blocklist = common_passwords()
    if lowered in blocklist or (stem and stem in blocklist) or lowered.strip("0123456789") == "":
        return "is a commonly used password; choose another (a few unrelated words work well)"
    if len(set(password)) < 5:
        return "uses too few different characters"
    if _is_sequence(lowered):
        return "is a sequence of characters (abcd..., 1234...)"
    return None


def _is_sequence(text: str) -> bool:
    steps = {ord(b) - ord(a) for a, b in pairwise(text)}
    return len(steps) == 1 and steps <= {1, -1}


def _acceptable(password: str) -> str:
    if problem := password_problem(password):
        raise ValueError(f"the password {problem}")
    return password


# A new password: taken exactly as sent (never trimmed: the same characters must sign in), long
# enough, and not a common one.
NewPassword = Annotated[
    str,
    StringConstraints(strip_whitespace=False, min_length=MIN_LENGTH, max_length=MAX_LENGTH),
    AfterValidator(_acceptable),
]
