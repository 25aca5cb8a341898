"""Explicit text labels (add_label / check_explicit) and text files (decode / sidecar)."""

from __future__ import annotations

import json

import pytest
import yaml

from aigc_tag.errors import InvalidLabel, LimitExceeded
from aigc_tag.label import AIGCLabel
from aigc_tag.text.decode import (
    TextDecodeError,
    decode_text,
    encode_text,
    read_sidecar,
    sidecar_json,
    sidecar_path,
)
from aigc_tag.text.explicit import add_label, check_explicit, resolve_label
from aigc_tag.text.invisible import mark_text
from aigc_tag.watermark.payload import Payload

ZH = "本内容由人工智能生成"
markdown_it = pytest.importorskip("markdown_it")

DOCS = {
    "plain": "Hello world.",
    "trailing-newline": "Hello world.\n",
    "open-fence": "Intro\n\n```python\nprint(1)\n",
    "open-fence-no-nl": "Intro\n\n~~~~\ncode",
    "closed-fence": "```\ncode\n```\n",
    "indented-fence": "1. item\n\n   ```\n   code",
    "table": "| a | b |\n|---|---|\n| 1 | 2 |",
    "list": "- one\n- two\n  continued",
    "quote": "> quoted\n> text",
    "html-div": "<div>\nblock",
    "html-pre": "<pre>\nraw text",
    "html-comment": "text\n<!-- unclosed comment",
    "indented-code": "para\n\n    code line",
    "setext-trap": "Title",
    "crlf": "line one\r\nline two\r\n",
}


def _top_level_paragraphs(md: str) -> list[str]:
    tokens = markdown_it.MarkdownIt("commonmark").enable("table").parse(md)
    out = []
    for i, tok in enumerate(tokens):
        if tok.type == "paragraph_open" and tok.level == 0:
            out.append(tokens[i + 1].content)
    return out


@pytest.mark.parametrize("style", ["plain", "markdown"])
@pytest.mark.parametrize("name", sorted(DOCS))
def test_label_renders_as_own_top_level_paragraph(name: str, style: str) -> None:
    doc = DOCS[name]
    out = add_label(doc, where="both", style=style)
    paras = _top_level_paragraphs(out)
    assert paras, out
    for text in (paras[0], paras[-1]):
        assert text.strip("*") == ZH, (name, out)
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(out)
    assert html.count(ZH) == 2
    if style == "markdown":
        assert f"<em>{ZH}</em>" in html
    # plain-text display: the label is a line of its own
    lines = [ln.strip() for ln in out.splitlines()]
    assert lines[0].strip("*") == ZH and lines[-1].strip("*") == ZH
    assert check_explicit(out).position == "both"


@pytest.mark.parametrize("name", sorted(DOCS))
@pytest.mark.parametrize("where", ["suffix", "prefix", "both"])
def test_idempotent(name: str, where: str) -> None:
    once = add_label(DOCS[name], where=where)
    assert add_label(once, where=where) == once
    assert add_label(once, where=where, wording="bilingual").count(ZH) == once.count(ZH)


def test_defaults_and_presets() -> None:
    assert add_label("答案") == f"答案\n\n{ZH}"
    assert add_label("答案", where="prefix") == f"{ZH}\n\n答案"
    assert add_label("x", wording="bilingual").endswith("本内容由人工智能生成 / AI-generated")
    assert add_label("x", wording="（本文由AI生成）").endswith("（本文由AI生成）")
    relabelled = add_label(add_label("x"), wording="bilingual", replace=True)
    assert relabelled == "x\n\n本内容由人工智能生成 / AI-generated"


@pytest.mark.parametrize(
    "bad", ["智枢生成", "AI制作", "本内容由机器写作", "生成失败", "非AI生成", "ai"]
)
def test_invalid_wording(bad: str) -> None:
    with pytest.raises(InvalidLabel):
        add_label("x", wording=bad)


def test_bad_options() -> None:
    with pytest.raises(ValueError):
        add_label("x", where="middle")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        add_label("x", style="html")  # type: ignore[arg-type]
    assert resolve_label(None) == ZH


def test_crlf_kept() -> None:
    out = add_label("a\r\nb\r\n", where="both")
    assert "\n" not in out.replace("\r\n", "")


def test_prefix_after_front_matter() -> None:
    doc = "---\ntitle: Report\ntags: [a, b]\n---\n# Heading\n\nBody."
    out = add_label(doc, where="prefix")
    assert out.startswith("---\ntitle: Report")
    fm = out.split("---\n")[1]
    assert yaml.safe_load(fm) == {"title": "Report", "tags": ["a", "b"]}
    body = out.split("---\n", 2)[2]
    assert body.startswith(ZH + "\n\n# Heading")
    assert check_explicit(out).position == "start"
    toml = "+++\ntitle = 'x'\n+++\nBody"
    assert add_label(toml, where="prefix").startswith("+++\ntitle = 'x'\n+++\n" + ZH)


FILLER = "这是一段普通的回答内容，用于测试窗口的范围。" * 20  # 440 visible characters


