"""Markdown carrier: YAML front matter re-read with PyYAML, the rest compared byte for byte."""

from __future__ import annotations

import json

import pytest
import yaml

from aigc_tag.carriers import markdown, sniff
from aigc_tag.errors import AigcTagError, CorruptContainer, UnsupportedFormat
from aigc_tag.label import AIGCLabel
from aigc_tag.visible.wording import has_both_elements

CARRIER = markdown.CARRIER
LABEL = AIGCLabel.for_producer("001191110102MACQD9K64010000", "md-test-1").to_json()
OLD = AIGCLabel.for_producer("001191440300708461136T1XGW3", "old-1").to_json()
FRONT = (
    "---\n"
    'title: "Notes: a test"   # keep this comment\n'
    "tags: [a, b]\n"
    "nested:\n"
    "  deep: {x: 1}\n"
    "aigc:\n"
    "  Label: '0'\n"
    "---\n"
)
BODY = "# Heading\n\nSome *text*.\n\n<!-- AIGC " + OLD + " -->\n\n- item\n"


def fields(label_json: str) -> dict:
    return json.loads(label_json)["AIGC"]


def front(data: bytes) -> dict:
    text = data.decode()
    assert text.startswith("---\n")
    return yaml.safe_load(text[4 : text.index("\n---\n", 3)])


def test_sniff_needs_front_matter():
    assert CARRIER.accept(b"---\ntitle: x\n")
    assert CARRIER.accept(b"\xef\xbb\xbf---\r\nx: 1\r\n")
    assert not CARRIER.accept(b"# just markdown\n")
    assert not CARRIER.accept(b"----\n")
    assert sniff(b"---\ntitle: x\n---\n") is CARRIER


def test_merge_keeps_other_keys_and_body_bytes():
    src = (FRONT + BODY).encode()
    out = CARRIER.write_label(src, LABEL, {"Caption": "suffix"})
    meta = front(out)
    assert meta["AIGC"] == fields(LABEL)
    assert meta["title"] == "Notes: a test" and meta["nested"] == {"deep": {"x": 1}}
    assert "aigc" not in meta  # the secondary lower-case copy is gone
    assert meta["aigctag"] == {"Caption": "suffix"}
    text = out.decode()
    # other front-matter lines are kept verbatim, the body too (minus the label comment)
    for line in FRONT.splitlines()[:5]:
        assert line + "\n" in text
    assert text.endswith("# Heading\n\nSome *text*.\n\n\n- item\n")
    found = CARRIER.read_labels(out)
    assert [(f.key, f.normative) for f in found] == [("AIGC", True)]
    assert found[0].parsed.label() is not None
    assert CARRIER.read_extras(out) == {"Caption": "suffix"}


def test_secondary_places_are_read():
    found = CARRIER.read_labels((FRONT + BODY).encode())
    assert [(f.carrier, f.normative) for f in found] == [
        ("front-matter", False),
        ("html-comment", False),
    ]
    assert found[1].parsed.fields["ProduceID"] == "old-1"


def test_retag_replaces_in_place():
    once = CARRIER.write_label(FRONT.encode() + b"body\n", OLD)
    twice = CARRIER.write_label(once, LABEL)
    assert twice.decode().count("AIGC:") == 1
    assert front(twice)["AIGC"] == fields(LABEL)
    assert len(CARRIER.read_labels(twice)) == 1
    assert CARRIER.write_label(twice, LABEL) == twice


def test_file_without_front_matter_gets_one_crlf_and_bom_kept():
    src = "\ufeff# Title\r\n\r\ntext\r\n".encode()
    out = CARRIER.write_label(src, LABEL)
    assert out.startswith(b"\xef\xbb\xbf---\r\nAIGC:\r\n")
    assert out.endswith(b"---\r\n# Title\r\n\r\ntext\r\n")
    assert sniff(out[:64]) is CARRIER
    assert CARRIER.read_labels(out)[0].parsed.fields == fields(LABEL)


def test_quotes_survive():
    label = AIGCLabel.for_producer("001191110102MACQD9K64010000", "it's: #1").to_json()
    out = CARRIER.write_label(b"no front matter\n", label)
    assert front(out)["AIGC"]["ProduceID"] == "it's: #1"


def test_visible_label_paragraphs():
    src = CARRIER.write_label((FRONT + "Body text.\n").encode(), LABEL)
    out = CARRIER.add_visible(src, "bilingual", "both")
    text = out.decode()
    assert text.endswith("---\nAI生成 / AI-generated\n\nBody text.\n\nAI生成 / AI-generated\n")
    assert CARRIER.add_visible(out, "bilingual", "both") == out  # idempotent
    visible = CARRIER.read_visible(out)
    assert has_both_elements(visible.splitlines()[0]) and has_both_elements(
        visible.splitlines()[-1]
    )
    assert front(out)["AIGC"] == fields(LABEL)
    with pytest.raises(AigcTagError):
        CARRIER.add_visible(src, "生成失败", "suffix")


@pytest.mark.parametrize(
    ("doc", "error"),
    [
        (b"---\ntitle: x\nno closing fence\n", CorruptContainer),
        (b"---\na: [unclosed\n---\n", CorruptContainer),
        (b"---\n- a list\n---\n", CorruptContainer),
        (b"---\ntitle: \xff\xfe\n---\n", UnsupportedFormat),
    ],
)
def test_bad_input_clear_errors(doc, error):
    with pytest.raises(error, match="Markdown"):
        CARRIER.read_labels(doc)
    with pytest.raises(error, match="Markdown"):
        CARRIER.write_label(doc, LABEL)


def test_billion_laughs_refused():
    bomb = "---\na: &a [x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 12):
        bomb += f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 9) + "]\n"
    bomb += "---\n"
    with pytest.raises(CorruptContainer, match="aliases"):
        CARRIER.read_labels(bomb.encode())
