"""Hashing and checking secrets with argon2id; generating secrets that meet the policy."""

from __future__ import annotations

import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): the library default
# (64 MiB, 3 passes, 4 lanes) made each check cost ~64 MiB of RAM and tens of ms on 2 cores.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_secret(secret: str) -> str:
    """The argon2id hash of `secret` (salted; parameters embedded)."""
    return _HASHER.hash(secret)


def verify_secret(hashed: str | None, secret: str) -> bool:
    """Whether `secret` matches `hashed`; False for a missing or malformed hash (argon2 compares in constant time)."""
    if not hashed:
        return False
    try:
        return _HASHER.verify(hashed, secret)
    except (VerificationError, InvalidHashError):
        return False


def generate_secret(length: int = 32) -> str:
    """A random secret that satisfies the password policy."""
    alphabet = string.ascii_letters + string.digits
    while True:
        value = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isupper() for c in value) and any(c.islower() for c in value) and any(c.isdigit() for c in value):
            return value
