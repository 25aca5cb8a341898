"""HTML carrier: label meta read back by exiftool and the stdlib parser; other bytes unchanged."""

from __future__ import annotations

import json

import pytest
from conftest import exiftool_json

from aigc_tag.carriers import html, sniff
from aigc_tag.errors import AigcTagError, UnsupportedFormat
from aigc_tag.label import AIGCLabel
from aigc_tag.visible.wording import has_both_elements

CARRIER = html.CARRIER
LABEL = AIGCLabel.for_producer("001191110102MACQD9K64010000", 'h&"t<1>生成').to_json()
OLD = AIGCLabel.for_producer("001191440300708461136T1XGW3", "old-1").to_json()
DOC = f"""<!DOCTYPE html>
<html lang="zh">
<head>
  <meta charset="utf-8">
  <title>标题</title>
  <meta property="aigc:label" content='{OLD}'>
</head>
<body>
<h1>Hi</h1>
<script>var s = "<meta name='AIGC' content='not a tag'>";</script>
<p>text</p>
</body>
</html>
"""


def fields(label_json: str) -> dict:
    return json.loads(label_json)["AIGC"]


@pytest.mark.parametrize(
    "head",
    [
        b"<!DOCTYPE html>\n<html>",
        b"\xef\xbb\xbf  <!-- c -->\n<HTML lang=en>",
        b"<head><title>",
        b"<!doctype HTML>",
        b'<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns=',
    ],
)
def test_sniff(head):
    assert CARRIER.accept(head)
    assert sniff(head) is CARRIER


def test_sniff_rejects_other_text():
    assert not CARRIER.accept(b"<?xml version='1.0'?><svg>")
    assert not CARRIER.accept(b"<htmlx>")
    assert not CARRIER.accept(b"# markdown <html>")


def test_write_read_with_exiftool(tmp_path):
    out = CARRIER.write_label(DOC.encode(), LABEL, {"Caption": "suffix"})
    found = CARRIER.read_labels(out)
    assert [(f.key, f.normative) for f in found] == [("AIGC", True)]
    assert found[0].parsed.fields == fields(LABEL)
    assert CARRIER.read_extras(out) == {"Caption": "suffix"}
    path = tmp_path / "t.html"
    path.write_bytes(out)
    record = exiftool_json(path, "-HTML:all")
    assert json.loads(record["HTML:AIGC"]) == json.loads(LABEL)
    # only the secondary meta line changed; the rest is byte for byte, script untouched
    src_lines = DOC.splitlines(keepends=True)
    out_text = out.decode()
    for line in src_lines:
        if "aigc:label" not in line:
            assert line in out_text
    assert out_text.index('<meta name="AIGC"') < out_text.index("</head>")
    assert "not a tag" in out_text


def test_secondary_meta_read_and_retag_idempotent():
    found = CARRIER.read_labels(DOC.encode())
    assert [(f.key, f.normative) for f in found] == [("aigc:label", False)]
    assert found[0].parsed.fields["ProduceID"] == "old-1"
    once = CARRIER.write_label(DOC.encode(), OLD, {"Caption": "a"})
    twice = CARRIER.write_label(once, LABEL, {"Caption": "a"})
    assert twice.count(b'name="AIGC"') == 1 and twice.count(b"aigctag:Caption") == 1
    assert CARRIER.read_labels(twice)[0].parsed.fields == fields(LABEL)
    assert CARRIER.write_label(twice, LABEL, {"Caption": "a"}) == twice


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        (b"<html><body>x</body></html>", b"<html>\n<head><meta"),
        (b"<!doctype html><p>x", b"<!doctype html>\n<head><meta"),
        (b"<html><head><title>t</title><body>x", b"<html><head>\n<meta"),
    ],
)
def test_head_created_or_used(doc, where):
    out = CARRIER.write_label(doc, LABEL)
    assert out.startswith(where)
    assert CARRIER.read_labels(out)[0].normative


def test_legacy_encoding_kept():
    doc = '<html><head><meta charset="gbk"><title>中文</title></head><body>正文</body></html>'
    out = CARRIER.write_label(doc.encode("gbk"), LABEL)
    assert out.startswith(doc.encode("gbk")[:40])
    assert "正文".encode("gbk") in out
    assert CARRIER.read_labels(out)[0].parsed.fields == fields(LABEL)


def test_visible_paragraphs():
    out = CARRIER.add_visible(DOC.encode(), "bilingual", "both")
    text = out.decode()
    assert '<body>\n<p class="aigc-label">AI生成 / AI-generated</p>' in text
    assert '<p class="aigc-label">AI生成 / AI-generated</p>\n</body>' in text
    assert CARRIER.add_visible(out, "bilingual", "both") == out
    visible = CARRIER.read_visible(out).splitlines()
    assert has_both_elements(visible[0]) and has_both_elements(visible[-1])
    assert "标题" not in visible and "not a tag" not in " ".join(visible)
    with pytest.raises(AigcTagError):
        CARRIER.add_visible(DOC.encode(), "AI", "suffix")


def test_c2pa_detected():
    assert not CARRIER.has_c2pa(DOC.encode())
    doc = DOC.replace("</head>", '<script type="application/c2pa">AAAA</script></head>')
    assert CARRIER.has_c2pa(doc.encode())


def test_bad_bytes_clear_error():
    with pytest.raises(UnsupportedFormat, match="HTML: not valid utf-8"):
        CARRIER.read_labels(b"<html><body>\xff\xfe\xfa</body></html>")
