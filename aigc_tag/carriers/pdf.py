"""PDF: the label in the document Info dictionary, key ``/AIGC`` (TC260-PG-20258A §6.3).

The value is a PDF text string holding the JSON (PDFDocEncoding when it can be, else UTF-16BE
with a BOM, as pikepdf encodes ``str``). GB 45438 wants one label per file, so the Info entry is
the only copy: a ``TC260:AIGC`` property in the XMP metadata stream is removed, as are other Info
keys whose name contains ``AIGC``. aigc-tag's own properties go into the XMP packet
(:func:`aigc_tag.xmp.merge_extras`, ``aigctag:*``) when the document has one, else into Info
keys ``/aigctag:<Name>``.

Saving. ``write_label`` appends an *incremental update* (a new Info object, the rewritten XMP
stream if it changed, and an xref table or xref stream matching the file's last one) when the
document is signed (``/ByteRange`` signature or ``/Perms``) or carries a C2PA manifest, so the
signed bytes stay as they were. Otherwise it saves with pikepdf (object streams preserved, no
stream recompression, XMP untouched), which drops earlier revisions and with them any older
label copy. The output is reopened and must hold exactly one label.

Refused: encrypted documents (UnsupportedFormat; a password cannot be asked for, and saving
would change the encryption), damaged files that qpdf had to reconstruct (CorruptContainer, on
write; reading is lenient), files over :data:`MAX_BYTES`.

Decompression bombs. qpdf inflates a stream whole when it is read, an object stream too, so the
module sets qpdf's per-stream decode limits (:data:`MAX_STREAM_BYTES`, unless the embedding
program set its own) and turns "memory limit exceeded" into :class:`LimitExceeded`. A Flate XMP
packet is inflated here with a running limit (:func:`_xmp_stream_bytes`) and refused as soon as
it passes :data:`aigc_tag.xmp.MAX_XMP_BYTES`.

C2PA in PDF: an embedded file / associated file whose ``/AFRelationship`` is ``/C2PA_Manifest``
(or whose stream ``/Subtype`` is ``application/c2pa``), in ``/Root /AF`` or the EmbeddedFiles
name tree.

Explicit label (``add_visible``): the text is rendered with the bundled CJK font into a grey-on-
white image and placed as an image XObject ``/AigcTagLabel`` at the bottom of page 1 (prefix)
and/or the last page (suffix); the XObject dictionary carries ``/AigcTagText`` (the label text,
a text string) so :meth:`PdfCarrier.read_visible` and verify can find it without OCR. This is
a full pikepdf save.
"""

from __future__ import annotations

import functools
import io
import re
import zlib
from collections.abc import Callable
from typing import TypeVar

import pikepdf
from PIL import Image, ImageDraw

from .. import xmp as xmp_mod
from ..errors import AigcTagError, CorruptContainer, InvalidLabel, LimitExceeded, UnsupportedFormat
from ..visible.wording import resolve_text
from . import Found, found_from_value, found_in_xmp, guarded, register

__all__ = ["CARRIER", "PdfCarrier"]

MAX_BYTES = 512 * 1024 * 1024
#: Largest decoded size of any one stream qpdf may produce (Flate, RunLength, predictors).
MAX_STREAM_BYTES = 256 * 1024 * 1024
_QPDF_LIMITS = ("flate_max_memory", "run_length_max_memory", "png_max_memory", "tiff_max_memory")
_OVER_LIMIT = "memory limit exceeded"
LABEL_KEY = "/AIGC"
EXTRA_PREFIX = "/aigctag:"
STAMP_NAME = "/AigcTagLabel"
STAMP_TEXT_KEY = "/AigcTagText"
_M = TypeVar("_M", bound=Callable)
_DAMAGED = ("file is damaged", "reconstruct", "can't find startxref")


def _apply_qpdf_limits() -> None:
    """Bound what qpdf decodes per stream; process-wide, so a limit already set is kept."""
    try:
        from pikepdf import settings

        current = settings.get_qpdf_limits()
    except (ImportError, AttributeError):  # pikepdf < 10.1: the XMP bound below still holds
        return
    unset = {name: MAX_STREAM_BYTES for name in _QPDF_LIMITS if not current.get(name)}
    settings.set_qpdf_limits(**unset)


_apply_qpdf_limits()


def _too_large(what: str, limit: int) -> LimitExceeded:
    return LimitExceeded(f"too large to process: {what} inflates past {limit >> 20} MiB")


