"""A small structure-aware byte mutator (the fallback engine and the CI smoke run).

Container walkers trust length fields, so besides byte flips it writes boundary integers
(0, 1, 0x7F.., 0xFF..) in both byte orders at random offsets, inserts and deletes runs,
duplicates chunks (endless-loop bait), inserts deep nesting runs ([[[, <a><a>, "- - -"),
truncates and splices two seeds.
"""

from __future__ import annotations

import random
import struct

#: Runs that nest: parsers recursing (json, YAML, XML, HTML) or quadratic in depth show up here.
_NESTERS = (b"[", b"{", b'{"a":', b"<a>", b"<<", b"- ", b" ", b"(", b"\x0a\x00\x00\x00\x01")
_INTS = (0, 1, 7, 8, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 0xFFFFFFF0)


def _head(rng: random.Random, n: int) -> int:
    # Metadata lives up front in most containers: bias offsets towards the first 4 KiB.
    return rng.randrange(min(n, 4096)) if rng.random() < 0.7 else rng.randrange(n)


def mutate(data: bytes, rng: random.Random, other: bytes = b"") -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not buf:
            buf += bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
            continue
        op = rng.randrange(10)
        pos = _head(rng, len(buf))
        if op <= 1:
            for _ in range(rng.randint(1, 8)):
                buf[_head(rng, len(buf))] = rng.randrange(256)
        elif op == 2:
            value = rng.choice(_INTS)
            fmt = rng.choice(("<I", ">I", "<H", ">H", "B", ">Q", "<Q"))
            packed = struct.pack(fmt, value & (256 ** struct.calcsize(fmt) - 1))
            buf[pos : pos + len(packed)] = packed
        elif op == 3:
            del buf[pos : pos + rng.randint(1, 64)]
        elif op == 4:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 32)))
        elif op == 5:
            end = min(len(buf), pos + rng.randint(4, 256))
            buf[pos:pos] = buf[pos:end] * rng.randint(1, 4)
        elif op == 6:
            del buf[rng.randrange(len(buf) + 1) :]
        elif op == 8:
            buf[pos:pos] = rng.choice(_NESTERS) * rng.choice((64, 1100, 5000))
        elif op == 7 and other:
            cut = rng.randrange(len(other))
            buf[pos:] = other[cut : cut + rng.randint(1, 4096)]
        else:
            buf[pos] ^= 1 << rng.randrange(8)
    return bytes(buf)
