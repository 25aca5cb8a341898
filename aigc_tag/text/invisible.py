"""Invisible text mark (opt-in): the label's 64-bit :class:`Payload` in variation selectors.

Carrier. One *frame* is 10 code points: a sync symbol U+E01EF (VS256) and 9 base-239 digits
U+E0100-U+E01EE (VS17-VS255) holding the 64-bit payload, whose own CRC-16 is the validity check
(a random frame passes with probability 2^-16). Frames repeat about every :data:`SPACING` visible
characters, so any excerpt with at least 200 visible characters holds a whole frame unless the
text has no safe position for that long (a 200-character URL or code block, unspaced Thai).

Why variation selectors (category Mn, Default_Ignorable) rather than zero-width characters (Cf):
they survive NFC and NFKC (no decomposition, combining class 0), Cf-stripping "zero-width
cleaners", HTML escaping and parsing, JSON with or without ``ensure_ascii``, UTF-16 and GB18030.
VS17+ change a glyph only after a CJK ideograph (Ideographic Variation Sequences), and FE00-FE0F
have standardized sequences with CJK punctuation and emoji, so we use VS17+ only and never after
an ideograph.

Safe positions. A frame goes only (a) between the last letter or digit of a word and a following
space, or (b) right after closing CJK punctuation (，。、；：！？）」』》】…) before a
letter, digit, punctuation or line end. Never inside code spans, fenced or indented code, HTML
tags, link destinations, square brackets (reference labels), URLs or e-mail addresses, never
after an ideograph, never before a combining mark, ZWJ or another selector, so grapheme clusters,
emoji ZWJ sequences and the shaping of joined scripts (Arabic, Indic) are untouched.

What destroys it (:data:`DESTROYED_BY`): GBK/GB2312/Big5 and other legacy encodings (they cannot
encode the characters: strict encoding fails, lenient encoding drops them); stripping variation
selectors, default-ignorable or non-BMP characters (some chat apps, platform sanitisers, "AI text
cleaners", MySQL ``utf8mb3`` columns, emoji filters); OCR, retyping, translation or paraphrase.
It is evidence when present and says nothing when absent; it never replaces the explicit label.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from ..label import AIGCLabel
from ..watermark.payload import Payload
from ._blocks import BlockState

__all__ = [
    "DESTROYED_BY",
    "SPACING",
    "InvisibleEvidence",
    "Marker",
    "encode_frame",
    "mark_text",
    "read_mark",
    "strip_mark",
]

DIGIT0 = 0xE0100  # VS17
RADIX = 239  # VS17..VS255 are digits
SYNC = chr(0xE01EF)  # VS256
NDIGITS = 9  # 239**9 > 2**64
FRAME_LEN = 1 + NDIGITS
#: A new frame is due once this many visible characters followed the last one.
SPACING = 64
DESTROYED_BY = (
    "encoding to GBK/GB2312/Big5 or another legacy code page (cannot encode U+E01xx)",
    "stripping variation selectors, default-ignorable or non-BMP characters "
    "(some chat apps, platform sanitisers, text cleaners, MySQL utf8mb3 columns)",
    "OCR, retyping, translation, paraphrase or summarising",
)
SURVIVES = (
    "NFC",
    "NFKC",
    "stripping Cf (zero-width) characters",
    "HTML escape and parse",
    "JSON (ensure_ascii on or off)",
    "UTF-8, UTF-16, GB18030",
)

_MARK_RUN = re.compile("[\U000e0100-\U000e01ef]+")
# Closing or sentence CJK punctuation that may carry a frame.
_CJK_PUNCT = frozenset("，。、；：！？）」』》】〕〉…—～")
_AFTER_PUNCT_OK = frozenset("LNPS")  # categories a frame may precede after CJK punctuation
# Characters that change the marker's state or may follow a safe position; all others are skipped.
_INTERESTING = re.compile("[\\s`~<>\\[\\]()@:/." + "".join(sorted(_CJK_PUNCT)) + "]")


def _payload_of(source: Payload | AIGCLabel) -> Payload:
    if isinstance(source, AIGCLabel):
        return Payload.for_label(source.ContentProducer, source.ProduceID)
    if isinstance(source, Payload):
        return source
    raise TypeError(f"need a Payload or an AIGCLabel, not {type(source).__name__}")


def encode_frame(payload: Payload | AIGCLabel) -> str:
    """The 10-code-point frame carrying ``payload`` (sync + 9 base-239 digits)."""
    value = _payload_of(payload).to_int()
    digits = []
    for _ in range(NDIGITS):
        value, d = divmod(value, RADIX)
        digits.append(chr(DIGIT0 + d))
    return SYNC + "".join(reversed(digits))


def _is_ideograph(ch: str) -> bool:
    o = ord(ch)
    return (
        0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x3FFFF
        or o == 0x3007
    )


def _is_word_end(ch: str) -> bool:
    return ch.isalnum() and unicodedata.category(ch)[0] in "LN" and not _is_ideograph(ch)


class Marker:
    """Streaming inserter: ``feed(chunk) -> chunk with frames``, then ``finish()``.

    It never holds text back: a frame is decided when the character after a safe position
    arrives and is emitted in front of it. ``positions`` lists the output offsets of frames.
    """

    def __init__(self, payload: Payload | AIGCLabel, *, spacing: int = SPACING) -> None:
        if spacing < 1:
            raise ValueError("spacing must be positive")
        self.frame = encode_frame(payload)
        self.spacing = spacing
        self.positions: list[int] = []
        self._blocks = BlockState()
        self._out = 0
        self._since = spacing  # the first safe position gets a frame
        self._prev = "\n"
        self._lead: int | None = 0  # leading spaces of the line; None once content started
        self._line_guard = False
        self._blank = True
        self._ticks = 0  # opening backtick run of an open code span (0: none)
        self._run = 0  # current backtick run
        self._bracket = 0
        self._dest = 0  # paren depth inside a link destination
        self._tag = False
        self._lt = False
        self._url = False
        self._word = ""

    def _guarded(self) -> bool:
        return (
            self._line_guard
            or self._blocks.open
            or self._ticks > 0
            or self._run > 0
            or self._bracket > 0
            or self._dest > 0
            or self._tag
            or self._url
        )

    def _safe_before(self, ch: str) -> bool:
        prev = self._prev
        if ch == " ":
            return _is_word_end(prev)
        if prev in _CJK_PUNCT:
            return ch == "\n" or unicodedata.category(ch)[0] in _AFTER_PUNCT_OK
        return False

    def feed(self, chunk: str) -> str:
        out: list[str] = []
        seg = line_from = 0
        emitted = self._out
        i = 0
        n = len(chunk)
        while i < n:
            # Fast path: a run of characters that change no state but the counters and that
            # cannot start a safe position (letters, ideographs, digits...).
            if self._prev not in _CJK_PUNCT:
                m = _INTERESTING.search(chunk, i)
                j = m.start() if m else n
                if j > i:
                    self._skip(chunk[i:j])
                    i = j
                    if i >= n:
                        break
            ch = chunk[i]
            if self._since >= self.spacing and self._safe_before(ch) and not self._guarded():
                out.append(chunk[seg:i])
                emitted += i - seg
                self.positions.append(emitted)
                out.append(self.frame)
                emitted += len(self.frame)
                seg = i
                self._since = 0
            self._advance(ch)
            if ch == "\n":  # the block tracker sees whole lines: state at the start of a line
                self._blocks.feed(chunk[line_from : i + 1])
                line_from = i + 1
            i += 1
        self._blocks.feed(chunk[line_from:])
        out.append(chunk[seg:])
        text = "".join(out)
        self._out += len(text)
        return text

    def _skip(self, run: str) -> None:
        """``_advance`` for a run of uninteresting characters, in one step."""
        if self._run or self._lt:  # rare: the slow path settles the first character
            self._advance(run[0])
            run = run[1:]
            if not run:
                return
        self._since += len(run)
        if self._lead is not None:
            self._line_guard = self._line_guard or self._lead >= 4
            self._lead = None
        self._blank = False
        self._word = (self._word + run[-8:])[-8:]
        self._prev = run[-1]

    def _advance(self, ch: str) -> None:
        self._since += 1
        if ch == "`":
            self._run += 1
        elif self._run:
            if self._ticks == 0:
                self._ticks = self._run
            elif self._ticks == self._run:
                self._ticks = 0
            self._run = 0
        if ch == "\n":
            if self._blank:  # a blank line ends paragraphs, and with them open code spans
                self._ticks = self._run = 0
            self._lead, self._line_guard, self._blank = 0, False, True
            self._bracket = self._dest = 0
            self._url, self._word = False, ""
            self._prev = ch
            return
        if self._lead is not None:
            if ch == " ":
                self._lead += 1
            elif ch == "\t" or self._lead >= 4 or ch in "`~<":
                self._line_guard, self._lead = True, None
            else:
                self._lead = None
        if not ch.isspace():
            self._blank = False
        if self._lt:
            self._tag = self._tag or ch.isalpha() or ch in "/!?"
            self._lt = False
        if ch == "<":
            self._lt = True
        elif ch == ">":
            self._tag = False
        elif ch == "[":
            self._bracket += 1
        elif ch == "]":
            self._bracket = max(0, self._bracket - 1)
        elif ch == "(":
            if self._dest or self._prev == "]":
                self._dest += 1
        elif ch == ")" and self._dest:
            self._dest -= 1
        if ch.isspace():
            self._url, self._word = False, ""
        else:
            self._word = (self._word + ch)[-8:]
            if ch == "@" or "://" in self._word or self._word.lower() == "www.":
                self._url = True
        self._prev = ch

    def finish(self) -> str:
        """A last frame at the very end, when one is due and the text ends in CJK punctuation."""
        if self._since >= self.spacing and self._prev in _CJK_PUNCT and not self._guarded():
            self.positions.append(self._out)
            self._out += len(self.frame)
            self._since = 0
            return self.frame
        return ""


def mark_text(text: str, payload: Payload | AIGCLabel, *, spacing: int = SPACING) -> str:
    """``text`` with the invisible mark at safe positions (an existing mark is replaced)."""
    marker = Marker(payload, spacing=spacing)
    return marker.feed(strip_mark(text)) + marker.finish()


def strip_mark(text: str) -> str:
    """Remove our frames; a single VS17+ right after an ideograph (a real IVS) is kept."""

    def keep(m: re.Match[str]) -> str:
        run = m.group(0)
        start = m.start()
        if len(run) == 1 and start > 0 and _is_ideograph(text[start - 1]):
            return run
        return ""

    return _MARK_RUN.sub(keep, text)


@dataclass
class InvisibleEvidence:
    """What :func:`read_mark` found. ``payload`` is the decoded :class:`Payload` (or None).

    ``copies`` counts frames that passed the CRC with the reported payload; ``invalid`` failed
    the CRC (damaged or not ours); ``partial`` were cut short (an excerpt boundary); ``others``
    lists other valid payloads (two marks mixed, e.g. pasted texts).
    """

    found: bool
    payload: Payload | None = None
    copies: int = 0
    invalid: int = 0
    partial: int = 0
    others: dict[str, int] = field(default_factory=dict)
    positions: list[int] = field(default_factory=list)

    @property
    def payload_hex(self) -> str | None:
        return self.payload.hex() if self.payload else None

    def to_json(self) -> dict:
        p = self.payload
        return {
            "source": "invisible text mark (variation selectors U+E0100-U+E01EF, aigc-tag)",
            "found": self.found,
            "payload_hex": self.payload_hex,
            "producer_hash": f"{p.producer_hash:05x}" if p else None,
            "serial": f"{p.serial:06x}" if p else None,
            "copies": self.copies,
            "invalid_frames": self.invalid,
            "partial_frames": self.partial,
            "other_payloads": self.others,
            "positions": self.positions[:20],
            "survives": list(SURVIVES),
            "destroyed_by": list(DESTROYED_BY),
            "note": "absence proves nothing: the mark is easily removed (see destroyed_by)",
        }


def read_mark(text: str) -> InvisibleEvidence:
    """Decode every frame in ``text``; the most frequent valid payload is reported."""
    found: Counter[Payload] = Counter()
    first: dict[Payload, list[int]] = {}
    invalid = partial = 0
    for m in _MARK_RUN.finditer(text):
        run = m.group(0)
        pos = run.find(SYNC)
        if pos != 0:
            partial += 1  # digits before the first sync (or no sync): the tail of a cut frame
        while pos >= 0:
            nxt = run.find(SYNC, pos + 1)
            digits = run[pos + 1 : nxt if nxt >= 0 else len(run)]
            if len(digits) < NDIGITS:
                partial += 1
            else:
                value = 0
                for d in digits[:NDIGITS]:
                    value = value * RADIX + (ord(d) - DIGIT0)
                payload = Payload.from_hex(f"{value:016x}") if value < 1 << 64 else None
                if payload is None:
                    invalid += 1
                else:
                    found[payload] += 1
                    first.setdefault(payload, []).append(m.start() + pos)
            pos = nxt
    if not found:
        return InvisibleEvidence(False, invalid=invalid, partial=partial)
    (best, copies), *rest = found.most_common()
    return InvisibleEvidence(
        True,
        payload=best,
        copies=copies,
        invalid=invalid,
        partial=partial,
        others={p.hex(): n for p, n in rest},
        positions=first[best],
    )