def _check_limits(pdf: pikepdf.Pdf) -> None:
    """qpdf only warns when an object stream passes its decode limit (the objects in it then
    look absent): a read that met one is refused, never reported as "no label"."""
    for warning in pdf.get_warnings():
        if _OVER_LIMIT in warning:
            where = re.search(r"object (\d+) 0", warning)
            what = f"PDF stream object {where.group(1)}" if where else "a PDF stream"
            raise _too_large(what, MAX_STREAM_BYTES)


def _open(data: bytes) -> pikepdf.Pdf:
    if len(data) > MAX_BYTES:
        raise LimitExceeded(f"PDF of {len(data)} bytes exceeds {MAX_BYTES}")
    if b"%PDF-" not in data[:1024]:
        raise UnsupportedFormat("not a PDF file (no %PDF- header in the first 1024 bytes)")
    try:
        return pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        raise UnsupportedFormat(
            "PDF is encrypted with a user password; decrypt it (qpdf --decrypt) before tagging"
        ) from None
    except pikepdf.PdfError as exc:
        raise CorruptContainer(f"PDF cannot be parsed: {_short(exc)}") from None
    except (RuntimeError, ValueError, OverflowError) as exc:
        raise CorruptContainer(f"PDF cannot be parsed: {_short(exc)}") from None


def _short(exc: object) -> str:
    return re.sub(r"^stream <[^>]*>: |^<[^>]*>: ", "", str(exc))[:200]


def _for_writing(pdf: pikepdf.Pdf) -> None:
    if pdf.is_encrypted:
        raise UnsupportedFormat(
            "PDF is encrypted (owner password or permissions); decrypt it (qpdf --decrypt) "
            "before tagging: saving would drop or change its encryption"
        )
    damaged = [w for w in pdf.get_warnings() if any(d in w for d in _DAMAGED)]
    if damaged:
        raise CorruptContainer(
            f"PDF is damaged (truncated or broken cross-reference table): {_short(damaged[0])}; "
            "nothing written"
        )


def _text(obj: object) -> str:
    """A PDF text string (PDFDocEncoding or UTF-16 with BOM) as str; other objects as written."""
    return str(obj)


