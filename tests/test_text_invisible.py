"""Invisible text mark: round trips through what text goes through, excerpts, what kills it."""

from __future__ import annotations

import html
import json
import random
import unicodedata
from html.parser import HTMLParser

import pytest

from aigc_tag.label import AIGCLabel
from aigc_tag.text.invisible import (
    DESTROYED_BY,
    SYNC,
    encode_frame,
    mark_text,
    read_mark,
    strip_mark,
)
from aigc_tag.watermark.payload import Payload

LABEL = AIGCLabel.for_producer("001234567890123456789012345", "2f4c-produce-id")
PAYLOAD = Payload.for_label(LABEL.ContentProducer, LABEL.ProduceID)
ZH = (
    "人工智能技术正在快速发展，深度学习模型在图像识别、自然语言处理等领域取得了显著成果。"
    "研究人员表示，未来将继续探索更高效的算法！同时，数据安全与隐私保护也受到广泛关注；"
    "专家建议：加强监管，完善标准。"
) * 12
EN = (
    "The quick brown fox jumps over the lazy dog. Machine learning models keep improving, "
    "and researchers expect more efficient algorithms soon; privacy remains a concern. "
) * 12


@pytest.fixture(scope="module", params=["zh", "en"])
def marked(request) -> tuple[str, str]:
    text = ZH if request.param == "zh" else EN
    return text, mark_text(text, LABEL)


def _visible(text: str) -> list[int]:
    """Indexes of visible (non-mark) code points."""
    return [i for i, c in enumerate(text) if not 0xE0100 <= ord(c) <= 0xE01EF]


def test_round_trip(marked) -> None:
    text, m = marked
    ev = read_mark(m)
    assert ev.found and ev.payload == PAYLOAD and ev.payload_hex == PAYLOAD.hex()
    assert ev.copies == m.count(SYNC) >= len(text) // 100
    assert ev.invalid == 0 and ev.partial == 0 and not ev.others
    assert strip_mark(m) == text
    assert PAYLOAD.matches(LABEL.ContentProducer, LABEL.ProduceID)
    j = ev.to_json()
    assert j["found"] and any("GBK" in d for d in j["destroyed_by"])