@pytest.mark.parametrize(
    ("text", "position"),
    [
        (f"{ZH}\n\n{FILLER}", "start"),
        (f"{FILLER}\n\n{ZH}", "end"),
        (f"{ZH}\n{FILLER}\n{ZH}", "both"),
        (f"{FILLER}\n\n**ＡＩ生成**", "end"),
        (f"{FILLER}\n\n> *本内容由 ai 生成*", "end"),
        (f"{FILLER}\n\n[本内容由人工智能生成](https://x.example)", "end"),
        (f"{FILLER}\n\n<p>本内容由人工智能<b>生成</b></p>", "end"),
        (f"{FILLER}\n\n本内容由人工\u200b智能生成", "end"),
        (f"{FILLER}\n\n{ZH}" + " " * 3 + "\n\n\n", "end"),
    ],
)
def test_check_finds_label(text: str, position: str) -> None:
    ev = check_explicit(text)
    assert ev.found and ev.position == position, ev.to_json()
    json.dumps(ev.to_json(), ensure_ascii=False)


@pytest.mark.parametrize(
    "text",
    [
        FILLER,
        f"{FILLER[:220]}\n\n{ZH}\n\n{FILLER[:220]}",  # middle only
        f"{FILLER}\n\n图片生成失败，请稍后重试",
        f"{FILLER}\n\n推荐一款AI生成器",
        f"AI-generated images are banned here.\n{FILLER}",
        f"{FILLER}\n\nAI很有用。我们生成了报告",  # elements in different sentences
        f"{FILLER}\n\n本内容并非AI生成",
        f"{FILLER}\n\npaid content, said generated",
    ],
)
def test_check_rejects_false_hits(text: str) -> None:
    ev = check_explicit(text)
    assert not ev.found, ev.to_json()


def test_check_reports_middle_and_near_miss() -> None:
    ev = check_explicit(f"{FILLER[:220]}\n\n{ZH}\n\n{FILLER[:220]}\n\n生成失败")
    assert ev.middle and ev.middle[0]["text"] == ZH
    assert ev.near_misses[0]["window"] == "end" and "失败" in ev.near_misses[0]["problem"]


def test_check_survives_invisible_mark() -> None:
    text = mark_text(add_label(FILLER, where="both"), Payload.for_label("p", "id"), spacing=1)
    assert check_explicit(text).position == "both"


# --- text files -------------------------------------------------------------------------

SAMPLE = "第一行：人工智能。\r\nsecond line\r\n"


@pytest.mark.parametrize(
    ("data", "encoding", "bom"),
    [
        (SAMPLE.encode("utf-8"), "utf-8", False),
        (b"\xef\xbb\xbf" + SAMPLE.encode("utf-8"), "utf-8", True),
        (b"\xff\xfe" + SAMPLE.encode("utf-16-le"), "utf-16-le", True),
        (b"\xfe\xff" + SAMPLE.encode("utf-16-be"), "utf-16-be", True),
        (SAMPLE.encode("gbk"), "gbk", False),
        ("生僻字𠀀，测试。\n".encode("gb18030"), "gb18030", False),
    ],
)
def test_decode_round_trip(data: bytes, encoding: str, bom: bool) -> None:
    d = decode_text(data, "a.txt")
    assert (d.encoding, d.bom) == (encoding, bom)
    assert encode_text(d, d.text) == data
    labelled = encode_text(d, add_label(d.text))
    back = decode_text(labelled, "a.txt")
    assert back.encoding == encoding and check_explicit(back.text).found
    if d.newline == "\r\n":
        assert back.newline == "\r\n"
    if encoding in ("gbk", "gb18030"):
        assert "guess" in d.note


def test_lf_label_in_crlf_file_gets_crlf() -> None:
    d = decode_text(b"a\r\nb\r\n", "a.txt")
    assert encode_text(d, d.text + "c\n") == b"a\r\nb\r\nc\r\n"


@pytest.mark.parametrize(
    "data",
    [b"\xff\xfd\x80abc", "café au lait".encode("latin-1"), b"ab\x00cd", b"\xef\xbb\xbf\xff\xfe"],
)
def test_undecodable_names_file(data: bytes) -> None:
    with pytest.raises(TextDecodeError, match="bad.txt"):
        decode_text(data, "bad.txt")


def test_size_limit_and_unencodable() -> None:
    with pytest.raises(LimitExceeded, match="big.txt"):
        decode_text(b"x" * 101, "big.txt", max_bytes=100)
    d = decode_text("中文内容测试。".encode("gbk"), "g.txt")
    marked = mark_text("中文内容测试。好的", Payload.for_label("p", "i"))
    with pytest.raises(TextDecodeError, match="g.txt.*gbk cannot encode U\\+E01"):
        encode_text(d, marked)


def test_sidecar(tmp_path) -> None:
    target = tmp_path / "answer.txt"
    data = add_label("答案").encode()
    target.write_bytes(data)
    label = AIGCLabel.for_producer("001234567890123456789012345", "id-1")
    assert sidecar_path(target).name == "answer.txt.aigc.json"
    sidecar_path(target).write_text(sidecar_json(label, name=target.name, data=data), "utf-8")
    ev = read_sidecar(target)
    assert ev.found and ev.hash_ok and ev.error is None
    assert ev.fields == label.as_dict()
    assert read_sidecar(sidecar_path(target)).hash_ok
    target.write_bytes(data + b"edited")
    ev = read_sidecar(target)
    assert ev.found and not ev.hash_ok
    assert not read_sidecar(tmp_path / "none.txt").found
    sidecar_path(target).write_text("{not json", "utf-8")
    assert read_sidecar(target).error
