"""FLAC, Ogg Vorbis and Ogg Opus: the label as the Vorbis comment ``AIGC=<JSON>``.

TC260-PG-202510A (Annexes C-E) puts the Annex E JSON into a Vorbis comment named ``AIGC``: the
FLAC ``VORBIS_COMMENT`` block, the Vorbis comment header, or ``OpusTags``. mutagen edits the
comment list on bytes in memory; the first label comment is replaced in place (else appended),
so exactly one ``AIGC`` comment is left, and every other comment keeps its order. FLAC
``STREAMINFO``, ``PICTURE``, ``SEEKTABLE``, ``APPLICATION`` and ``CUESHEET`` blocks and the audio
frames are kept (mutagen may resize ``PADDING``); Ogg audio packets are kept, the pages after the
comment header are renumbered by mutagen, so the decoded samples are identical.

Vorbis comment names are case-insensitive: ``aigc=`` counts as the label. Other names containing
``AIGC`` and comments holding an AIGC JSON blob (e.g. ``COMMENT``/``DESCRIPTION``) are read as
non-normative copies and removed on write. ``extra_xmp`` (aigc-tag's own properties) becomes
comments ``AIGCTAG_<Name>=value`` (name case kept; the prefix is not a label), since these formats
have no XMP place: ``read_xmp`` returns None and ``read_extras`` collects those comments.

Sniffing: ``fLaC`` at offset 0 (an ID3-prefixed FLAC is claimed by the MP3 carrier); ``OggS``
whose first packet starts ``\\x01vorbis`` (Vorbis) or ``OpusHead`` (Opus). FLAC-in-Ogg, Speex and
Ogg video are not claimed. C2PA defines no embedding for these formats, so ``has_c2pa`` is False.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable

from mutagen import FileType, MutagenError
from mutagen.flac import FLAC
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

from ..errors import AigcTagError, CorruptContainer, UnsupportedFormat
from . import Found, found_from_value, guarded, id3, register, scan_blobs

__all__ = ["FLAC_CARRIER", "OGG_CARRIER", "OPUS_CARRIER", "VorbisCommentCarrier"]

LABEL_KEY = "AIGC"
EXTRA_PREFIX = "AIGCTAG_"
_MUTAGEN_ERRORS = (MutagenError, ValueError, EOFError, OSError, KeyError, struct.error)


def _is_extra(key: str) -> bool:
    return key.upper().startswith(EXTRA_PREFIX)


def _label_kind(key: str, value: str) -> str:
    """'primary', 'copy' or '' for one comment."""
    if _is_extra(key):
        return ""
    if key.upper() == LABEL_KEY:
        return "primary"
    if LABEL_KEY in key.upper():
        return "copy"
    if scan_blobs(value.encode("utf-8", "replace"), location="", limit=1):
        return "copy"
    return ""


def id3_prefix(data: bytes) -> int:
    """Length of an ID3v2 tag in front of ``fLaC`` (where c2pa-rs puts a FLAC manifest), or 0."""
    if not data.startswith(b"ID3"):
        return 0
    try:
        end = id3.tag_end(data)
    except AigcTagError:
        return 0
    return end if data[end : end + 4] == b"fLaC" else 0


def _ogg_codec(head: bytes) -> bytes:
    if len(head) < 28 or head[:4] != b"OggS":
        return b""
    start = 27 + head[26]
    packet = head[start : start + 8]
    if packet[:7] == b"\x01vorbis":
        return b"vorbis"
    return b"opus" if packet == b"OpusHead" else b""


class VorbisCommentCarrier:
    """One carrier per container (see the module docstring)."""

    media_type = "audio"
    can_write = True

    def __init__(
        self, name: str, mime: str, extensions: tuple[str, ...], kind: type[FileType], where: str
    ) -> None:
        self.name, self.mime, self.extensions = name, mime, extensions
        self._kind, self._where = kind, where
        self.label_places = (f"{where} AIGC", f"{where} other comment with AIGC JSON")

    def accept(self, head: bytes) -> bool:
        if self.name == "flac":
            return head[:4] == b"fLaC"
        return _ogg_codec(head) == {"ogg": b"vorbis", "opus": b"opus"}[self.name]

    def _open(self, data: bytes) -> tuple[FileType, io.BytesIO]:
        if not (self.accept(data[:64]) or (self.name == "flac" and id3_prefix(data))):
            if len(data) < 64 and data[:4] in (b"fLaC", b"OggS"):
                raise CorruptContainer(f"{self.name.upper()} truncated: {len(data)} bytes")
            raise UnsupportedFormat(f"not a {self.name.upper()} file")
        buf = io.BytesIO(data)
        try:
            return self._kind(buf), buf
        except _MUTAGEN_ERRORS as exc:
            raise CorruptContainer(f"{self.name.upper()} does not parse ({exc})") from None

    def _comments(self, data: bytes) -> list[tuple[str, str]]:
        audio, _ = self._open(data)
        return list(audio.tags or [])

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        """The ``AIGC`` comment(s) and label-like copies, in comment order."""
        found = []
        for i, (key, value) in enumerate(self._comments(data)):
            kind = _label_kind(key, value)
            if kind:
                found.append(
                    found_from_value(
                        value,
                        carrier="vorbis-comment",
                        location=f"{self._where}[{i}]",
                        key=key,
                        form="text",
                        normative=kind == "primary",
                    )
                )
        return found

    @guarded
    def read_xmp(self, data: bytes) -> bytes | None:
        """None: these formats have no XMP place (the data is still checked)."""
        self._open(data)
        return None

    @guarded
    def read_extras(self, data: bytes) -> dict[str, str]:
        """``AIGCTAG_<Name>`` comments as {Name: value}."""
        return {k[len(EXTRA_PREFIX) :]: v for k, v in self._comments(data) if _is_extra(k)}

    @guarded
    def has_c2pa(self, data: bytes) -> bool:
        self._open(data)
        # c2pa-rs stores a FLAC manifest in an ID3v2 tag (GEOB application/c2pa) before fLaC.
        end = id3_prefix(data) if self.name == "flac" else 0
        return bool(end) and id3.CARRIER.has_c2pa(data[:end])

    @guarded
    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """One ``AIGC`` comment; label copies dropped; extras as ``AIGCTAG_`` comments."""
        audio, buf = self._open(data)
        if audio.tags is None:
            audio.add_tags()
        extra = extra_xmp or {}
        replaced = {name.upper() for name in extra}
        pairs: list[tuple[str, str]] = []
        placed = False
        for key, value in audio.tags:
            if _label_kind(key, value):
                if not placed:
                    pairs.append((LABEL_KEY, label_json))
                    placed = True
            elif not (_is_extra(key) and key[len(EXTRA_PREFIX) :].upper() in replaced):
                pairs.append((key, value))
        if not placed:
            pairs.append((LABEL_KEY, label_json))
        pairs += [(EXTRA_PREFIX + name, value) for name, value in extra.items()]
        audio.tags.clear()
        audio.tags.extend(pairs)
        try:
            buf.seek(0)
            audio.save(buf)
        except _MUTAGEN_ERRORS as exc:
            raise CorruptContainer(f"{self.name.upper()} cannot be written ({exc})") from None
        return buf.getvalue()

    def reencode(self, data: bytes, draw: Callable) -> bytes:
        raise UnsupportedFormat(f"{self.name.upper()} has no pixels to re-encode")


FLAC_CARRIER = register(
    VorbisCommentCarrier("flac", "audio/flac", (".flac",), FLAC, "VORBIS_COMMENT")
)
OGG_CARRIER = register(
    VorbisCommentCarrier("ogg", "audio/ogg", (".ogg", ".oga"), OggVorbis, "VorbisComment")
)
OPUS_CARRIER = register(VorbisCommentCarrier("opus", "audio/opus", (".opus",), OggOpus, "OpusTags"))
