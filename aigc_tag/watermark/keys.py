"""Watermark keys: a public default any aigc-tag can detect, or a private one from user bytes.

A key is only a 32-byte secret; every pseudo-random choice of the engines (chip signs, which chips
carry the pilot, which coded bit a chip carries) comes from ``key.rng(purpose)``, a numpy
Generator seeded by SHA-256(secret || purpose). The same key and purpose always give the same
pattern, on every platform (PCG64 is specified bit for bit by numpy).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

PUBLIC_KEY_TEXT = "aigc-tag public watermark key v1"


@dataclass(frozen=True)
class WatermarkKey:
    """A watermark key: 32 secret bytes plus a name for reports (never the secret itself)."""

    secret: bytes
    name: str = "private"

    def __post_init__(self) -> None:
        if len(self.secret) != 32:
            raise ValueError(
                "a WatermarkKey secret is exactly 32 bytes; use WatermarkKey.private()"
            )

    @classmethod
    def public(cls) -> WatermarkKey:
        """The default key, derived from a published string, so any aigc-tag can detect."""
        return cls(hashlib.sha256(PUBLIC_KEY_TEXT.encode("utf-8")).digest(), "public")

    @classmethod
    def private(cls, secret: bytes | str, *, name: str = "private") -> WatermarkKey:
        """A private key from user bytes or text (hashed, with a domain prefix).

        The domain prefix makes ``private("aigc-tag public watermark key v1")`` differ from the
        public key, so a private mark can never be read with the public key by accident.
        """
        raw = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        if not raw:
            raise ValueError("an empty secret is not a private key")
        return cls(hashlib.sha256(b"aigc-tag private key\x00" + raw).digest(), name)

    def seed(self, purpose: str) -> int:
        """A 128-bit integer seed for one named use of the key."""
        digest = hashlib.sha256(self.secret + b"\x00" + purpose.encode("utf-8")).digest()
        return int.from_bytes(digest[:16], "big")

    def rng(self, purpose: str) -> np.random.Generator:
        """A deterministic numpy Generator (PCG64) for one named use of the key."""
        return np.random.Generator(np.random.PCG64(self.seed(purpose)))

    def __repr__(self) -> str:  # keep the secret out of logs and reports
        return f"WatermarkKey(name={self.name!r})"


def resolve_key(key: WatermarkKey | None) -> WatermarkKey:
    """``None`` means the public key."""
    return WatermarkKey.public() if key is None else key
