"""What the 64 raw watermark bits mean. Defined here and nowhere else.

| bits  | field          | meaning                                                            |
|-------|----------------|--------------------------------------------------------------------|
| 0-3   | version        | payload format version (1)                                         |
| 4-23  | producer_hash  | first 20 bits of SHA-256 of the ContentProducer code               |
| 24-47 | serial         | content serial: first 24 bits of SHA-256 of the ProduceID; the     |
|       |                | provenance ledger maps it back to the ProduceID and the full label |
| 48-63 | crc            | CRC-16/CCITT-FALSE over bits 0-47                                  |

The CRC is the second, independent false-positive control: a random 64-bit string passes it with
probability 2^-16, on top of the detector's own statistic. Bits are most-significant first.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

VERSION = 1
RAW_BITS = 64
_FIELDS = (("version", 4), ("producer_hash", 20), ("serial", 24))


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def _hash_bits(text: str, nbits: int) -> int:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - nbits)


@dataclass(frozen=True)
class Payload:
    """The decoded fields of one 64-bit watermark payload."""

    version: int
    producer_hash: int
    serial: int

    @classmethod
    def for_label(cls, producer: str, produce_id: str) -> Payload:
        return cls(VERSION, _hash_bits(producer, 20), _hash_bits(produce_id, 24))

    def _body(self) -> int:
        value = 0
        for name, width in _FIELDS:
            field = getattr(self, name)
            if not 0 <= field < (1 << width):
                raise ValueError(f"{name} does not fit in {width} bits")
            value = (value << width) | field
        return value  # 48 bits

    def to_int(self) -> int:
        body = self._body()
        return (body << 16) | crc16_ccitt(body.to_bytes(6, "big"))

    def to_bits(self) -> np.ndarray:
        """The 64 raw bits as a uint8 array of 0/1, most significant first."""
        value = self.to_int()
        return np.array([(value >> (63 - i)) & 1 for i in range(RAW_BITS)], dtype=np.uint8)

    def hex(self) -> str:
        return f"{self.to_int():016x}"

    def matches(self, producer: str, produce_id: str) -> bool:
        return self == Payload.for_label(producer, produce_id)

    @classmethod
    def from_bits(cls, bits: np.ndarray) -> Payload | None:
        """Decode 64 bits; None when the CRC does not match (not a payload of ours)."""
        bits = np.asarray(bits).astype(np.uint8).ravel()
        if bits.size != RAW_BITS:
            raise ValueError(f"need {RAW_BITS} bits, got {bits.size}")
        value = int("".join("1" if b else "0" for b in bits), 2)
        body, crc = value >> 16, value & 0xFFFF
        if crc16_ccitt(body.to_bytes(6, "big")) != crc:
            return None
        fields = {}
        for name, width in reversed(_FIELDS):
            fields[name] = body & ((1 << width) - 1)
            body >>= width
        return cls(**fields)

    @classmethod
    def from_hex(cls, text: str) -> Payload | None:
        value = int(text, 16)
        return cls.from_bits(np.array([(value >> (63 - i)) & 1 for i in range(64)], np.uint8))
