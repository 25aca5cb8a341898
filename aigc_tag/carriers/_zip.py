"""ZIP mechanics shared by the OOXML, EPUB and OFD carriers (private to :mod:`aigc_tag.carriers`).

Opening checks the whole central directory before any member is read: at most
:data:`MAX_ENTRIES` members, no duplicate, absolute or ``..`` names, no encryption or ZIP64,
declared sizes bounded (:data:`MAX_TOTAL` in all, a compression ratio of at most
:data:`MAX_RATIO` for members over 1 MiB), local headers where the directory says. Members are
inflated with a cap (:data:`MAX_PART`); XML parts are parsed with defusedxml (DTDs, entities and
external references refused).

:func:`rewrite` writes a new archive by hand: every member that is not edited keeps its local
header and compressed bytes (plus any data descriptor) verbatim, in the original order; edited
and added members are deflated anew; a fresh central directory follows (records rebuilt from the
original fields, offsets fixed). Nothing is ever extracted to disk.
"""

from __future__ import annotations

import io
import lzma
import re
import struct
import time
import zipfile
import zlib
from dataclasses import dataclass

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from ..errors import CorruptContainer, LimitExceeded, UnsupportedFormat

__all__ = [
    "MAX_ENTRIES", "MAX_PART", "MAX_RATIO", "MAX_TOTAL", "OLE_MAGIC", "ZIP_MAGIC", "Package",
    "decode_xml", "open_package", "parse_xml", "read_member", "resolve", "rewrite",
]  # fmt: skip

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_ENTRIES = 10_000
MAX_TOTAL = 1 << 30
MAX_RATIO = 1000
MAX_PART = 64 * 1024 * 1024


@dataclass
class Package:
    """An opened ZIP: its bytes, members in local-header order and where the central
    directory starts."""

    data: bytes
    infos: list[zipfile.ZipInfo]  # in local-header order
    zf: zipfile.ZipFile
    cd_start: int
    comment: bytes

    def names(self) -> set[str]:
        return {i.filename for i in self.infos}

    def get(self, name: str) -> zipfile.ZipInfo | None:
        return next((i for i in self.infos if i.filename == name), None)


def open_package(
    data: bytes,
    kind: str = "OOXML",
    *,
    max_entries: int | None = None,
    max_total: int | None = None,
    max_ratio: int | None = None,
) -> Package:
    """The archive in ``data`` with its central directory checked (see the module docstring).

    ``kind`` starts every message. A limit left ``None`` is this module's constant at call time
    (a carrier passes its own to keep a per-carrier knob). Raises UnsupportedFormat (OLE, not a
    ZIP, encrypted, ZIP64), CorruptContainer or LimitExceeded.
    """
    max_entries = MAX_ENTRIES if max_entries is None else max_entries
    max_total = MAX_TOTAL if max_total is None else max_total
    max_ratio = MAX_RATIO if max_ratio is None else max_ratio
    if data.startswith(OLE_MAGIC):
        raise UnsupportedFormat(
            f"{kind}: this is an OLE compound file (an encrypted/password-protected Office "
            "document or a legacy .doc/.xls/.ppt); remove the password or convert it first"
        )
    if not data.startswith(ZIP_MAGIC):
        raise UnsupportedFormat(f"{kind}: not a ZIP package (no local file header at offset 0)")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise CorruptContainer(f"{kind}: broken ZIP structure ({exc})") from None
    except (ValueError, NotImplementedError, EOFError) as exc:
        raise CorruptContainer(f"{kind}: unreadable ZIP central directory ({exc})") from None
    if len(infos) > max_entries:
        raise LimitExceeded(f"{kind}: ZIP has {len(infos)} entries, more than {max_entries}")
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if name in seen:
            raise CorruptContainer(f"{kind}: ZIP entry {name!r} appears twice")
        seen.add(name)
        if name.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", name) or ":" in name:
            raise CorruptContainer(f"{kind}: ZIP entry name {name!r} is not a package part name")
        if info.flag_bits & 0x1:
            raise UnsupportedFormat(f"{kind}: ZIP entry {name!r} is encrypted")
        if info.file_size > 0xFFFFFFFF or info.header_offset > 0xFFFFFFFF:
            raise UnsupportedFormat(f"{kind}: ZIP64 packages are not supported")
        total += info.file_size
        if total > max_total:
            raise LimitExceeded(f"{kind}: ZIP declares more than {max_total} uncompressed bytes")
        if info.file_size > 1 << 20 and info.file_size > max_ratio * max(info.compress_size, 1):
            raise LimitExceeded(
                f"{kind}: ZIP entry {name!r} declares {info.file_size} bytes from "
                f"{info.compress_size} (ratio over {max_ratio}: a zip bomb?)"
            )
    infos.sort(key=lambda i: i.header_offset)
    if not infos or infos[0].header_offset != 0:
        raise CorruptContainer(f"{kind}: ZIP has bytes before its first entry or no entries")
    cd_start = zf.start_dir
    for a, b in zip(infos, [*infos[1:], None], strict=True):
        end = b.header_offset if b else cd_start
        if data[a.header_offset : a.header_offset + 4] != ZIP_MAGIC or end > len(data):
            raise CorruptContainer(f"{kind}: ZIP local header of {a.filename!r} is missing")
        if a.header_offset + 30 + a.compress_size > end:
            raise CorruptContainer(f"{kind}: ZIP entry {a.filename!r} overlaps the next one")
    return Package(data, infos, zf, cd_start, zf.comment)


