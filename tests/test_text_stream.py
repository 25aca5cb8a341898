"""Token stream wrapper: labels without buffering, sync and async, empty and failing streams."""

from __future__ import annotations

import asyncio
import random

import pytest

from aigc_tag.errors import InvalidLabel
from aigc_tag.text.explicit import add_label, check_explicit
from aigc_tag.text.invisible import read_mark, strip_mark
from aigc_tag.text.stream import alabel_stream, label_stream
from aigc_tag.watermark.payload import Payload

ZH = "本内容由人工智能生成"
TEXTS = [
    "Hello, world.",
    "答案如下：\n\n1. 第一点\n2. 第二点\n",
    "```python\nprint('open fence')\n",
    "line\r\nline two\r\n",
    "\nleading newline",
]


def _split(text: str, rng: random.Random) -> list[str]:
    cuts = sorted(rng.sample(range(1, len(text)), min(len(text) - 1, 5)))
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]


@pytest.mark.parametrize("where", ["suffix", "prefix", "both"])
def test_stream_matches_add_label(where: str) -> None:
    rng = random.Random(1)
    for text in TEXTS:
        for _ in range(5):
            tokens = _split(text, rng) + [""]
            nl = "\r\n" if "\r\n" in text else None  # a stream cannot see ahead
            out = "".join(label_stream(tokens, where=where, newline=nl))
            assert out == add_label(text, where=where), (text, tokens)


class Source:
    """A token source that records how far it has been consumed."""

    def __init__(self, tokens: list[str], fail_after: int | None = None) -> None:
        self.tokens, self.fail_after, self.pulled = tokens, fail_after, 0

    def __iter__(self):
        for tok in self.tokens:
            if self.fail_after is not None and self.pulled >= self.fail_after:
                raise ConnectionError("upstream dropped")
            self.pulled += 1
            yield tok

    async def agen(self):
        for tok in self:
            await asyncio.sleep(0)
            yield tok


def test_lazy_first_output_before_source_is_exhausted() -> None:
    src = Source(["a ", "b ", "c"] * 100)
    it = label_stream(src, where="both")
    first = next(it)
    assert first.startswith(ZH) and first.endswith("a ")
    assert src.pulled == 1
    second = next(it)
    assert second == "b " and src.pulled == 2
    rest = "".join(it)
    assert rest.endswith(ZH) and src.pulled == 300


def test_async_lazy_and_equal() -> None:
    async def run() -> tuple[str, int, str]:
        src = Source(["一", "二", "三。"] * 50)
        agen = alabel_stream(src.agen(), where="both")
        first = await agen.__anext__()
        pulled = src.pulled
        rest = "".join([tok async for tok in agen])
        return first, pulled, first + rest

    first, pulled, whole = asyncio.run(run())
    assert pulled == 1 and first == f"{ZH}\n\n一"
    assert whole == add_label("一二三。" * 50, where="both")


@pytest.mark.parametrize("tokens", [[], ["", ""]])
def test_empty_stream_yields_nothing(tokens: list[str]) -> None:
    assert list(label_stream(tokens, where="both")) == []

    async def agen():
        for t in tokens:
            yield t

    async def run():
        return [t async for t in alabel_stream(agen(), where="both")]

    assert asyncio.run(run()) == []


def test_source_exception_propagates_without_suffix() -> None:
    src = Source(["one ", "two ", "three"], fail_after=2)
    got: list[str] = []
    with pytest.raises(ConnectionError):
        for tok in label_stream(src, where="both"):
            got.append(tok)
    assert got == [f"{ZH}\n\none ", "two "]
    assert not "".join(got).endswith(ZH)

    async def run():
        out = []
        async for tok in alabel_stream(Source(["x", "y"], fail_after=1).agen()):
            out.append(tok)
        return out

    with pytest.raises(ConnectionError):
        asyncio.run(run())


def test_wording_validated_before_streaming() -> None:
    src = Source(["a"])
    with pytest.raises(InvalidLabel):
        label_stream(src, wording="智枢生成")
    assert src.pulled == 0
    with pytest.raises(TypeError):
        list(label_stream([b"bytes"]))  # type: ignore[list-item]


def test_stream_with_mark_grapheme_safe() -> None:
    regex = pytest.importorskip("regex")
    payload = Payload.for_label("00producer", "pid-7")
    text = (
        "Café déjà vu: the e\u0301 combining test, emoji 👩\u200d💻 and 👍🏽 here. "
        "Arabic مرحبا بالعالم and Hindi नमस्ते दुनिया too. 中文句子，结束。"
    ) * 8
    tokens = list(text)  # worst case: every code point its own token
    out = "".join(label_stream(tokens, mark=payload, spacing=16))
    assert read_mark(out).payload == payload and read_mark(out).copies >= 5
    clean = strip_mark(out)
    assert clean == add_label(text)
    # every frame sits on a grapheme boundary of the original text
    bounds = {m.end() for m in regex.finditer(r"\X", text)}
    pos = 0
    for piece in regex.split(r"([\U000e0100-\U000e01ef]+)", out[: len(out) - len(ZH) - 2]):
        if piece and "\U000e01ef" in piece:
            assert pos in bounds, text[max(0, pos - 5) : pos + 5]
        else:
            pos += len(piece)
    assert check_explicit(out).position == "end"
    # token-by-token marking places frames exactly where whole-text marking does
    from aigc_tag.text.invisible import mark_text

    assert out == add_label(mark_text(text, payload, spacing=16))
