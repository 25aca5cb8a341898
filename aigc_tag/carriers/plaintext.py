"""Plain text (``.txt`` and any other text without a container): no place for a label.

Text has no magic bytes, so this carrier never claims a file by sniffing; :func:`text_fallback`
routes bytes that decode as text (UTF-8, UTF-16 with BOM, GB18030) here, or to the Markdown/HTML
carriers by the file's extension (the one place aigc-tag looks at a name, for text only). The
Annex E record of a plain text file lives in a sidecar, ``file.txt.aigc.json``, written by the
tagger when asked (``--sidecar``) and read by verify.
"""

from __future__ import annotations

from pathlib import PurePath

from ..errors import UnsupportedFormat
from . import Carrier, Found, register, registry

#: Extensions a directory walk treats as text (named files are tried whatever their name).
TEXT_EXTENSIONS = {".txt", ".text", ".md", ".markdown", ".html", ".htm"}
_BY_EXTENSION = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}


class PlainTextCarrier:
    name = "txt"
    media_type = "text"
    mime = "text/plain"
    extensions = (".txt", ".text")
    can_write = True  # the explicit label and the invisible mark; the record goes to a sidecar
    label_places = ("sidecar file.txt.aigc.json",)

    def accept(self, head: bytes) -> bool:
        return False  # never by magic: see text_fallback

    def read_labels(self, data: bytes) -> list[Found]:
        return []  # the sidecar is read by verify, which knows the path

    def read_xmp(self, data: bytes) -> bytes | None:
        return None

    def read_extras(self, data: bytes) -> dict[str, str]:
        return {}

    def has_c2pa(self, data: bytes) -> bool:
        return False

    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        raise UnsupportedFormat(
            "plain text has no metadata container: the label goes into a sidecar "
            "(file.txt.aigc.json, --sidecar / Tagger(sidecar=True))"
        )

    def reencode(self, data: bytes, draw: object) -> bytes:
        raise UnsupportedFormat("plain text has no pixels")


CARRIER = register(PlainTextCarrier())


def text_fallback(data: bytes, name: str, *, walk: bool = False) -> Carrier | None:
    """The text carrier for bytes no magic claimed, or None if they are not text.

    ``walk`` (a directory walk) only takes known text extensions, so source code, licences and
    data files lying next to generated texts are skipped rather than labelled."""
    suffix = PurePath(name).suffix.lower()
    if walk and suffix not in TEXT_EXTENSIONS:
        return None
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # binary (UTF-16 text is recognised by its BOM)
    from ..text.decode import decode_text

    head = data[:65536]
    # A cut in the middle of a multi-byte character: back off up to three bytes.
    for cut in range(4 if len(data) > len(head) else 1):
        try:
            decode_text(head[: len(head) - cut], name or "<text>")
            break
        except UnsupportedFormat:
            continue
    else:
        return None
    return registry()[_BY_EXTENSION.get(suffix, "txt")]
