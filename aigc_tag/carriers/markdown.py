"""Markdown: the label as an ``AIGC:`` mapping in the YAML front matter (TC260-PG-20258A §6.5).

The front matter is the block between a first line ``---`` (after an optional UTF-8 BOM) and the
next line that is ``---`` or ``...``. ``write_label`` edits the text, never re-dumps the YAML: an
existing top-level ``AIGC:`` key (with its indented block) is replaced in place, or a new block is
added right before the closing ``---``; every other line stays byte for byte. A file without front
matter gets one, so the output starts with ``---``. The seven Annex E keys are written in the
standard order as single-quoted YAML strings (double-quoted JSON-style when a value needs escapes),
with the file's own line ending.

Other places read (non-normative) and removed on write, so exactly one label is left: further
top-level keys whose name contains ``AIGC`` (any case, any value form), and HTML comments in the
body of the form ``<!-- AIGC {...} -->`` (also ``AIGC:``/``AIGC=``).

aigc-tag's own properties (``extra_xmp``) go into a top-level ``aigctag:`` mapping next to the
label; :meth:`MarkdownCarrier.read_extras` reads them back.

The YAML is read with ``yaml.safe_load`` only after a token scan has refused anchors and aliases
(no billion-laughs expansion), with the front matter bounded to 1 MiB and the file to
:data:`MAX_BYTES`. The explicit label is a paragraph of its own (blank-line separated) at the
start of the body (after the front matter) and/or at its end.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import yaml

from ..errors import CorruptContainer, InvalidLabel, LimitExceeded, UnsupportedFormat
from ..visible.wording import resolve_text
from . import Found, found_from_value, guarded, register

__all__ = ["CARRIER", "MarkdownCarrier", "split_front_matter"]

BOM = "\ufeff"
MAX_BYTES = 64 * 1024 * 1024
MAX_FRONT_MATTER = 1024 * 1024
MAX_COMMENTS = 10_000
#: PyYAML's pure-Python scanner is quadratic in nesting (flow brackets and indentation): 2 000
#: unclosed ``[`` take seconds, 1 MiB of them hours. Front matter deeper than this is refused
#: before YAML sees it (found by fuzz/run.py --target markdown).
MAX_YAML_DEPTH = 64
MAX_YAML_INDENT = 256
FIELDS = (
    "Label",
    "ContentProducer",
    "ProduceID",
    "ReservedCode1",
    "ContentPropagator",
    "PropagateID",
    "ReservedCode2",
)
EXTRAS_KEY = "aigctag"
_OPEN = re.compile(r"---[ \t]*(\r\n|\n)")
_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:\r\n|\n|$)", re.M)
_TOP_KEY = re.compile(r"""^(["']?)([^\s:#"'][^:\n"']*)\1[ \t]*:(?=[ \t\r\n]|$)""")
_COMMENT_LABEL = re.compile(r"<!--\s*AIGC\s*[:=]?\s*(\{.*?\})\s*-->", re.S)
_VISIBLE_WINDOW = 2000


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise LimitExceeded(f"Markdown file of {len(data)} bytes exceeds {MAX_BYTES}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsupportedFormat(
            f"Markdown: not UTF-8 text (invalid byte at offset {exc.start}); convert it first"
        ) from None


def split_front_matter(text: str) -> tuple[int, int, int, str] | None:
    """``(fm_start, fm_end, body_start, newline)`` or None when there is no front matter.

    ``fm_start``..``fm_end`` is the YAML text between the fences; ``body_start`` the offset after
    the closing fence line. An opening fence without a closing one raises CorruptContainer.
    """
    start = 1 if text.startswith(BOM) else 0
    m = _OPEN.match(text, start)
    if not m:
        return None
    close = _CLOSE.search(text, m.end())
    if close is None:
        raise CorruptContainer("Markdown front matter: opening '---' has no closing '---' line")
    if close.start() - m.end() > MAX_FRONT_MATTER:
        raise LimitExceeded(f"Markdown front matter is larger than {MAX_FRONT_MATTER} bytes")
    return m.end(), close.start(), close.end(), m.group(1)


def _nesting_guard(fm: str) -> None:
    """Refuse front matter nested beyond :data:`MAX_YAML_DEPTH` / :data:`MAX_YAML_INDENT`."""
    depth = 0
    for ch in re.findall(r"[\[\]{}]", fm):
        depth = depth + 1 if ch in "[{" else max(depth - 1, 0)
        if depth > MAX_YAML_DEPTH:
            raise CorruptContainer(
                f"Markdown front matter nests more than {MAX_YAML_DEPTH} brackets deep"
            )
    indent = max((len(m) for m in re.findall(r"(?m)^[ \t?:-]*", fm)), default=0)
    if indent > MAX_YAML_INDENT:
        raise CorruptContainer(
            f"Markdown front matter is indented {indent} columns deep (limit {MAX_YAML_INDENT})"
        )


def _load_yaml(fm: str) -> dict:
    """Parse front matter safely: anchors/aliases refused, a mapping (or nothing) required."""
    _nesting_guard(fm)
    try:
        for token in yaml.scan(fm, Loader=yaml.SafeLoader):
            if isinstance(token, (yaml.AliasToken, yaml.AnchorToken)):
                raise CorruptContainer(
                    "Markdown front matter uses YAML anchors/aliases, which aigc-tag refuses "
                    "(alias expansion bombs)"
                )
        obj = yaml.safe_load(fm)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        raise CorruptContainer(f"Markdown front matter is not valid YAML{where}") from None
    except RecursionError:
        raise CorruptContainer("Markdown front matter nests too deeply") from None
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise CorruptContainer("Markdown front matter is not a YAML mapping")
    return obj


def _is_label_key(key: object) -> bool:
    return isinstance(key, str) and "AIGC" in key.upper() and key != EXTRAS_KEY


def _blocks(fm: str) -> list[tuple[str, int, int]]:
    """Top-level keys of the front matter text: (key, start, end) with the block's extent.

    A block is the key line plus the following indented or blank lines; trailing blank lines
    are left outside so that removing a block keeps the spacing around it.
    """
    lines = fm.splitlines(keepends=True)
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line)
    blocks: list[tuple[str, int, int]] = []
    i = 0
    while i < len(lines):
        m = _TOP_KEY.match(lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        last = i
        while j < len(lines) and (lines[j][:1] in (" ", "\t") or not lines[j].strip()):
            if lines[j].strip():
                last = j
            j += 1
        blocks.append((m.group(2).strip(), offsets[i], offsets[last] + len(lines[last])))
        i = last + 1
    return blocks


def _quote(value: str) -> str:
    if any(ord(c) < 0x20 or ord(c) == 0x7F or c in "\u2028\u2029\ufeff\x85" for c in value):
        return json.dumps(value, ensure_ascii=True)
    return "'" + value.replace("'", "''") + "'"


def _label_fields(label_json: str) -> dict[str, str]:
    try:
        obj = json.loads(label_json)
    except json.JSONDecodeError as exc:
        raise InvalidLabel(f"label is not JSON: {exc.msg}") from None
    if isinstance(obj, dict) and len(obj) == 1 and isinstance(obj.get("AIGC"), dict):
        obj = obj["AIGC"]
    if not isinstance(obj, dict):
        raise InvalidLabel("label JSON is not an object")
    keys = [k for k in FIELDS if k in obj] + [k for k in obj if k not in FIELDS]
    return {k: str(obj[k]) for k in keys}


def _mapping_block(key: str, values: dict[str, str], nl: str) -> str:
    lines = [f"{key}:"] + [f"  {k}: {_quote(v)}" for k, v in values.items()]
    return nl.join(lines) + nl


class MarkdownCarrier:
    """The Markdown carrier (see the module docstring)."""

    name = "markdown"
    media_type = "text"
    mime = "text/markdown"
    extensions = (".md", ".markdown")
    can_write = True
    label_places = ("YAML front matter AIGC", "HTML comment <!-- AIGC {...} -->")

    def accept(self, head: bytes) -> bool:
        if head.startswith(b"\xef\xbb\xbf"):
            head = head[3:]
        return head.startswith((b"---\n", b"---\r\n"))

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        """Label keys of the front matter, then ``<!-- AIGC {...} -->`` comments in the body."""
        text = _decode(data)
        found: list[Found] = []
        split = split_front_matter(text)
        body_start = 0
        if split:
            fm_start, fm_end, body_start, _ = split
            obj = _load_yaml(text[fm_start:fm_end])
            for key, value in obj.items():
                if not _is_label_key(key):
                    continue
                raw = _as_json(value)
                found.append(
                    found_from_value(
                        raw,
                        carrier="front-matter",
                        location="front-matter",
                        key=key,
                        offset=len(text[:fm_start].encode()),
                        length=len(text[fm_start:fm_end].encode()),
                        form="element",
                        normative=key == "AIGC" and isinstance(value, dict),
                    )
                )
        for m in _comment_labels(text, body_start):
            found.append(
                found_from_value(
                    m.group(1),
                    carrier="html-comment",
                    location="body",
                    key="AIGC",
                    offset=len(text[: m.start()].encode()),
                    length=len(m.group(0).encode()),
                    form="text",
                    normative=False,
                )
            )
        return found

    def read_xmp(self, data: bytes) -> bytes | None:
        return None

    @guarded
    def read_extras(self, data: bytes) -> dict[str, str]:
        """The ``aigctag:`` mapping of the front matter ({} if none)."""
        text = _decode(data)
        split = split_front_matter(text)
        if not split:
            return {}
        value = _load_yaml(text[split[0] : split[1]]).get(EXTRAS_KEY)
        if not isinstance(value, dict):
            return {}
        return {str(k): str(v) for k, v in value.items()}

    def has_c2pa(self, data: bytes) -> bool:
        """Markdown has no C2PA embedding aigc-tag reads (C2PA text wrappers are future work)."""
        return False

    @guarded
    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """One ``AIGC:`` mapping in the front matter (see the module docstring)."""
        text = _decode(data)
        fields = _label_fields(label_json)
        split = split_front_matter(text)
        if split is None:
            nl = "\r\n" if "\r\n" in text[:4096] else "\n"
            bom = BOM if text.startswith(BOM) else ""
            body = text[len(bom) :]
            fm = _mapping_block("AIGC", fields, nl)
            if extra_xmp:
                fm += _mapping_block(EXTRAS_KEY, dict(extra_xmp), nl)
            out = f"{bom}---{nl}{fm}---{nl}{_strip_comment_labels(body)}"
            return self._checked(out, fields)
        fm_start, fm_end, body_start, nl = split
        fm = text[fm_start:fm_end]
        old = _load_yaml(fm)
        extras = old.get(EXTRAS_KEY) if isinstance(old.get(EXTRAS_KEY), dict) else {}
        extras = {str(k): str(v) for k, v in extras.items()}
        if extra_xmp:
            extras.update(extra_xmp)
        label_block = _mapping_block("AIGC", fields, nl)
        extras_block = _mapping_block(EXTRAS_KEY, extras, nl) if extras else ""
        pieces, pos, placed, extras_placed = [], 0, False, False
        for key, start, end in _blocks(fm):
            if _is_label_key(key) or key == EXTRAS_KEY:
                pieces.append(fm[pos:start])
                pos = end
                if key == "AIGC" and not placed:
                    pieces.append(label_block)
                    placed = True
                elif key == EXTRAS_KEY and not extras_placed:
                    pieces.append(extras_block)
                    extras_placed = True
        pieces.append(fm[pos:])
        new_fm = "".join(pieces)
        tail = ("" if placed else label_block) + ("" if extras_placed else extras_block)
        if tail:
            if new_fm and not new_fm.endswith(("\n", "\r")):
                new_fm += nl
            new_fm += tail
        body = _strip_comment_labels(text[body_start:])
        out = text[:fm_start] + new_fm + text[fm_end:body_start] + body
        return self._checked(out, fields)

    def _checked(self, out: str, fields: dict[str, str]) -> bytes:
        split = split_front_matter(out)
        assert split is not None
        obj = _load_yaml(out[split[0] : split[1]])
        written = obj.get("AIGC")
        if not isinstance(written, dict) or {k: str(v) for k, v in written.items()} != fields:
            raise CorruptContainer(
                "Markdown front matter: the AIGC block did not read back as written "
                "(unusual YAML layout); fix the front matter by hand"
            )
        return out.encode("utf-8")

    @guarded
    def add_visible(self, data: bytes, text: str, where: str = "suffix") -> bytes:
        """The label as its own paragraph after the front matter and/or at the end."""
        if where not in ("prefix", "suffix", "both"):
            raise InvalidLabel(f"where must be prefix, suffix or both, got {where!r}")
        label = _escape_md(resolve_text(text))
        doc = _decode(data)
        split = split_front_matter(doc)
        nl = split[3] if split else ("\r\n" if "\r\n" in doc[:4096] else "\n")
        if split:
            head, body = doc[: split[2]], doc[split[2] :]
        else:
            cut = 1 if doc.startswith(BOM) else 0
            head, body = doc[:cut], doc[cut:]
        if where in ("prefix", "both") and not body.lstrip().startswith(label):
            body = label + nl + nl + body.lstrip("\r\n")
        if where in ("suffix", "both") and not body.rstrip().endswith(label):
            stripped = body.rstrip("\r\n \t")
            body = (stripped + nl + nl if stripped else "") + label + nl
        return (head + body).encode("utf-8")

    @guarded
    def read_visible(self, data: bytes) -> str:
        """The body (front matter and comments removed): its start and end windows."""
        doc = _decode(data)
        split = split_front_matter(doc)
        body = doc[split[2] :] if split else doc.lstrip(BOM)
        body = re.sub(r"<!--.*?-->", "", body, flags=re.S).strip()
        if len(body) > 2 * _VISIBLE_WINDOW:
            body = body[:_VISIBLE_WINDOW] + "\n\n" + body[-_VISIBLE_WINDOW:]
        return body

    def reencode(self, data: bytes, draw: Callable) -> bytes:
        raise UnsupportedFormat("Markdown has no pixels to re-encode")


def _as_json(value: object) -> str:
    """A front-matter label value as the JSON text the lenient label parser reads."""
    if isinstance(value, str):
        return value
    try:
        obj = {"AIGC": value} if isinstance(value, dict) else value
        return json.dumps(obj, ensure_ascii=False, default=str)
    except (TypeError, ValueError):  # e.g. date keys: report it as an unparsable value
        return str(value)


def _comment_labels(text: str, start: int) -> list[re.Match[str]]:
    out = []
    for m in _COMMENT_LABEL.finditer(text, start):
        out.append(m)
        if len(out) >= MAX_COMMENTS:
            raise LimitExceeded(f"Markdown has more than {MAX_COMMENTS} AIGC comments")
    return out


def _strip_comment_labels(body: str) -> str:
    """Remove ``<!-- AIGC {...} -->`` comments; a comment alone on its line takes the line."""
    for m in reversed(_comment_labels(body, 0)):
        start, end = m.start(), m.end()
        line_start = body.rfind("\n", 0, start) + 1
        line_end = body.find("\n", end)
        line_end = len(body) if line_end < 0 else line_end + 1
        if not body[line_start:start].strip() and not body[end:line_end].strip():
            start, end = line_start, line_end
        body = body[:start] + body[end:]
    return body


_MD_ACTIVE = re.compile(r"^(?:[#>+*=|`~-]|\d+[.)])")


def _escape_md(text: str) -> str:
    """Backslash-escape a leading character that would make the line a heading/list/quote."""
    return "\\" + text if _MD_ACTIVE.match(text) else text


CARRIER = register(MarkdownCarrier())