def read_member(
    pkg: Package, name: str, kind: str = "OOXML", *, max_part: int | None = None
) -> bytes:
    """One member's bytes, inflated with a size cap (``max_part``, else :data:`MAX_PART`).

    The cap is checked on the declared size and again while inflating, so a member that lies
    about its size costs at most ``max_part + 1`` bytes.
    """
    max_part = MAX_PART if max_part is None else max_part
    info = pkg.get(name)
    if info is None:
        raise CorruptContainer(f"{kind}: part {name!r} is missing")
    if info.file_size > max_part:
        raise LimitExceeded(f"{kind}: part {name!r} is {info.file_size} bytes, over {max_part}")
    try:
        with pkg.zf.open(info) as fh:
            out = fh.read(max_part + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError,
            OSError, lzma.LZMAError) as exc:  # bzip2 raises OSError, xz LZMAError  # fmt: skip
        raise CorruptContainer(f"{kind}: part {name!r} does not decompress ({exc})") from None
    if len(out) > max_part:
        raise LimitExceeded(f"{kind}: part {name!r} inflates beyond {max_part} bytes")
    return out


def parse_xml(raw: bytes, where: str):  # -> Element (defusedxml has no public type)
    """``raw`` parsed with defusedxml; DTDs, entities and malformed XML raise CorruptContainer."""
    try:
        return SafeET.fromstring(raw)
    except DefusedXmlException as exc:
        raise CorruptContainer(f"{where}: DTD/entity declarations refused ({exc})") from None
    except SafeET.ParseError as exc:
        raise CorruptContainer(f"{where}: malformed XML ({exc})") from None


def _local(name: str, info: zipfile.ZipInfo | None, body: bytes) -> tuple[bytes, dict]:
    """A fresh deflated local record for ``body``; returns (bytes, fields for the CD record)."""
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    packed = comp.compress(body) + comp.flush()
    dt = info.date_time if info else time.localtime()[:6]
    dos_time = (dt[3] << 11) | (dt[4] << 5) | (dt[5] // 2)
    dos_date = max(dt[0] - 1980, 0) << 9 | (dt[1] << 5) | dt[2]
    fname = name.encode("utf-8")
    flags = 0x800 if not name.isascii() else 0
    crc = zlib.crc32(body) & 0xFFFFFFFF
    head = struct.pack(
        "<4sHHHHHIIIHH", ZIP_MAGIC, 20, flags, 8, dos_time, dos_date, crc,
        len(packed), len(body), len(fname), 0,
    )  # fmt: skip
    fields = {
        "flags": flags, "method": 8, "time": dos_time, "date": dos_date, "crc": crc,
        "csize": len(packed), "usize": len(body), "name": fname, "extra": b"", "comment": b"",
        "made": 20, "need": 20, "iattr": 0, "eattr": info.external_attr if info else 0o644 << 16,
    }  # fmt: skip
    return head + fname + packed, fields


def _cd_fields(info: zipfile.ZipInfo) -> dict:
    dt = info.date_time
    return {
        "flags": info.flag_bits, "method": info.compress_type,
        "time": (dt[3] << 11) | (dt[4] << 5) | (dt[5] // 2),
        "date": max(dt[0] - 1980, 0) << 9 | (dt[1] << 5) | dt[2],
        "crc": info.CRC, "csize": info.compress_size, "usize": info.file_size,
        "name": info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437"),
        "extra": info.extra, "comment": info.comment,
        "made": info.create_version | (info.create_system << 8), "need": info.extract_version,
        "iattr": info.internal_attr, "eattr": info.external_attr,
    }  # fmt: skip


def rewrite(pkg: Package, replace: dict[str, bytes], add: dict[str, bytes]) -> bytes:
    """The archive with ``replace`` members re-deflated in place and ``add`` appended; every
    other member is copied raw (local header, compressed bytes, data descriptor)."""
    out = io.BytesIO()
    records: list[tuple[int, dict]] = []
    for i, info in enumerate(pkg.infos):
        offset = out.tell()
        if info.filename in replace:
            raw, fields = _local(info.filename, info, replace[info.filename])
        else:
            end = pkg.infos[i + 1].header_offset if i + 1 < len(pkg.infos) else pkg.cd_start
            raw, fields = pkg.data[info.header_offset : end], _cd_fields(info)
        out.write(raw)
        records.append((offset, fields))
    for name, body in add.items():
        offset = out.tell()
        raw, fields = _local(name, None, body)
        out.write(raw)
        records.append((offset, fields))
    cd_start = out.tell()
    for offset, f in records:
        out.write(
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02",
                f["made"],
                f["need"],
                f["flags"],
                f["method"],
                f["time"],
                f["date"],
                f["crc"],
                f["csize"],
                f["usize"],
                len(f["name"]),
                len(f["extra"]),
                len(f["comment"]),
                0,
                f["iattr"],
                f["eattr"],
                offset,
            )  # fmt: skip
            + f["name"]
            + f["extra"]
            + f["comment"]
        )
    cd_size = out.tell() - cd_start
    n = len(records)
    comment = pkg.comment[:0xFFFF]
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, n, n, cd_size, cd_start, len(comment)))
    out.write(comment)
    return out.getvalue()


def decode_xml(raw: bytes, where: str) -> str:
    """A part's text for editing; only UTF-8 (with or without BOM) is accepted."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnsupportedFormat(f"{where}: only UTF-8 XML parts are edited") from None


def resolve(folder: str, target: str) -> str:
    """The part name a relative ``target`` names from ``folder`` (``..`` never climbs out)."""
    if target.startswith("/"):
        return target.lstrip("/")
    parts = folder.split("/") if folder else []
    for piece in target.split("/"):
        if piece == "..":
            parts = parts[:-1]
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)
