"""Read an explicit label drawn by anyone: offline OCR of the pixels.

aigc-tag's own captions are checked against their declaration (visible/inspect.py); a caption
another tool drew ("AI生成" in its own font, colour and corner) can only be *read*. The engine is
RapidOCR (``rapidocr-onnxruntime``, the ``ocr`` extra): its wheel ships the PP-OCRv4 Chinese and
English detection and recognition models, so nothing is downloaded, and it runs on ONNX Runtime
with no GPU. Tesseract 5 with Debian's chi_sim (a system package) was tried on the same corpus
(benchmarks/ocr.py): it found 14 of 60 labels of >= 5 % glyph height at ~0.8 s per picture,
where PP-OCR, trained on scene text, finds 99 % in ~0.07 s.

How a picture is read (cost matters: this runs on every verified image):

1. The picture is downscaled so its shortest side is :data:`WORK_SIDE` px. GB 45438 §5.2 wants
   glyphs >= 5 % of the shortest side, i.e. >= 16 px there, which the detector finds reliably.
2. Text boxes are detected once on that working picture; the boxes in the edge and corner bands
   (where §5.2 puts the label) are recognised first, the rest of the picture only when no label
   is found there. Recognition works on crops of the full-resolution picture.
3. Neighbouring boxes on one line are joined (the detector may split "AI" from "生成") and the
   wording rule of :mod:`aigc_tag.visible.wording` decides: both the AI and the generation
   element, no negation. OCR-only tolerances (lower-case "ai", "A.I.", "Al" for "AI" in sans
   fonts, English "generated", "生成器" being a tool, not a label) are mapped onto that rule,
   never a second copy of it. An unsure reading that holds part of a label ("A合成") is read
   once more with other crop margins.
4. For the label found, the glyph height is measured on the ink inside its box (not the box),
   and the contrast is the WCAG ratio of glyph against surround.
"""

from __future__ import annotations

import importlib
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .caption import contrast_ratio
from .wording import wording_problem

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "ENGINE_MODULE",
    "NOT_AVAILABLE",
    "OcrLabel",
    "contrast_ratio",
    "find_label",
    "is_label_text",
    "label_over_time",
    "position_of",
]

#: The OCR package (the ``ocr`` extra); a parameter of :func:`find_label` so its absence can be
#: exercised without uninstalling it.
ENGINE_MODULE = "rapidocr_onnxruntime"
NOT_AVAILABLE = "OCR not available: install aigc-tag[ocr]"
#: Shortest side of the working picture the detector sees (5 % glyphs are 16 px there).
WORK_SIDE = 320
#: Longest side cap of the working picture (panoramas): detector cost grows with the area.
MAX_WORK_LONG = 960
#: Edge band (fraction of each side) searched first; X-I2 uses the same band.
EDGE_BAND = 0.15
#: Boxes lower than this fraction of the shortest side are not read (glyphs < ~1.5 %).
MIN_BOX_RATIO = 0.02
#: At most this many text boxes are recognised per picture (cost bound on busy pictures).
MAX_BOXES = 18
#: A box longer than this many of its heights is not read (a caption is shorter).
MAX_ASPECT = 40
#: At most this many box heights of text are read per picture (sum of the boxes' aspects).
READ_BUDGET = 120
#: Recognition batch; after each batch the search stops if a label was found.
BATCH = 6
#: Recognition scores below this are not trusted as text.
MIN_SCORE = 0.5
#: ``all_text`` keeps at most this many other lines, each cut to MAX_LINE characters.
MAX_ALL_TEXT = 20
MAX_LINE = 64

_ENGINES: dict[str, Any] = {}
_LOCK = threading.Lock()


