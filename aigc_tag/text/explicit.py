"""Explicit labels for AI-written text (GB 45438 §5.1, Measures Art. 4(1)): add and check.

A label is a line of its own, at the start (prefix), the end (suffix, the default) or both. It is
separated from the content by a blank line, so Markdown renders it as its own paragraph and plain
text shows it as its own line. Blocks that a blank line does not close (an unclosed code fence, an
unclosed ``<pre>``/``<!--`` HTML block) are closed first, otherwise the label would render as
code. A prefix goes after YAML/TOML front matter, never before it (that would break the front
matter). Adding is idempotent: an edge line that already is a compliant label is kept.

The checker (``check_explicit``) looks for a label in the *start window* and the *end window*:
the first and the last :data:`WINDOW` characters of the visible body (front matter, Markdown
markup and invisible characters removed). It reads clause by clause, so "AI" in one sentence and
"生成" in another do not add up, and it ignores false hits ("生成失败", "AI生成器", "非AI生成").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from ..visible.wording import (
    DEFAULT_TEXT_LABEL,
    TEXT_PRESETS,
    check_wording,
    wording_problem,
)
from ._blocks import BlockState

__all__ = [
    "WINDOW",
    "TextLabelEvidence",
    "add_label",
    "check_explicit",
    "render_label",
    "resolve_label",
]

Where = Literal["suffix", "prefix", "both"]
Style = Literal["plain", "markdown"]
WHERES = ("suffix", "prefix", "both")
STYLES = ("plain", "markdown")
#: Size of the start and end windows, in visible characters.
WINDOW = 200

_FRONT_MATTER = re.compile(
    r"\A(\ufeff?)(---|\+\+\+)[ \t]*\r?\n(?:.*?\r?\n)??(---|\.\.\.|\+\+\+)[ \t]*(?:\r?\n|\Z)", re.S
)
_BLANK_END = re.compile(r"\n[ \t\r]*\n\Z")
# Invisible characters (format characters and variation selectors) must not split "人工" "智能".
_INVISIBLE = re.compile(
    r"[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufe00-\ufe0f\ufeff\U000e0000-\U000e01ef]"
)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_TAG = re.compile(r"</?[A-Za-z][^>]*>|<!--|-->")
_MD_LEAD = re.compile(
    r"^[ \t]*(?:>[ \t]?)*[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?(?:#{1,6}(?:[ \t]+|$))?"
)
_MD_TRAIL = re.compile(r"[ \t]+#+[ \t]*$")
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_MD_MARKS = re.compile(r"[*_~`|]+")
_CLAUSE_SPLIT = re.compile(r"[。！？!?；;\n]+|(?<=[.])\s+")
# Words that contain an element but name a thing, not a label: 生成器 (generator), 生成式
# (generative, as in "生成式人工智能服务"), 合成器 (synthesiser).
_NOT_LABEL_WORDS = re.compile(r"(?:生成|合成)(?:器|式)")
_AI_ANY_CASE = re.compile(r"(?<![A-Za-z])ai(?:gc)?(?![A-Za-z])", re.I)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def resolve_label(wording: str | None = None) -> str:
    """The label text for a :data:`TEXT_PRESETS` name or a custom wording (validated).

    Raises :class:`~aigc_tag.errors.InvalidLabel` when a custom wording lacks the AI element
    ("人工智能"/"AI") or the generation element ("生成"/"合成"), or negates them.
    """
    if wording is None:
        return DEFAULT_TEXT_LABEL
    if wording in TEXT_PRESETS:
        return TEXT_PRESETS[wording]
    check_wording(wording)
    if "\n" in wording or "\r" in wording:  # check_wording already rejects controls; be explicit
        raise ValueError("label wording must be a single line")
    return wording


def render_label(label: str, style: Style = "plain") -> str:
    """The label line as written: bare in ``plain``, escaped and emphasised in ``markdown``."""
    if style == "plain":
        return label
    if style == "markdown":
        return "*" + _MD_SPECIAL.sub(r"\\\1", label) + "*"
    raise ValueError(f"style must be one of {STYLES}, not {style!r}")


def _front_matter_end(text: str) -> int:
    m = _FRONT_MATTER.match(text)
    if m and (m.group(2) == "+++") == (m.group(3) == "+++"):
        return m.end()
    return 1 if text.startswith("\ufeff") else 0


def _clean(line: str) -> str:
    """What a reader sees of one line: markup, escapes and invisible characters removed."""
    s = _INVISIBLE.sub("", line)
    s = unicodedata.normalize("NFKC", s)
    s = _MD_LINK.sub(r"\1", s)
    s = _MD_TAG.sub("", s)
    s = _MD_LEAD.sub("", s, count=1)
    s = _MD_TRAIL.sub("", s)
    s = _MD_ESCAPE.sub(lambda m: "\x00" if m.group(1) in "*_~`|" else m.group(1), s)
    s = _MD_MARKS.sub("", s).replace("\x00", "")
    return s.strip()


def _clause_problem(clause: str) -> str | None:
    """Why a clause is not a label (``None``: it is one), with the text-specific false hits."""
    c = _AI_ANY_CASE.sub(lambda m: m.group(0).upper(), clause.strip())
    problem = wording_problem(c)
    if problem is None and _NOT_LABEL_WORDS.search(c):
        if wording_problem(_NOT_LABEL_WORDS.sub("□□□", c)) is not None:
            word = _NOT_LABEL_WORDS.search(c).group(0)
            return f"{clause!r}: {word!r} names a tool or technique, not a label"
    return problem


def _has_element(clause: str) -> bool:
    return bool(re.search(r"人工智能|生成|合成|(?<![A-Za-z])AI(?![A-Za-z])", clause, re.I))


_BOTH_QUICK = re.compile(r"(?=.*(?:人工智能|AI))(?=.*(?:生成|合成))", re.I | re.S)


def is_label_line(line: str) -> bool:
    """Whether a line is (only) an explicit label, e.g. one :func:`add_label` wrote."""
    return _is_label_line(line)


def _is_label_line(line: str) -> bool:
    clean = _clean(line)
    return bool(_BOTH_QUICK.match(clean)) and any(
        _clause_problem(c) is None for c in _CLAUSE_SPLIT.split(clean) if c.strip()
    )


def _lines(text: str, base: int = 0) -> list[tuple[int, int, str]]:
    """(start, end, line) spans without the line ending, offsets relative to ``text`` + base."""
    out = []
    pos = 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        out.append((base + pos, base + pos + len(body), body))
        pos += len(raw)
    return out


def _block_open_at(text: str, offset: int) -> bool:
    state = BlockState()
    state.feed(text[:offset])
    return state.open


def suffix_separator(state: BlockState, tail: str, nl: str) -> tuple[str, str]:
    """(before, after) the suffix label line, given the block state and the last characters.

    Shared with the stream wrapper so that streaming and whole-text labelling agree exactly.
    """
    close = state.closing()
    ends_nl = tail.endswith("\n")
    if close:
        before = ("" if ends_nl else nl) + close + nl + nl
    elif _BLANK_END.search(tail):
        before = ""
    elif ends_nl:
        before = nl
    else:
        before = nl + nl
    return before, (nl if ends_nl else "")


def _suffix(body: str, line: str, nl: str, replace: bool) -> str:
    spans = [s for s in _lines(body) if s[2].strip()]
    if not spans:
        return body + line
    start, end, last = spans[-1]
    if _is_label_line(last) and not _block_open_at(body, start):
        return body[:start] + line + body[end:] if replace else body
    state = BlockState()
    state.feed(body)
    before, after = suffix_separator(state, body[-64:], nl)
    return body + before + line + after


def _prefix(body: str, line: str, nl: str, replace: bool) -> str:
    spans = [s for s in _lines(body) if s[2].strip()]
    if spans and _is_label_line(spans[0][2]):
        start, end, _ = spans[0]
        return body[:start] + line + body[end:] if replace else body
    if not body:
        return line
    return line + nl + ("" if body.startswith(("\n", "\r\n")) else nl) + body


def add_label(
    text: str,
    *,
    where: Where = "suffix",
    wording: str | None = "zh-long",
    style: Style = "plain",
    replace: bool = False,
) -> str:
    """Return ``text`` with an explicit AI-generation label line.

    ``wording`` is a :data:`~aigc_tag.visible.wording.TEXT_PRESETS` name ("zh-long" →
    "本内容由人工智能生成", "bilingual" → "本内容由人工智能生成 / AI-generated") or a custom
    single-line text, which must carry both GB 45438 elements (else ``InvalidLabel``).
    An edge line that already is a compliant label is kept, so labelling twice changes nothing;
    ``replace=True`` swaps it for this wording instead. Line endings follow the text (CRLF stays
    CRLF).
    """
    if where not in WHERES:
        raise ValueError(f"where must be one of {WHERES}, not {where!r}")
    line = render_label(resolve_label(wording), style)
    nl = "\r\n" if "\r\n" in text else "\n"
    cut = _front_matter_end(text)
    head, body = text[:cut], text[cut:]
    if where in ("prefix", "both"):
        body = _prefix(body, line, nl, replace)
    if where in ("suffix", "both"):
        body = _suffix(body, line, nl, replace)
    return head + body


@dataclass
class TextLabelEvidence:
    """What the text says about its explicit label (input to verify's X-T1).

    ``position`` is "start", "end", "both" or ``None``; ``hits`` are compliant label clauses in
    a window, ``near_misses`` are clauses in a window that contain an element but are not a
    label (with the reason, e.g. "生成失败"), ``middle`` are compliant clauses outside both
    windows (the Measures allow a "suitable middle position"; X-T1 looks at the windows).
    Line numbers are 1-based lines of the whole text; offsets are character offsets.
    """

    found: bool
    position: str | None
    hits: list[dict] = field(default_factory=list)
    near_misses: list[dict] = field(default_factory=list)
    middle: list[dict] = field(default_factory=list)
    window: int = WINDOW
    visible_chars: int = 0

    def to_json(self) -> dict:
        return {
            "source": "explicit text label (GB 45438 §5.1), start/end window check",
            "found": self.found,
            "position": self.position,
            "window_chars": self.window,
            "visible_chars": self.visible_chars,
            "hits": self.hits,
            "near_misses": self.near_misses,
            "middle": self.middle,
        }


def check_explicit(text: str, *, window: int = WINDOW) -> TextLabelEvidence:
    """Find a compliant explicit label in the first or last ``window`` visible characters."""
    cut = _front_matter_end(text)
    first_line = text[:cut].count("\n")
    rows = []  # (clean_start, clean_end, line_no, offset, clause)
    pos = 0
    for i, (start, _end, line) in enumerate(_lines(text[cut:], cut)):
        clean = _clean(line)
        if not clean:
            continue
        for m in re.finditer(r"[^。！？!?；;]+", clean):
            clause = m.group(0).strip()
            if clause:
                rows.append((pos + m.start(), pos + m.end(), first_line + i + 1, start, clause))
        pos += len(clean) + 1
    total = max(pos - 1, 0)
    ev = TextLabelEvidence(found=False, position=None, window=window, visible_chars=total)
    seen: set[str] = set()
    for c_start, c_end, line_no, offset, clause in rows:
        in_start = c_start < window
        in_end = c_end > total - window
        if not _has_element(clause):
            continue
        problem = _clause_problem(clause)
        if not (in_start or in_end):
            if problem is None:
                ev.middle.append({"line": line_no, "offset": offset, "text": clause})
            continue
        if in_start and in_end:  # short text: the nearer edge names it
            which = "start" if c_start + c_end <= total else "end"
        else:
            which = "start" if in_start else "end"
        if problem is None:
            ev.hits.append({"window": which, "line": line_no, "offset": offset, "text": clause})
            seen.add(which)
        else:
            ev.near_misses.append(
                {"window": which, "line": line_no, "text": clause[:80], "problem": problem}
            )
    ev.found = bool(ev.hits)
    ev.position = "both" if len(seen) == 2 else (next(iter(seen)) if seen else None)
    return ev
