"""Text files: decode with the encoding, BOM and line endings they came with, encode back
byte-identically, and the JSON sidecar that labels a plain ``.txt`` (which has no container).

Detection order: a BOM (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE) decides; else strict UTF-8; else
strict GBK, then GB18030. Non-UTF-8 bytes are ambiguous (Big5, Shift-JIS, Latin-1 bytes often
decode as GB18030 too), so the legacy guess is accepted only when the decoded text is mostly CJK
and ``DecodedText.note`` says it was a guess; pass ``encoding=`` to override. Bytes with NULs and
no BOM (UTF-16 without BOM, binary) are refused with a clear error naming the file.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import LimitExceeded, TextDecodeError
from ..label import AIGCLabel, parse_label

__all__ = [
    "MAX_TEXT_BYTES",
    "DecodedText",
    "SidecarEvidence",
    "TextDecodeError",
    "decode_text",
    "encode_text",
    "read_sidecar",
    "sidecar_json",
    "sidecar_path",
]

MAX_TEXT_BYTES = 64 * 1024 * 1024
SIDECAR_SUFFIX = ".aigc.json"
_BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_CJK = re.compile(
    r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u2010-\u2027\U00020000-\U0003ffff]"
)


@dataclass(frozen=True)
class DecodedText:
    """A decoded text file. ``newline`` is "\\r\\n", "\\n", "\\r", "mixed" or "" (no line break)."""

    text: str
    encoding: str
    bom: bool
    newline: str
    name: str = ""
    note: str = ""


def _newline(text: str) -> str:
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    kinds = [k for k, n in (("\r\n", crlf), ("\n", lf), ("\r", cr)) if n]
    return kinds[0] if len(kinds) == 1 else ("mixed" if kinds else "")


def decode_text(
    data: bytes,
    name: str = "<text>",
    *,
    encoding: str | None = None,
    max_bytes: int = MAX_TEXT_BYTES,
) -> DecodedText:
    """Decode a text file's bytes, remembering how to write them back (see module doc)."""
    if len(data) > max_bytes:
        raise LimitExceeded(f"{name}: {len(data)} bytes is over the {max_bytes}-byte text limit")
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise TextDecodeError(f"{name}: not valid {encoding}: {exc}") from None
        bom = text.startswith("\ufeff")
        return DecodedText(text[1:] if bom else text, encoding, bom, _newline(text), name)
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                raise TextDecodeError(
                    f"{name}: starts with a {codec} BOM but is not valid {codec} "
                    f"(byte {exc.start + len(bom)})"
                ) from None
            return DecodedText(text, codec, True, _newline(text), name)
    if b"\x00" in data:
        raise TextDecodeError(
            f"{name}: contains NUL bytes and no BOM: UTF-16/32 without a BOM or not text; "
            "pass encoding= if it is text"
        )
    try:
        text = data.decode("utf-8")
        return DecodedText(text, "utf-8", False, _newline(text), name)
    except UnicodeDecodeError as exc:
        utf8_error = exc
    for codec in ("gbk", "gb18030"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        wide = [c for c in text if ord(c) > 0x7F]
        if wide and sum(1 for c in wide if _CJK.match(c)) / len(wide) >= 0.9:
            note = (
                f"not valid UTF-8 (byte {utf8_error.start}); decoded as {codec.upper()}, a guess: "
                "Big5/Shift-JIS bytes can decode too. Pass encoding= to override"
            )
            return DecodedText(text, codec, False, _newline(text), name, note)
        break
    raise TextDecodeError(
        f"{name}: not valid UTF-8 (byte {utf8_error.start}: {utf8_error.reason}) and not "
        "plausible GBK/GB18030 Chinese text; pass encoding= if you know it"
    )


def encode_text(original: DecodedText, new_text: str) -> bytes:
    """``new_text`` in the original's encoding, BOM and (uniform) line endings.

    Bare "\\n" in ``new_text`` becomes the file's line ending when that was uniformly CRLF or CR,
    so a label added with "\\n" matches. Raises :class:`TextDecodeError` when a character does
    not exist in the encoding (e.g. the invisible mark in a GBK file).
    """
    if original.newline in ("\r\n", "\r"):
        new_text = new_text.replace("\r\n", "\n").replace("\n", original.newline)
    codec = original.encoding
    if original.bom and not codec.startswith("utf-"):
        new_text = "\ufeff" + new_text
    try:
        body = new_text.encode(codec)
    except UnicodeEncodeError as exc:
        bad = new_text[exc.start : exc.end]
        raise TextDecodeError(
            f"{original.name or '<text>'}: {codec} cannot encode "
            + ", ".join(f"U+{ord(c):04X}" for c in bad[:4])
            + f" at character {exc.start}; convert the file to UTF-8 or GB18030 first"
        ) from None
    if original.bom and codec.startswith("utf-"):
        body = next(b for b, c in _BOMS if c == codec) + body
    return body


def sidecar_path(path: str | Path) -> Path:
    """``file.txt`` → ``file.txt.aigc.json`` (next to it)."""
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def sidecar_json(label: AIGCLabel, *, name: str, data: bytes) -> str:
    """The sidecar record: the Annex E label plus what it labels (file name, size, SHA-256)."""
    inner = json.loads(label.to_json(wrapped=True))["AIGC"]
    record = {
        "AIGC": inner,
        "labels": {
            "file": Path(name).name,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        "note": "sidecar label: plain text has no metadata container (TC260-PG-20258A)",
    }
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"


@dataclass
class SidecarEvidence:
    """A sidecar read back: the label fields, and whether it still matches the file's bytes."""

    path: str
    found: bool
    fields: dict[str, str] | None = None
    file: str | None = None
    sha256_expected: str | None = None
    sha256_actual: str | None = None
    error: str | None = None

    @property
    def hash_ok(self) -> bool:
        return self.sha256_expected is not None and self.sha256_expected == self.sha256_actual

    def to_json(self) -> dict:
        return {
            "source": "sidecar label file (*.aigc.json)",
            "path": self.path,
            "found": self.found,
            "fields": self.fields,
            "file": self.file,
            "hash_ok": self.hash_ok,
            "sha256_expected": self.sha256_expected,
            "sha256_actual": self.sha256_actual,
            "error": self.error,
        }


def read_sidecar(path: str | Path, *, max_bytes: int = 1024 * 1024) -> SidecarEvidence:
    """Read ``path``'s sidecar (or the sidecar given directly) and check the labelled file's hash.

    Never raises for content problems: they land in ``error``. A missing sidecar is
    ``found=False``; a missing labelled file leaves ``sha256_actual`` empty.
    """
    path = Path(path)
    if path.name.endswith(SIDECAR_SUFFIX):
        side, target = path, path.with_name(path.name[: -len(SIDECAR_SUFFIX)])
    else:
        side, target = sidecar_path(path), path
    ev = SidecarEvidence(path=str(side), found=False)
    try:
        raw = side.read_bytes()[: max_bytes + 1]
    except FileNotFoundError:
        return ev
    except OSError as exc:
        ev.error = f"{side}: {exc.strerror or exc}"
        return ev
    ev.found = True
    if len(raw) > max_bytes:
        ev.error = f"{side}: larger than {max_bytes} bytes"
        return ev
    try:
        obj = json.loads(raw.decode("utf-8"))
        labels = obj.get("labels", {}) if isinstance(obj, dict) else {}
        ev.file = labels.get("file")
        ev.sha256_expected = labels.get("sha256")
        parsed = parse_label(json.dumps({"AIGC": obj.get("AIGC")}))
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
        ev.error = f"{side}: not a sidecar JSON object ({exc})"
        return ev
    ev.fields = parsed.fields
    if parsed.error:
        ev.error = f"{side}: {parsed.error}"
    try:
        ev.sha256_actual = hashlib.sha256(target.read_bytes()).hexdigest()
    except OSError as exc:
        ev.error = ev.error or f"{target}: cannot read the labelled file ({exc.strerror or exc})"
    if ev.file and ev.file != target.name and not ev.error:
        ev.error = f"sidecar labels {ev.file!r}, not {target.name!r}"
    return ev