@dataclass
class OcrLabel:
    """The explicit label OCR found (or did not) in one picture; boxes in display pixels."""

    found: bool = False
    text: str | None = None
    box: tuple[int, int, int, int] | None = None
    position: str | None = None
    glyph_height_px: int | None = None
    glyph_height_ratio: float | None = None
    contrast: float | None = None
    confidence: float | None = None
    all_text: list[str] = field(default_factory=list)
    image_size: tuple[int, int] | None = None
    error: str | None = None

    def to_json(self) -> dict:
        """The report's ``visible_label`` object for an OCR reading (docs/report-schema.md)."""
        return {
            "found": self.found,
            "source": "ocr",
            "text": self.text,
            "box": list(self.box) if self.box else None,
            "position": self.position,
            "glyph_height_px": self.glyph_height_px,
            "glyph_height_ratio": _round(self.glyph_height_ratio, 4),
            "contrast": _round(self.contrast, 2),
            "confidence": _round(self.confidence, 3),
            "all_text": list(self.all_text),
            "image_size": list(self.image_size) if self.image_size else None,
            "error": self.error,
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


# --------------------------------------------------------------------------- wording

_AI_LOOSE = re.compile(r"(?<![A-Za-z])(?:a\.\s?i\.?|ai)(?![A-Za-z])", re.I)
# In sans-serif fonts capital I and lower-case l are the same glyph: OCR reads "AI" as "Al"
# (or "A1", "A|"), and may drop the hyphen of "AI-generated".
_AI_CONFUSED = re.compile(r"(?<![A-Za-z])A[l1|](?![A-Za-z])")
_AI_GLUED = re.compile(r"(?<![A-Za-z])A[Il1|](?=generated|synthe)", re.I)
_GEN_EN = re.compile(r"(?<![A-Za-z])(?:generated|synthesi[sz]ed|synthetic)(?![A-Za-z])", re.I)
# A tool's name ("AI生成器", "合成器") or the adjective "generative" ("生成式AI"): the words are
# there, the statement that this content was generated is not.
_TOOL = re.compile(r"(?:生成|合成)(?:器|工具|软件|平台|模型|引擎|式)")


def _canonical(text: str) -> str:
    """OCR text mapped onto the wording rule's vocabulary (see the module docstring)."""
    norm = unicodedata.normalize("NFKC", text).strip()
    norm = _TOOL.sub("□", norm)
    norm = _AI_GLUED.sub("AI-", _AI_CONFUSED.sub("AI", norm))
    norm = _AI_LOOSE.sub("AI", norm)
    return _GEN_EN.sub("生成", norm)


def is_label_text(text: str) -> bool:
    """True when OCR text states the GB 45438 explicit label (AI and generation elements).

    >>> [is_label_text(t) for t in ("AI生成", "由A.I.合成", "Al-generated", "AI生成器", "AI")]
    [True, True, True, False, False]
    """
    return bool(text.strip()) and wording_problem(_canonical(text)) is None


# --------------------------------------------------------------------------- engine


class _Engine:
    """RapidOCR's detector and recogniser, one intra-op thread each (a ``-j N`` batch runs N
    processes; more threads per process would only oversubscribe the cores)."""

    def __init__(self, module: str) -> None:
        rapid = importlib.import_module(module)
        ocr = rapid.RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)
        self.det, self.rec = ocr.text_det, ocr.text_rec
        # The working picture is already small: let the detector keep it (multiple of 32).
        self.det.limit_type, self.det.limit_side_len = "max", 4 * MAX_WORK_LONG
        # Crops of one batch are padded to the widest: on a CPU, one crop at a time is cheaper.
        self.rec.rec_batch_num = 1
        self.lock = threading.Lock()  # one inference at a time per process (web server threads)

    def detect(self, bgr: np.ndarray) -> np.ndarray:
        with self.lock:
            boxes, _ = self.det(bgr)
        return np.zeros((0, 4, 2), np.float32) if boxes is None or not len(boxes) else boxes

    def recognise(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        with self.lock:
            found, _ = self.rec(crops)
        return [(str(t), float(s)) for t, s, *_ in found]


def _engine(module: str) -> _Engine:
    """The process's engine for ``module`` (created once; raises ImportError when missing)."""
    with _LOCK:
        if module not in _ENGINES:
            try:
                _ENGINES[module] = _Engine(module)
            except ImportError:
                raise
            except Exception as exc:  # a broken install (models missing): say so, once
                raise ImportError(f"{module}: {exc}") from exc
        return _ENGINES[module]


# --------------------------------------------------------------------------- geometry


@dataclass
class _Box:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str = ""
    score: float = 0.0

    @property
    def h(self) -> float:
        return self.y1 - self.y0


def position_of(box: tuple[float, float, float, float], size: tuple[int, int]) -> str:
    """Where ``box`` sits: a corner, an edge (top, bottom, left, right) or "middle".

    A side counts when the box reaches into its :data:`EDGE_BAND`; of two opposite sides the
    nearer one, unless the box is centred between them (a wide caption along the top is "top").
    """
    x0, y0, x1, y1 = box
    w, h = size

    def side(lo: float, hi: float, extent: int, near_lo: str, near_hi: str) -> str | None:
        m_lo, m_hi = lo, extent - hi
        at_lo, at_hi = m_lo <= EDGE_BAND * extent, m_hi <= EDGE_BAND * extent
        if abs(m_lo - m_hi) <= 0.1 * extent:  # centred between the two sides
            return None if not (at_lo and at_hi) else "centred"
        if at_lo and m_lo < m_hi:
            return near_lo
        if at_hi and m_hi < m_lo:
            return near_hi
        return None

    vert = side(y0, y1, h, "top", "bottom")
    horiz = side(x0, x1, w, "left", "right")
    vert = None if vert == "centred" else vert
    horiz = None if horiz == "centred" else horiz
    if vert and horiz:
        return f"{vert}-{horiz}"
    return vert or horiz or "middle"


def _in_band(b: _Box, size: tuple[int, int]) -> bool:
    w, h = size
    return (b.x0 <= EDGE_BAND * w or b.y0 <= EDGE_BAND * h
            or b.x1 >= (1 - EDGE_BAND) * w or b.y1 >= (1 - EDGE_BAND) * h)  # fmt: skip


def _overlap(a: _Box, b: _Box) -> float:
    """Intersection area over the smaller box's area."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    smaller = min((a.x1 - a.x0) * a.h, (b.x1 - b.x0) * b.h)
    return max(0.0, w) * max(0.0, h) / smaller if smaller > 0 else 0.0


def _lines(boxes: list[_Box]) -> list[list[_Box]]:
    """Recognised boxes grouped into lines: vertical overlap >= half the lower box and a gap of
    at most 1.5 box heights (an OCR may split "AI" and "生成" into two boxes). A box mostly
    inside a larger one (the detector found a stroke twice) is dropped, not joined."""
    groups: list[list[_Box]] = []
    boxes = sorted(boxes, key=lambda b: -(b.x1 - b.x0) * b.h)
    boxes = [b for i, b in enumerate(boxes) if all(_overlap(b, a) < 0.6 for a in boxes[:i])]
    for b in sorted(boxes, key=lambda b: b.x0):
        for g in groups:
            last = g[-1]
            overlap = min(last.y1, b.y1) - max(last.y0, b.y0)
            near = b.x0 - last.x1 <= 1.5 * max(last.h, b.h)
            if overlap >= 0.5 * min(last.h, b.h) and near:
                g.append(b)
                break
        else:
            groups.append([b])
    return groups


def _join(parts: list[str]) -> str:
    """Texts of neighbouring boxes, left to right; a character both boxes read at their common
    edge (their padded crops overlap) is kept once."""
    out = ""
    for p in parts:
        p = p.strip()
        for k in (2, 1):
            if out and len(p) > k and out.endswith(p[:k]) and any(_cjk(c) for c in p[:k]):
                p = p[k:]
                break
        if out and p and not (_cjk(out[-1]) or _cjk(p[0])):
            out += " "
        out += p
    return out


def _cjk(ch: str) -> bool:
    return "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"


def _union(group: list[_Box]) -> tuple[int, int, int, int]:
    x1, y1 = max(b.x1 for b in group), max(b.y1 for b in group)
    return (int(min(b.x0 for b in group)), int(min(b.y0 for b in group)),
            int(np.ceil(x1)), int(np.ceil(y1)))  # fmt: skip


# --------------------------------------------------------------------------- the search


def find_label(image: Image.Image | np.ndarray, *, module: str = ENGINE_MODULE) -> OcrLabel:
    """Search a display-oriented picture (PIL image or H x W x 3 RGB array) for an explicit label.

    Never raises for a missing engine: the result carries ``error`` (:data:`NOT_AVAILABLE`).
    ``module`` names the OCR package (tests pass a missing one to see that message).
    """
    pic = _Picture(image)
    out = OcrLabel(image_size=pic.size)
    try:
        engine = _engine(module)
    except ImportError:
        out.error = NOT_AVAILABLE
        return out
    try:
        _search(engine, pic, out)
    except Exception as exc:  # the engine is third-party native code: never crash a verify
        out.found, out.error = False, f"OCR failed: {type(exc).__name__}: {exc}"
    return out


def _search(engine: _Engine, pic: _Picture, out: OcrLabel) -> None:
    """Detect, recognise band boxes first batch by batch, stop at the first label; fill out."""
    read: list[_Box] = []
    for batch in _batches(_detect(engine, pic), pic.size):
        texts = engine.recognise([_crop(pic, b) for b in batch])
        for b, (text, score) in zip(batch, texts, strict=True):
            b.text, b.score = text, score
        read += [b for b in batch if b.score >= MIN_SCORE and b.text.strip()]
        hit = _best_line(read)
        if hit is not None:
            _describe(out, hit, pic)
            break
    else:
        hit = _second_look(engine, pic, read)
        if hit is not None:
            _describe(out, hit, pic)
    out.all_text = _other_text(read, out.text)


#: Readings that hold part of a label ("A合成", "由AI成", "AI哈成"): read again, cropped otherwise.
_PARTIAL = re.compile(r"AI|智能|人工|生成|合成|成|generat|synthe", re.I)
#: (horizontal, vertical) margins of the second look, in box heights.
_SECOND_CROPS = ((0.25, 0.25), (0.6, 0.2))
MAX_SECOND = 3
#: Only a reading the recogniser is unsure of is read again (a clear "生成器" stays what it is).
SURE = 0.95


def _second_look(engine: _Engine, pic: _Picture, read: list[_Box]) -> list[_Box] | None:
    """Recognition on a crop is sensitive to where the crop ends: an unsure reading that holds
    part of a label is read again with other margins (never reaching into the next box on its
    line), and counts if one reading states the label."""
    partial = [b for b in read if b.score < SURE and _PARTIAL.search(_canonical(b.text))]
    for b in sorted(partial, key=lambda b: -b.h)[:MAX_SECOND]:
        crops = [_crop(pic, b, margins, _room(b, read)) for margins in _SECOND_CROPS]
        for text, score in engine.recognise(crops):
            if score >= MIN_SCORE and is_label_text(text):
                b.text, b.score = text, score
                return [b]
    return None


class _Picture:
    """The picture, converted lazily: the detector needs a small copy, the recogniser and the
    ink measure only crops, so a 12-megapixel photo is never copied whole into an array."""

    def __init__(self, image: Image.Image | np.ndarray) -> None:
        self.array: np.ndarray | None = None
        self.image: Image.Image | None = None
        if isinstance(image, np.ndarray):
            rgb = image[:, :, :3] if image.ndim == 3 else np.dstack([image] * 3)
            self.array = np.ascontiguousarray(rgb)
            self.size = (rgb.shape[1], rgb.shape[0])
            return
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            from PIL import Image as PILImage

            rgba = image.convert("RGBA")
            base = PILImage.new("RGBA", rgba.size, (255, 255, 255, 255))  # as a viewer on white
            image = PILImage.alpha_composite(base, rgba)
        if image.mode not in ("RGB", "L"):
            image = image.convert("L" if image.mode == "1" else "RGB")
        self.image = image
        self.size = self.image.size

    def small(self, size: tuple[int, int]) -> np.ndarray:
        """The whole picture at ``size``, RGB."""
        if self.array is not None:
            import cv2

            return cv2.resize(self.array, size, interpolation=cv2.INTER_AREA)
        from PIL import Image as PILImage

        small = self.image.resize(size, PILImage.Resampling.BOX, reducing_gap=2.0)
        return np.asarray(small.convert("RGB"))

    def crop(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """Full-resolution pixels of ``box`` (clipped to the picture), RGB."""
        x0, y0, x1, y1 = box
        w, h = self.size
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        if self.array is not None:
            return self.array[y0:y1, x0:x1]
        return np.asarray(self.image.crop((x0, y0, x1, y1)).convert("RGB"))


def _detect(engine: _Engine, pic: _Picture) -> list[_Box]:
    """Text boxes of the working picture, in display pixels, larger ones first."""
    w, h = pic.size
    k = min(1.0, WORK_SIDE / min(h, w), MAX_WORK_LONG / max(h, w))
    small = pic.small((max(1, round(w * k)), max(1, round(h * k))))
    kx, ky = small.shape[1] / w, small.shape[0] / h
    quads = engine.detect(np.ascontiguousarray(small[:, :, ::-1]))
    boxes = []
    for q in quads:
        x0, y0 = q[:, 0].min() / kx, q[:, 1].min() / ky
        x1, y1 = q[:, 0].max() / kx, q[:, 1].max() / ky
        box = _Box(max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1))
        if box.h >= MIN_BOX_RATIO * min(h, w) and box.x1 > box.x0:
            boxes.append(box)
    return sorted(boxes, key=lambda b: -b.h * (b.x1 - b.x0))


def _batches(boxes: list[_Box], size: tuple[int, int]) -> list[list[_Box]]:
    """Boxes to recognise, edge and corner bands first, taller first, in batches of
    :data:`BATCH`. Recognition costs in proportion to a crop's width: a box longer than
    :data:`MAX_ASPECT` heights (no caption is) is not read, and reading stops after
    :data:`READ_BUDGET` heights of text in all (a page of small print)."""
    order = sorted(boxes, key=lambda b: (not _in_band(b, size), -b.h))
    kept, spent = [], 0.0
    for b in order:
        aspect = (b.x1 - b.x0) / b.h
        if aspect > MAX_ASPECT:
            continue
        if len(kept) >= MAX_BOXES or spent + aspect > READ_BUDGET:
            break
        kept.append(b)
        spent += aspect
    return [kept[i:i + BATCH] for i in range(0, len(kept), BATCH)]


def _room(b: _Box, others: list[_Box]) -> tuple[float, float]:
    """How far left and right a crop of ``b`` may reach: up to the next box on its line."""
    left, right = 0.0, float("inf")
    for o in others:
        if o is b or min(o.y1, b.y1) - max(o.y0, b.y0) < 0.5 * min(o.h, b.h):
            continue
        if o.x1 <= b.x0:
            left = max(left, o.x1)
        elif o.x0 >= b.x1:
            right = min(right, o.x0)
    return left, right


def _crop(
    pic: _Picture,
    b: _Box,
    margins: tuple[float, float] = (0.5, 0.08),
    room: tuple[float, float] = (0.0, float("inf")),
) -> np.ndarray:
    """The full-resolution crop of a box (BGR, as the recogniser wants), scaled to at most 64 px
    high (its input is 48 px high: larger crops only cost resizing time). ``margins`` widen the
    box (in box heights): the detector's box may clip a thin first stroke (人 of 人工智能);
    ``room`` bounds the crop left and right."""
    import cv2

    px, py = margins[0] * b.h, margins[1] * b.h
    x0, x1 = max(b.x0 - px, room[0]), min(b.x1 + px, room[1])
    crop = pic.crop((int(x0), int(b.y0 - py), int(np.ceil(x1)),
                     int(np.ceil(b.y1 + py))))[:, :, ::-1]  # fmt: skip
    if crop.shape[0] > 64:
        k = 64 / crop.shape[0]
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * k)), 64),
                          interpolation=cv2.INTER_AREA)  # fmt: skip
    return np.ascontiguousarray(crop)


def _best_line(read: list[_Box]) -> list[_Box] | None:
    """The box, or else the line of boxes, that states a label; the tallest if several do."""
    singles = [[b] for b in read if is_label_text(b.text)]
    if singles:  # one box states it: joining could only add a stroke read twice
        return max(singles, key=lambda g: g[0].h)
    joined = [g for g in _lines(read) if len(g) > 1 and is_label_text(_join([b.text for b in g]))]
    return max(joined, key=lambda g: max(b.h for b in g)) if joined else None


def _other_text(read: list[_Box], label: str | None) -> list[str]:
    texts = [_join([b.text for b in g]) for g in _lines(read)]
    return [t[:MAX_LINE] for t in texts if t and t != label][:MAX_ALL_TEXT]


def _describe(out: OcrLabel, group: list[_Box], pic: _Picture) -> None:
    w, h = pic.size
    out.found = True
    out.text = _join([b.text for b in group])
    out.box = _union(group)
    out.position = position_of(out.box, (w, h))
    out.confidence = float(np.mean([b.score for b in group]))
    ink, glyph, ground = _ink(pic, out.box, any(_cjk(c) for c in out.text))
    if ink:
        out.glyph_height_px = ink
        out.glyph_height_ratio = ink / min(h, w)
    if glyph is not None and ground is not None:
        out.contrast = contrast_ratio(glyph, ground)


# --------------------------------------------------------------------------- measuring ink


def _ink(
    pic: _Picture, box: tuple[int, int, int, int], hanzi: bool
) -> tuple[int | None, float | None, float | None]:
    """(glyph height px, glyph luma, surround luma) measured on the ink inside ``box``.

    Otsu splits the box into two tones. Either tone may be the glyphs (dark on light, light on
    dark, a plate behind them, an outline around them): the glyph tone is the one with more
    glyph-like connected components (inside the box, not touching its border, a fifth to all of
    the box height, not much wider than tall: specks, plates and bars drop out). With hanzi the
    height is the extent of those strokes (one hanzi is several strokes); Latin text takes its
    tallest letter; a descender does not count (as the caption renderer measures glyphs).
    The surround is the other tone inside the strokes' bounding box."""
    import cv2

    x0, y0, x1, y1 = box
    pad = max(2, (y1 - y0) // 8)
    crop = pic.crop((x0 - pad, y0 - pad, x1 + pad, y1 + pad))
    luma = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY)
    if luma.shape[0] < 4 or luma.shape[1] < 4:
        return None, None, None
    _, mask = cv2.threshold(luma, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    best: tuple[list, np.ndarray, np.ndarray] | None = None
    for tone in (mask == 1, mask == 0):
        comps, labels = _glyph_components(tone, y1 - y0)
        # Holes inside glyphs (口, 由) are glyph-like too, but short: weigh by height.
        if comps and (best is None or sum(c[3] for c in comps) > sum(c[3] for c in best[0])):
            best = (comps, labels, tone)
    if best is None:
        return None, None, None
    comps, labels, tone = best
    tallest = max(c[3] for c in comps)
    kept = [c for c in comps if c[3] >= tallest / 3]
    top, bottom = min(c[1] for c in kept), _bottom(kept, tallest)
    height = bottom - top if hanzi else tallest
    left, right = min(c[0] for c in kept), max(c[0] + c[2] for c in kept)
    strokes = np.isin(labels, [c[5] for c in kept])
    area = np.zeros_like(strokes)
    area[top:bottom, left:right] = True
    ground = area & ~tone
    if not ground.any():
        return int(height), None, None
    return int(height), float(np.median(luma[strokes])), float(np.median(luma[ground]))


def _bottom(comps: list[list[int]], tallest: int) -> int:
    """Lowest stroke end, not counting Latin descenders (g, p, y) below the common bottom line."""
    ends = sorted(c[1] + c[3] for c in comps)
    line = ends[len(ends) // 2]
    return max(e for e in ends if e <= line + 0.12 * tallest)


def _glyph_components(tone: np.ndarray, box_h: int) -> tuple[list[list[int]], np.ndarray]:
    """Glyph-like components of a binary mask: [x, y, w, h, area, label] each, and the labels."""
    import cv2

    _, labels, stats, _ = cv2.connectedComponentsWithStats(tone.astype(np.uint8), connectivity=8)
    gh, gw = tone.shape
    comps = []
    for i, (x, y, w, h, area) in enumerate(stats[1:], start=1):
        inside = x > 0 and y > 0 and x + w < gw and y + h < gh
        if inside and area >= 4 and 0.2 * box_h <= h <= box_h and w <= 2 * h:
            comps.append([int(x), int(y), int(w), int(h), int(area), i])
    return comps, labels


# --------------------------------------------------------------------------- video


def label_over_time(
    samples: list[tuple[float, np.ndarray]], *, frame_step: float, module: str = ENGINE_MODULE
) -> dict:
    """OCR of a video's opening frames: the ``visible_label`` object of a video.

    ``samples`` are (presentation time from the first frame, RGB frame) in time order;
    ``frame_step`` is one frame's duration. The label's geometry is that of the first frame it
    is found on; ``duration_s`` is how long it stays from the start: the time of the last frame
    of the unbroken run of sampled frames that carry it, plus one frame (a lower bound: frames
    between samples are not read). ``frames`` lists each sample's time and finding."""
    results: list[OcrLabel] = []
    frames, run_end, unbroken = [], None, True
    for t, rgb in samples:
        got = find_label(rgb, module=module)
        if got.error:
            return {**got.to_json(), "duration_s": None, "frames": []}
        results.append(got)
        frames.append({"t": round(t, 3), "found": got.found, "text": got.text})
        unbroken = unbroken and got.found
        if unbroken:
            run_end = t
    base = next((r for r in results if r.found), results[0] if results else OcrLabel())
    if not results:
        base.error = "no frames decoded"
    duration = 0.0 if run_end is None else round(run_end + frame_step, 3)
    return {**base.to_json(), "duration_s": duration, "frames": frames}


#: Opening times (s) read by :func:`video_label`; the last frame before 2 s is read as well.
OPENING_TIMES = (0.0, 0.5, 1.0, 1.5, 2.5)
RULE_SECONDS = 2.0  # GB 45438 §5.4: the label stays at least 2 s from the start


def video_label(path: str, *, module: str = ENGINE_MODULE) -> dict:
    """OCR of a video file's opening seconds (:data:`OPENING_TIMES` and the last frame before
    2 s, by the decoder's frame times): the ``visible_label`` of a video, with ``duration_s``,
    ``frames`` and ``whole_video`` (the video ends before 2 s and every frame read has the label).
    Frames are decoded as shown (rotation, pixel aspect), as luma (a third of the pipe of RGB;
    contrast is measured on luma anyway). Raises :class:`~aigc_tag.errors.AigcTagError` when
    the video does not decode."""
    from .. import video_io

    picked: dict[float, tuple[float, np.ndarray]] = {}
    before_rule: tuple[float, np.ndarray] | None = None
    times: list[float] = []
    frames = video_io.gray_frames(path, max_seconds=OPENING_TIMES[-1] + 0.1)
    for t, rgb in frames:
        times.append(t)
        if t < RULE_SECONDS:
            before_rule = (t, rgb)
        for target in OPENING_TIMES:
            if target not in picked and t >= target - 1e-6:
                picked[target] = (t, rgb)
    if before_rule is not None:
        picked[RULE_SECONDS] = before_rule
    samples = sorted({t: (t, rgb) for t, rgb in picked.values()}.values(), key=lambda s: s[0])
    step = float(np.median(np.diff(times))) if len(times) > 1 else 1 / 25
    out = label_over_time(samples, frame_step=step, module=module)
    ended = bool(times) and times[-1] + step < RULE_SECONDS
    out["whole_video"] = ended and bool(out["frames"]) and all(f["found"] for f in out["frames"])
    return out