def _pdf_errors(method: _M) -> _M:
    """qpdf reports problems found while walking objects lazily; make them CorruptContainer."""

    @functools.wraps(method)
    def wrapper(*args: object, **kwargs: object) -> object:
        try:
            return method(*args, **kwargs)
        except AigcTagError:
            raise
        except pikepdf.PdfError as exc:
            raise CorruptContainer(f"PDF object structure is broken: {_short(exc)}") from None
        except (RuntimeError, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise CorruptContainer(f"PDF structure is not as expected: {_short(exc)}") from None

    return wrapper  # type: ignore[return-value]


def _info(pdf: pikepdf.Pdf) -> pikepdf.Dictionary | None:
    info = pdf.trailer.get("/Info")
    return info if isinstance(info, pikepdf.Dictionary) else None


def _is_label_key(key: str) -> bool:
    return "AIGC" in key.upper() and not key.lower().startswith(EXTRA_PREFIX)


def _xmp_stream_bytes(meta: pikepdf.Stream) -> bytes:
    """The decoded XMP stream, never more than MAX_XMP_BYTES + 1 bytes of it held: plain Flate
    (the usual filter) and unfiltered streams are read here with a running limit; other chains
    are qpdf's, bounded by MAX_STREAM_BYTES."""
    limit = xmp_mod.MAX_XMP_BYTES
    filters = meta.get("/Filter")
    if filters is None:
        return meta.read_raw_bytes()
    if filters != pikepdf.Name.FlateDecode or "/DecodeParms" in meta:
        try:
            return meta.read_bytes()
        except pikepdf.PdfError as exc:
            if _OVER_LIMIT in str(exc):
                raise _too_large("the PDF XMP metadata stream", MAX_STREAM_BYTES) from None
            raise
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(meta.read_raw_bytes(), limit + 1)
    except zlib.error as exc:
        raise CorruptContainer(f"PDF XMP metadata stream does not inflate: {exc}") from None
    if len(out) > limit:
        raise _too_large("the PDF XMP metadata stream", limit)
    if not inflater.eof:  # qpdf too hands back what inflated before a cut, without an error
        raise CorruptContainer("PDF XMP metadata stream is truncated (the Flate data does not end)")
    return out


def _xmp(pdf: pikepdf.Pdf) -> bytes | None:
    meta = pdf.Root.get("/Metadata")
    if not isinstance(meta, pikepdf.Stream):
        return None
    try:
        raw = _xmp_stream_bytes(meta)
    except pikepdf.PdfError as exc:
        raise CorruptContainer(f"PDF XMP metadata stream does not decode: {_short(exc)}") from None
    if len(raw) > xmp_mod.MAX_XMP_BYTES:
        raise LimitExceeded(f"PDF XMP packet of {len(raw)} bytes is too large")
    return raw


def _c2pa(pdf: pikepdf.Pdf) -> bool:
    def is_manifest(spec: object) -> bool:
        if not isinstance(spec, pikepdf.Dictionary):
            return False
        if str(spec.get("/AFRelationship", "")) == "/C2PA_Manifest":
            return True
        ef = spec.get("/EF")
        stream = ef.get("/F") if isinstance(ef, pikepdf.Dictionary) else None
        subtype = str(stream.get("/Subtype", "")) if isinstance(stream, pikepdf.Stream) else ""
        return subtype.lower() in ("/application#2fc2pa", "/application/c2pa")

    af = pdf.Root.get("/AF")
    if isinstance(af, pikepdf.Array) and any(is_manifest(s) for s in af):
        return True
    names = pdf.Root.get("/Names")
    tree = names.get("/EmbeddedFiles") if isinstance(names, pikepdf.Dictionary) else None
    if isinstance(tree, pikepdf.Dictionary):
        try:
            return any(is_manifest(spec) for _, spec in pikepdf.NameTree(tree).items())
        except (pikepdf.PdfError, ValueError, TypeError):
            return False
    return False


def _signed(pdf: pikepdf.Pdf, data: bytes) -> bool:
    if "/Perms" in pdf.Root:
        return True
    form = pdf.Root.get("/AcroForm")
    if isinstance(form, pikepdf.Dictionary) and int(form.get("/SigFlags", 0)) & 1:
        return True
    return b"/ByteRange" in data and b"/Sig" in data


class PdfCarrier:
    """The PDF carrier (see the module docstring)."""

    name = "pdf"
    media_type = "text"
    mime = "application/pdf"
    extensions = (".pdf",)
    can_write = True
    label_places = ("Info /AIGC", "Info key containing AIGC", "XMP TC260:AIGC")

    def accept(self, head: bytes) -> bool:
        return head.lstrip(b"\xef\xbb\xbf\r\n\t ").startswith(b"%PDF-")

    @guarded
    @_pdf_errors
    def read_labels(self, data: bytes) -> list[Found]:
        with _open(data) as pdf:
            found = []
            info = _info(pdf)
            if info is not None:
                for key, value in info.items():
                    if _is_label_key(key):
                        found.append(
                            found_from_value(
                                _text(value),
                                carrier="pdf-info",
                                location="Info",
                                key=key.lstrip("/"),
                                form="text",
                                normative=key == LABEL_KEY,
                            )
                        )
            xmp = _xmp(pdf)
            if xmp:
                found += found_in_xmp(xmp, location="Metadata/XMP", normative=False)
            _check_limits(pdf)
            return found

    @guarded
    @_pdf_errors
    def read_xmp(self, data: bytes) -> bytes | None:
        with _open(data) as pdf:
            return _xmp(pdf)

    @guarded
    @_pdf_errors
    def read_extras(self, data: bytes) -> dict[str, str]:
        """``aigctag:*`` from the XMP packet, else ``/aigctag:*`` Info keys."""
        with _open(data) as pdf:
            xmp = _xmp(pdf)
            extras = xmp_mod.aigctag_properties(xmp) if xmp else {}
            info = _info(pdf)
            if info is not None:
                for key, value in info.items():
                    if key.lower().startswith(EXTRA_PREFIX):
                        extras.setdefault(key[len(EXTRA_PREFIX) :], _text(value))
            _check_limits(pdf)
            return extras

    @guarded
    @_pdf_errors
    def has_c2pa(self, data: bytes) -> bool:
        with _open(data) as pdf:
            found = _c2pa(pdf)
            _check_limits(pdf)
            return found

    @guarded
    @_pdf_errors
    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """Info ``/AIGC`` and nothing else labelled; see the module docstring."""
        extras = dict(extra_xmp or {})
        with _open(data) as pdf:
            _for_writing(pdf)
            old_info = _info(pdf)
            items = dict(old_info.items()) if old_info is not None else {}
            items = {k: v for k, v in items.items() if not _is_label_key(k)}
            items[LABEL_KEY] = pikepdf.String(label_json)
            xmp = _xmp(pdf)
            _check_limits(pdf)
            new_xmp = None
            if xmp is not None:
                packet = xmp
                if xmp_mod.find_label_properties(packet):
                    packet = xmp_mod.remove_label(packet)
                if extras:
                    packet = xmp_mod.merge_extras(packet, extras)
                new_xmp = packet if packet != xmp else None
            else:
                for key, value in extras.items():
                    items[EXTRA_PREFIX + key] = pikepdf.String(value)
            if _signed(pdf, data) or _c2pa(pdf):
                out = _incremental(pdf, data, items, new_xmp)
            else:
                out = _full_save(pdf, items, new_xmp)
        labels = self.read_labels(out)
        if [f.key for f in labels] != ["AIGC"]:
            raise CorruptContainer("PDF: the label did not read back exactly once after writing")
        return out

    @guarded
    @_pdf_errors
    def add_visible(self, data: bytes, text: str, where: str = "suffix") -> bytes:
        """Stamp the label image at the bottom of page 1 (prefix) and/or the last page."""
        if where not in ("prefix", "suffix", "both"):
            raise InvalidLabel(f"where must be prefix, suffix or both, got {where!r}")
        label = resolve_text(text)
        with _open(data) as pdf:
            _for_writing(pdf)
            if not len(pdf.pages):
                raise CorruptContainer("PDF has no pages to stamp a visible label on")
            targets = []
            if where in ("prefix", "both"):
                targets.append(0)
            if where in ("suffix", "both"):
                targets.append(len(pdf.pages) - 1)
            image = _stamp_image(pdf, label)
            for index in sorted(set(targets)):
                page = pdf.pages[index]
                if _stamp_texts(page) == [label]:
                    continue
                _stamp(pdf, page, image)
            buf = io.BytesIO()
            pdf.save(buf, fix_metadata_version=False, recompress_flate=False)
            _check_limits(pdf)  # an object stream qpdf could not inflate would be dropped
            return buf.getvalue()

    @guarded
    @_pdf_errors
    def read_visible(self, data: bytes) -> str:
        """The stamped label texts of the first and last page (no OCR, no text extraction)."""
        with _open(data) as pdf:
            if not len(pdf.pages):
                return ""
            first = _stamp_texts(pdf.pages[0])
            last = _stamp_texts(pdf.pages[-1]) if len(pdf.pages) > 1 else []
            return "\n".join(first + last)

    def reencode(self, data: bytes, draw: Callable) -> bytes:
        raise UnsupportedFormat("PDF pages are not re-encoded; use add_visible for a stamp")


# --- saving --------------------------------------------------------------------------------


def _full_save(pdf: pikepdf.Pdf, items: dict, new_xmp: bytes | None) -> bytes:
    info = pdf.make_indirect(pikepdf.Dictionary(items))
    pdf.trailer.Info = info
    if new_xmp is not None:
        pdf.Root.Metadata.write(new_xmp)
    buf = io.BytesIO()
    pdf.save(
        buf,
        fix_metadata_version=False,
        recompress_flate=False,
        object_stream_mode=pikepdf.ObjectStreamMode.preserve,
    )
    return buf.getvalue()


def _last_startxref(data: bytes) -> int:
    tail = data[-2048:]
    m = list(re.finditer(rb"startxref\s+(\d+)", tail))
    if not m:
        raise CorruptContainer("PDF has no startxref near its end")
    offset = int(m[-1].group(1))
    if offset >= len(data):
        raise CorruptContainer("PDF startxref points past the end of the file")
    return offset


def _incremental(pdf: pikepdf.Pdf, data: bytes, items: dict, new_xmp: bytes | None) -> bytes:
    """Append an update section: new Info (and XMP) objects, an xref section, a trailer."""
    prev = _last_startxref(data)
    size = int(pdf.trailer.get("/Size", 0))
    out = bytearray(data)
    if not out.endswith(b"\n"):
        out += b"\n"
    offsets: dict[int, tuple[int, int]] = {}  # objnum -> (offset, generation)
    old_info = pdf.trailer.get("/Info")
    if old_info is not None and old_info.is_indirect:
        info_num, info_gen = old_info.objgen
    else:
        info_num, info_gen, size = size, 0, size + 1
    offsets[info_num] = (len(out), info_gen)
    body = pikepdf.Dictionary(items).unparse()
    out += b"%d %d obj\n" % (info_num, info_gen) + body + b"\nendobj\n"
    if new_xmp is not None:
        meta = pdf.Root.Metadata
        if not meta.is_indirect:
            raise UnsupportedFormat("PDF XMP stream is a direct object; cannot update it in place")
        num, gen = meta.objgen
        offsets[num] = (len(out), gen)
        head = pikepdf.Dictionary(Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML)
        head.Length = len(new_xmp)
        out += b"%d %d obj\n" % (num, gen) + head.unparse() + b"\nstream\n"
        out += new_xmp + b"\nendstream\nendobj\n"
    root_ref = b"%d %d R" % pdf.Root.objgen
    info_ref = b"%d %d R" % (info_num, info_gen)
    ident = pdf.trailer.get("/ID")
    id_bytes = b" /ID " + ident.unparse() if isinstance(ident, pikepdf.Array) else b""
    if data[prev : prev + 4] == b"xref":
        xref_at = len(out)
        out += b"xref\n"
        for num in sorted(offsets):
            off, gen = offsets[num]
            out += b"%d 1\n%010d %05d n\r\n" % (num, off, gen)
        out += b"trailer\n<< /Size %d /Root %s /Info %s /Prev %d%s >>\n" % (
            max(size, max(offsets) + 1),
            root_ref,
            info_ref,
            prev,
            id_bytes,
        )
    else:  # the file ends with a cross-reference stream: append one too
        xref_num = max(size, max(offsets) + 1)
        xref_at = len(out)
        offsets[xref_num] = (xref_at, 0)
        rows = b"".join(
            b"\x01" + offsets[n][0].to_bytes(4, "big") + offsets[n][1].to_bytes(2, "big")
            for n in sorted(offsets)
        )
        index = b" ".join(b"%d 1" % n for n in sorted(offsets))
        packed = zlib.compress(rows)
        out += (
            b"%d 0 obj\n<< /Type /XRef /Size %d /Index [%s] /W [1 4 2] /Root %s /Info %s "
            b"/Prev %d%s /Filter /FlateDecode /Length %d >>\nstream\n"
            % (xref_num, xref_num + 1, index, root_ref, info_ref, prev, id_bytes, len(packed))
        )
        out += packed + b"\nendstream\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


# --- visible stamp -------------------------------------------------------------------------


def _stamp_image(pdf: pikepdf.Pdf, label: str) -> pikepdf.Stream:
    from ..visible.caption import load_font

    font = load_font(48)
    x0, y0, x1, y1 = font.getbbox(label)
    pad = 12
    im = Image.new("L", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), 255)
    ImageDraw.Draw(im).text((pad - x0, pad - y0), label, font=font, fill=40)
    stream = pikepdf.Stream(pdf, zlib.compress(im.tobytes()))
    stream.Type = pikepdf.Name.XObject
    stream.Subtype = pikepdf.Name.Image
    stream.Width, stream.Height = im.size
    stream.ColorSpace = pikepdf.Name.DeviceGray
    stream.BitsPerComponent = 8
    stream.Filter = pikepdf.Name.FlateDecode
    stream[STAMP_TEXT_KEY] = pikepdf.String(label)
    return pdf.make_indirect(stream)


