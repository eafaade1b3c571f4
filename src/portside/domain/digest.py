"""Content digests (`algorithm:hex`), as the OCI image spec defines them.

Only sha256 and sha512 are accepted: they are the registered algorithms that
clients use, and each has a fixed hex length we can validate.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol

from portside.domain.errors import DigestInvalid

HEX_LENGTHS = {"sha256": 64, "sha512": 128}
_DIGEST_RE = re.compile(r"^(?P<algorithm>[a-z0-9]+(?:[+._-][a-z0-9]+)*):(?P<encoded>[a-zA-Z0-9=_-]+)$")


class Hasher(Protocol):
    """The part of a hashlib object we use."""

    def update(self, data: bytes, /) -> None: ...
    def hexdigest(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Digest:
    """A validated digest. `str(d)` is the canonical `algorithm:hex` form."""

    algorithm: str
    hex: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    def new_hasher(self) -> Hasher:
        """A fresh hashlib object for this digest's algorithm."""
        return hashlib.new(self.algorithm)

    @classmethod
    def of(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        """The digest of `data` (small values only: manifests, test payloads)."""
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())


def parse_digest(value: str) -> Digest:
    """Parse and validate `value`; raises DigestInvalid with the reason."""
    match = _DIGEST_RE.fullmatch(value)
    if match is None:
        raise DigestInvalid(f"invalid digest {value[:200]!r}: expected algorithm:hex")
    algorithm, encoded = match["algorithm"], match["encoded"]
    expected = HEX_LENGTHS.get(algorithm)
    if expected is None:
        raise DigestInvalid(f"unsupported digest algorithm {algorithm!r}: use sha256 or sha512")
    if len(encoded) != expected or not all(c in "0123456789abcdef" for c in encoded):
        raise DigestInvalid(f"invalid {algorithm} digest: expected {expected} lowercase hex characters")
    return Digest(algorithm, encoded)


def is_digest(value: str) -> bool:
    """True if `value` looks like a digest rather than a tag (tags cannot contain ':')."""
    return ":" in value
