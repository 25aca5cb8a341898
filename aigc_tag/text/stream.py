"""Label a token stream (what LLM SDKs yield) as it flows: no buffering of the answer.

The prefix is emitted just before the first non-empty token, the suffix right after the last
one. Nothing is held back: each token is yielded as soon as it arrives (with an invisible-mark
frame in front of it when ``mark`` is given and a safe position falls there). The suffix uses the
same placement as :func:`~aigc_tag.text.explicit.add_label`, from a line-level Markdown state
kept while streaming (an unclosed code fence is closed first), so for a stream without an
existing label ``"".join(label_stream(tokens)) == add_label("".join(tokens))``.

Documented choices:
- an empty stream (no non-empty token) yields nothing: there is no content to label;
- an exception from the source propagates and no suffix is emitted (the answer is incomplete;
  the caller decides what to show); the prefix, if already sent, stays sent;
- if the consumer stops early (``close()``/``break``), no suffix is emitted;
- streams are not checked for front matter or an existing label (that would need buffering).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator

from ..label import AIGCLabel
from ..watermark.payload import Payload
from ._blocks import BlockState
from .explicit import WHERES, Style, Where, render_label, resolve_label, suffix_separator
from .invisible import SPACING, Marker

__all__ = ["alabel_stream", "label_stream"]


class _Labeller:
    """The per-stream state shared by the sync and async wrappers."""

    def __init__(
        self, where: str, wording: str | None, style: Style, mark, spacing: int, newline: str | None
    ):
        if newline not in (None, "\n", "\r\n"):
            raise ValueError("newline must be None, '\\n' or '\\r\\n'")
        self.newline = newline
        if where not in WHERES:
            raise ValueError(f"where must be one of {WHERES}, not {where!r}")
        self.line = render_label(resolve_label(wording), style)  # validated before streaming
        self.prefix = where in ("prefix", "both")
        self.suffix = where in ("suffix", "both")
        self.marker = Marker(mark, spacing=spacing) if mark is not None else None
        self.blocks = BlockState()
        self.tail = ""
        self.started = False

    def step(self, token: str) -> str:
        if not isinstance(token, str):
            raise TypeError(f"token stream yielded {type(token).__name__}, not str")
        if not token:
            return ""
        head = ""
        if not self.started:
            self.started = True
            if self.prefix:
                nl = self.newline or ("\r\n" if "\r\n" in token else "\n")
                head = self.line + nl + ("" if token.startswith(("\n", "\r\n")) else nl)
        self.blocks.feed(token)
        self.tail = (self.tail + token)[-64:]
        return head + (self.marker.feed(token) if self.marker else token)

    def end(self) -> str:
        if not self.started:
            return ""
        out = self.marker.finish() if self.marker else ""
        if self.suffix:
            before, after = suffix_separator(
                self.blocks, self.tail, self.newline or self.blocks.newline or "\n"
            )
            out += before + self.line + after
        return out


def label_stream(
    tokens: Iterable[str],
    *,
    where: Where = "suffix",
    wording: str | None = "zh-long",
    style: Style = "plain",
    mark: Payload | AIGCLabel | None = None,
    spacing: int = SPACING,
    newline: str | None = None,
) -> Iterator[str]:
    """Yield ``tokens`` with the explicit label (and optionally the invisible mark) added.

    Options as :func:`~aigc_tag.text.explicit.add_label`; ``mark`` is the label (or its
    :class:`Payload`) to carry invisibly, see :mod:`aigc_tag.text.invisible`. The wording is
    validated here, before the first token is requested.
    """
    state = _Labeller(where, wording, style, mark, spacing, newline)
    return _sync(tokens, state)


def _sync(tokens: Iterable[str], state: _Labeller) -> Iterator[str]:
    for token in tokens:
        out = state.step(token)
        if out:
            yield out
    tail = state.end()
    if tail:
        yield tail


def alabel_stream(
    tokens: AsyncIterable[str],
    *,
    where: Where = "suffix",
    wording: str | None = "zh-long",
    style: Style = "plain",
    mark: Payload | AIGCLabel | None = None,
    spacing: int = SPACING,
    newline: str | None = None,
) -> AsyncIterator[str]:
    """The async-iterator twin of :func:`label_stream` (same options, same output)."""
    state = _Labeller(where, wording, style, mark, spacing, newline)
    return _async(tokens, state)


async def _async(tokens: AsyncIterable[str], state: _Labeller) -> AsyncIterator[str]:
    async for token in tokens:
        out = state.step(token)
        if out:
            yield out
    tail = state.end()
    if tail:
        yield tail