def _stamp(pdf: pikepdf.Pdf, page: pikepdf.Page, image: pikepdf.Stream) -> None:
    box = [float(v) for v in page.obj.get("/CropBox", page.mediabox)]
    left, bottom, right, top = (
        min(box[0], box[2]),
        min(box[1], box[3]),
        max(box[0], box[2]),
        max(box[1], box[3]),
    )
    width, height = int(image.Width), int(image.Height)
    h = max(10.0, min(18.0, (top - bottom) * 0.03))
    w = h * width / height
    if w > (right - left) * 0.9:
        w = (right - left) * 0.9
        h = w * height / width
    x = left + (right - left - w) / 2
    y = bottom + h * 0.4
    resources = page.obj.get("/Resources")
    if not isinstance(resources, pikepdf.Dictionary):
        page.obj.Resources = resources = pikepdf.Dictionary()
    xobjects = resources.get("/XObject")
    if not isinstance(xobjects, pikepdf.Dictionary):
        resources.XObject = xobjects = pikepdf.Dictionary()
    name = STAMP_NAME
    n = 1
    while name in xobjects:
        n += 1
        name = f"{STAMP_NAME}{n}"
    xobjects[name] = image
    page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
    draw = b"\nQ q %.3f 0 0 %.3f %.3f %.3f cm %s Do Q\n" % (w, h, x, y, name.encode())
    page.contents_add(pikepdf.Stream(pdf, draw), prepend=False)


def _stamp_texts(page: pikepdf.Page) -> list[str]:
    resources = page.obj.get("/Resources")
    xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
    if not isinstance(xobjects, pikepdf.Dictionary):
        return []
    texts = []
    for key, obj in xobjects.items():
        if key.startswith(STAMP_NAME) and isinstance(obj, pikepdf.Stream):
            value = obj.get(STAMP_TEXT_KEY)
            if value is not None:
                texts.append(_text(value))
    return texts


CARRIER = register(PdfCarrier())