def _html_text(markup: str) -> str:
    class P(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    p = P()
    p.feed(markup)
    p.close()
    return "".join(p.parts)


TRANSFORMS = {
    "NFC": lambda s: unicodedata.normalize("NFC", s),
    "NFKC": lambda s: unicodedata.normalize("NFKC", s),
    "NFD": lambda s: unicodedata.normalize("NFD", s),
    "json-ascii": lambda s: json.loads(json.dumps({"t": s}, ensure_ascii=True))["t"],
    "json-utf8": lambda s: json.loads(json.dumps({"t": s}, ensure_ascii=False))["t"],
    "html": lambda s: _html_text(f"<html><body><p>{html.escape(s)}</p></body></html>"),
    "gb18030": lambda s: s.encode("gb18030").decode("gb18030"),
    "utf-16": lambda s: s.encode("utf-16").decode("utf-16"),
    "strip-Cf": lambda s: "".join(c for c in s if unicodedata.category(c) != "Cf"),
}


@pytest.mark.parametrize("how", sorted(TRANSFORMS))
def test_survives(marked, how: str) -> None:
    _, m = marked
    out = TRANSFORMS[how](m)
    if how == "json-ascii":
        assert "\\udb40" in json.dumps(m)  # surrogate-pair escapes, really ASCII
    assert read_mark(out).payload == PAYLOAD


def test_lxml_html_text_survives(marked) -> None:
    lxml_html = pytest.importorskip("lxml.html")
    _, m = marked
    doc = lxml_html.fromstring(f"<div><p>{html.escape(m)}</p></div>")
    assert read_mark(doc.text_content()).payload == PAYLOAD


DESTROYERS = {
    "gbk-ignore": lambda s: s.encode("gbk", errors="ignore").decode("gbk"),
    "gbk-replace": lambda s: s.encode("gbk", errors="replace").decode("gbk"),
    "strip-Mn": lambda s: "".join(c for c in s if unicodedata.category(c) != "Mn"),
    "strip-non-bmp": lambda s: "".join(c for c in s if ord(c) <= 0xFFFF),
}


@pytest.mark.parametrize("how", sorted(DESTROYERS))
def test_destroyed_as_documented(marked, how: str) -> None:
    _, m = marked
    assert not read_mark(DESTROYERS[how](m)).found


def test_gbk_strict_cannot_encode(marked) -> None:
    _, m = marked
    with pytest.raises(UnicodeEncodeError):
        m.encode("gbk")
    assert any("GBK" in d for d in DESTROYED_BY)


def test_any_200_char_excerpt_decodes(marked) -> None:
    _, m = marked
    vis = _visible(m)
    rng = random.Random(7)
    for _ in range(60):
        k = rng.randrange(0, len(vis) - 200)
        excerpt = m[vis[k] : vis[k + 199] + 1]  # exactly 200 visible characters
        ev = read_mark(excerpt)
        assert ev.payload == PAYLOAD, (k, ev.to_json())


def test_no_false_decode_on_random_text() -> None:
    rng = random.Random(11)
    pool = (
        [chr(c) for c in range(0x4E00, 0x4E00 + 300)]
        + list("abcdefghijklmnopqrstuvwxyz ABCDEF.,;:!?，。、；：！？ \n")
        + ["葛\U000e0100", "邊\U000e0101", "\u200b", "\u200d", "\ufe0f", "👩\u200d💻", "e\u0301"]
    )
    for _ in range(500):
        text = "".join(rng.choice(pool) for _ in range(rng.randrange(50, 400)))
        ev = read_mark(text)
        assert not ev.found and ev.invalid == 0
    noise = "".join(
        chr(0xE01EF if i % 10 == 0 else rng.randrange(0xE0100, 0xE01EF)) for i in range(400)
    )
    assert read_mark(noise).copies <= 1  # CRC-16: 40 random frames, expected 0.0006 passes


def test_real_ivs_kept_by_strip() -> None:
    text = "葛\U000e0100城市，很好。" * 20
    m = mark_text(text, PAYLOAD)
    assert read_mark(m).found
    assert strip_mark(m) == text


def test_remark_replaces_and_mixed_reported() -> None:
    other = Payload.for_label("other", "x")
    twice = mark_text(mark_text(EN, PAYLOAD), other)
    ev = read_mark(twice)
    assert ev.payload == other and not ev.others
    mixed = mark_text(EN, PAYLOAD) + mark_text(EN, other)[:400]
    assert read_mark(mixed).others == {other.hex(): read_mark(mixed[len(EN) + 80 :]).copies}


def test_cut_frame_counted_partial() -> None:
    m = mark_text(EN, PAYLOAD)
    first = m.index(SYNC)
    ev = read_mark(m[first + 3 : first + 200])
    assert ev.partial >= 1


def test_safe_positions_keep_markdown_and_code() -> None:
    markdown_it = pytest.importorskip("markdown_it")
    md = markdown_it.MarkdownIt("commonmark").enable("table")
    doc = (
        "# Title here\n\nSome text with `inline code span` and a [link text](http://x.example/a "
        '"title") plus https://example.com/path?q=1 and mail me@example.com now.\n\n'
        "```python\nx = a if b else c\n```\n\n    indented code block\n\n"
        "| col a | col b |\n|-------|-------|\n| one two | three four |\n\n"
        "- item one here\n- item two here\n\n[ref label]: http://x.example/ref 'T'\n\n"
        '<div class="x" id="y">html block</div>\n\n中文段落，测试标点。结束！\n'
    ) * 3
    m = mark_text(doc, PAYLOAD, spacing=1)  # a frame at every safe position
    assert m.count(SYNC) > 30
    assert strip_mark(md.render(m)) == md.render(doc)
    for protected in (
        "`inline code span`",
        "http://x.example/a",
        "me@example.com",
        "[ref label]",
        "x = a if b else c",
        "    indented code block",
        'class="x" id="y"',
    ):
        assert protected in m
    for i, c in enumerate(m):
        if c == SYNC:
            prev = m[i - 1]
            assert not ("\u4e00" <= prev <= "\u9fff")  # never after an ideograph (IVS)
            nxt = m[i + 10] if i + 10 < len(m) else "\n"
            assert unicodedata.category(nxt)[0] != "M" and nxt != "\u200d"


def test_frame_shape() -> None:
    frame = encode_frame(LABEL)
    assert len(frame) == 10 and frame[0] == SYNC
    assert all(0xE0100 <= ord(c) <= 0xE01EF for c in frame)
    assert all(unicodedata.category(c) == "Mn" for c in frame)
    assert unicodedata.normalize("NFKC", frame) == frame
