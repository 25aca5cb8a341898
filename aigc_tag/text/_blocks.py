"""Incremental CommonMark block state: is the text currently inside a block that would swallow
a label appended after it?

Only the blocks that do not end at a blank line matter: fenced code (``` / ~~~) and the HTML
blocks of types 1-5 (``<pre>/<script>/<style>/<textarea>``, ``<!--``, ``<?``, ``<!X``,
``<![CDATA[``). Everything else (paragraphs, lists, tables, block quotes, indented code, HTML
types 6-7) is closed by a blank line followed by an unindented paragraph, which is how labels are
placed. State is line-based and fed in chunks, so a token stream is tracked without buffering more
than the current line (capped).
"""

from __future__ import annotations

import re

_FENCE_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_HTML_STARTS: tuple[tuple[re.Pattern[str], str | None], ...] = (
    (re.compile(r"^ {0,3}<(script|pre|style|textarea)(?:\s|>|$)", re.I), None),  # type 1
    (re.compile(r"^ {0,3}<!--"), "-->"),
    (re.compile(r"^ {0,3}<\?"), "?>"),
    (re.compile(r"^ {0,3}<![A-Za-z]"), ">"),
    (re.compile(r"^ {0,3}<!\[CDATA\["), "]]>"),
)
_MAX_LINE = 65536  # longer lines keep head and tail only (a degenerate input, not an answer)


class BlockState:
    """Feed text in any chunking; ``closing()`` says what closes the open block, if any."""

    __slots__ = ("fence", "fence_indent", "html_end", "_parts", "_size", "newline", "last")

    def __init__(self) -> None:
        self.fence: str | None = None  # the opening fence run, e.g. "```" or "~~~~"
        self.fence_indent = ""
        self.html_end: str | None = None  # end condition of an open HTML block type 1-5
        self._parts: list[str] = []  # the current line, joined only when it ends
        self._size = 0
        self.newline: str | None = None  # first line ending seen ("\r\n" or "\n")
        self.last = ""  # the last two characters fed (trailing newline detection)

    @property
    def open(self) -> bool:
        """True while the next line would be inside fenced code or an HTML block 1-5."""
        return self.fence is not None or self.html_end is not None

    def feed(self, chunk: str) -> None:
        if not chunk:
            return
        self.last = (self.last + chunk)[-2:]
        start = 0
        while True:
            nl = chunk.find("\n", start)
            if nl < 0:
                piece = chunk[start:]
                self._parts.append(piece)
                self._size += len(piece)
                if self._size > _MAX_LINE:
                    line = "".join(self._parts)
                    self._parts, self._size = [line[:256], line[-64:]], 320
                return
            self._parts.append(chunk[start:nl])
            line = "".join(self._parts)
            if self.newline is None:
                self.newline = "\r\n" if line.endswith("\r") else "\n"
            self._end_line(line.rstrip("\r"))
            self._parts, self._size = [], 0
            start = nl + 1

    def line_head(self) -> str:
        """The current (unfinished) line so far."""
        return "".join(self._parts)

    def _end_line(self, line: str) -> None:
        if self.fence is not None:
            s = line.lstrip(" ")
            ch = self.fence[0]
            if len(line) - len(s) <= 3 and s.startswith(self.fence) and not s.rstrip(ch).strip():
                self.fence = None
            return
        if self.html_end is not None:
            if self.html_end in line.lower():
                self.html_end = None
            return
        m = _FENCE_OPEN.match(line)
        if m and not (m.group(2)[0] == "`" and "`" in m.group(3)):
            self.fence, self.fence_indent = m.group(2), m.group(1)
            return
        for pattern, end in _HTML_STARTS:
            hit = pattern.match(line)
            if hit:
                end = end or f"</{hit.group(1).lower()}>"
                if end not in line.lower()[hit.end() :]:
                    self.html_end = end
                return

    def closing(self) -> str:
        """The line that closes the open block ('' when none), as if the current line ended."""
        probe = BlockState()
        probe.fence, probe.fence_indent, probe.html_end = (
            self.fence,
            self.fence_indent,
            self.html_end,
        )
        line = self.line_head()
        if line:
            probe._end_line(line.rstrip("\r"))
        if probe.fence is not None:
            return probe.fence_indent + probe.fence
        return probe.html_end or ""
