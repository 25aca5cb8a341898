"""Tagging and verifying text and documents end to end (Tagger, verify, CLI).

External readers: python-docx, openpyxl, pikepdf and exiftool open the outputs; the encodings
and line endings of text files are checked on the bytes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aigc_tag import Tagger, verify, verify_bytes
from aigc_tag.errors import AigcTagError
from aigc_tag.label import AIGCLabel
from aigc_tag.text import read_mark
from tests.conftest import PRODUCER

ANSWER = (
    "巴黎是法国的首都。它以埃菲尔铁塔和卢浮宫闻名，每年吸引来自世界各地的游客。"
    "这座城市有着悠久的历史和丰富的文化，塞纳河穿城而过，沿岸有许多著名的建筑和博物馆。"
)
LABEL = "本内容由人工智能生成"


def checks(report) -> dict[str, str]:  # noqa: ANN001
    return {c.id: c.outcome.value for c in report.checks}


def test_utf8_text_gets_suffix_mark_and_sidecar(tmp_path: Path) -> None:
    src = tmp_path / "answer.txt"
    src.write_text(ANSWER + "\n", encoding="utf-8")
    dst = tmp_path / "out" / "answer.txt"
    result = Tagger(PRODUCER, invisible_mark=True, sidecar=True).tag_file(src, dst)
    assert result.layers == ["visible", "invisible-mark", "metadata"]
    text = dst.read_text(encoding="utf-8")
    assert text.rstrip().endswith(LABEL) and text.count(LABEL) == 1
    assert read_mark(text).payload_hex == result.watermark_payload
    side = json.loads((tmp_path / "out" / "answer.txt.aigc.json").read_text(encoding="utf-8"))
    assert side["AIGC"] == AIGCLabel.for_producer(PRODUCER, result.label.ProduceID).as_dict()
    report = verify(dst)
    assert report.verdict.value == "compliant", [c.to_json() for c in report.failed()]
    assert checks(report).items() >= {"X-T1": "pass", "X-T2": "pass", "W-T1": "pass"}.items()

    dst.write_text(text + "edited later\n", encoding="utf-8")
    assert checks(verify(dst))["X-T2"] == "warn"


@pytest.mark.parametrize(
    ("encoding", "newline"), [("gb18030", "\n"), ("utf-16", "\r\n"), ("utf-8-sig", "\r\n")]
)
def test_text_encodings_and_line_endings_are_kept(encoding: str, newline: str) -> None:
    data = (ANSWER + newline + ANSWER + newline).encode(encoding)
    out, result = Tagger(PRODUCER).tag_bytes(data, name="a.txt")
    assert result.layers == ["visible"] and result.warnings  # no sidecar asked: said so
    text = out.decode(encoding)
    assert text.rstrip().endswith(LABEL)
    assert text.count("\r\n") == (text.count("\n") if newline == "\r\n" else 0)
    assert out.startswith(data[:2])  # the BOM (UTF-16, UTF-8-sig) is still first


def test_markdown_front_matter_is_merged_and_prefix_follows_it(tmp_path: Path) -> None:
    import yaml

    md = "---\ntitle: Report\ntags: [a, b]\n---\n\n# Heading\n\n" + ANSWER + "\n"
    src = tmp_path / "r.md"
    src.write_text(md, encoding="utf-8")
    Tagger(PRODUCER, text_at="both").tag_file(src, tmp_path / "o.md")
    out = (tmp_path / "o.md").read_text(encoding="utf-8")
    front = yaml.safe_load(out.split("---\n")[1])
    assert front["title"] == "Report" and front["tags"] == ["a", "b"]
    assert front["AIGC"]["ContentProducer"] == PRODUCER
    body = out.split("---\n", 2)[2]
    assert body.lstrip().startswith(LABEL) and body.rstrip().endswith(LABEL)
    report = verify(tmp_path / "o.md")
    assert report.verdict.value == "compliant" and checks(report)["X-T1"] == "pass"


def test_docx_xlsx_html_pdf(tmp_path: Path) -> None:
    import docx
    import openpyxl
    import pikepdf

    doc = docx.Document()
    doc.add_paragraph(ANSWER)
    doc.core_properties.author = "writer"
    doc.save(tmp_path / "a.docx")
    book = openpyxl.Workbook()
    book.active["A1"] = "cell"
    book.save(tmp_path / "b.xlsx")
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Title"] = "Doc"
    pdf.save(tmp_path / "c.pdf")
    page = "<!doctype html><html><head><title>t</title></head><body><p>{}</p></body></html>"
    (tmp_path / "d.html").write_text(page.format(ANSWER), encoding="utf-8")
    tagger = Tagger(PRODUCER)
    out = tmp_path / "out"
    results = {p.name: tagger.tag_file(p, out / p.name) for p in sorted(tmp_path.glob("*.*"))}
    assert results["a.docx"].layers == ["visible", "metadata"]
    assert results["b.xlsx"].layers == ["visible", "metadata"]  # XLSX: a note row since issue 21
    assert not results["b.xlsx"].warnings

    opened = docx.Document(out / "a.docx")
    assert opened.paragraphs[-1].text == LABEL and opened.core_properties.author == "writer"
    assert openpyxl.load_workbook(out / "b.xlsx").active["A1"].value == "cell"
    with pikepdf.open(out / "c.pdf") as reopened:
        assert str(reopened.docinfo["/Title"]) == "Doc"
        assert json.loads(str(reopened.docinfo["/AIGC"]))["AIGC"]["ContentProducer"] == PRODUCER
    for name in results:
        report = verify(out / name)
        assert report.verdict.value == "compliant", (name, [c.to_json() for c in report.failed()])
        assert report.media_type == "text"


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool is not installed")
def test_exiftool_reads_document_labels(tmp_path: Path) -> None:
    import pikepdf

    pikepdf.new().save(tmp_path / "x.pdf")
    Tagger(PRODUCER, visible=False).tag_file(tmp_path / "x.pdf", tmp_path / "y.pdf")
    out = subprocess.run(["exiftool", "-j", "-PDF:AIGC", str(tmp_path / "y.pdf")],
                         capture_output=True, check=True).stdout  # fmt: skip
    value = json.loads(out)[0]["AIGC"]
    assert json.loads(value)["AIGC"]["ContentProducer"] == PRODUCER


def test_removed_explicit_label_is_noncompliant_and_unlabelled_text_not_found() -> None:
    out, _ = Tagger(PRODUCER).tag_bytes(("---\nt: 1\n---\n\n" + ANSWER).encode(), name="x.md")
    stripped = out.decode().replace(LABEL, "")
    report = verify_bytes(stripped.encode(), name="x.md")
    assert checks(report)["X-T1"] == "fail" and report.verdict.value == "noncompliant"

    plain = verify_bytes("这个功能生成失败了，请稍后再试。".encode(), name="note.txt")
    assert plain.verdict.value == "not_found" and checks(plain)["X-T1"] == "info"
    assert "生成失败" in next(c.message for c in plain.checks if c.id == "X-T1")


def test_bad_text_inputs_fail_cleanly(tmp_path: Path) -> None:
    src = tmp_path / "broken.txt"
    src.write_bytes(b"\x89\x00\x01binary\xff\x00\xc3")  # neither magic nor any text encoding
    with pytest.raises(AigcTagError, match="broken.txt"):
        Tagger(PRODUCER).tag_file(src, tmp_path / "out.txt")

    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(tmp_path / "locked.pdf", encryption=pikepdf.Encryption(owner="o", user="u"))
    with pytest.raises(AigcTagError, match="locked.pdf"):
        Tagger(PRODUCER).tag_file(tmp_path / "locked.pdf", tmp_path / "out.pdf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.txt", "locked.pdf"]


def test_cli_walk_takes_text_by_extension_only(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "answer.txt").write_text(ANSWER, encoding="utf-8")
    (src / "notes.md").write_text("# Notes\n\n" + ANSWER, encoding="utf-8")
    (src / "script.py").write_text("print('not generated content')\n", encoding="utf-8")
    out = tmp_path / "out"
    res = subprocess.run(
        [sys.executable, "-m", "aigc_tag", "tag", str(src), "-o", str(out), "--producer",
         PRODUCER, "--sidecar", "--invisible-mark", "--text-at", "prefix"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "tagged 2, skipped 1, failed 0" in res.stderr
    assert (out / "answer.txt").read_text(encoding="utf-8").startswith(LABEL)
    assert (out / "answer.txt.aigc.json").exists() and not (out / "script.py").exists()
    res = subprocess.run([sys.executable, "-m", "aigc_tag", "verify", str(out), "--json"],
                         capture_output=True, text=True)  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert {x["format"] for x in lines} == {"txt", "markdown"}
    assert all(x["text_label"]["invisible"]["found"] for x in lines)


def _word_tokenizer_dir(path: Path, vocab: int) -> None:
    """A Hugging Face tokenizer saved to disk (what --tokenizer loads): one word per id."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel({f"w{i}": i for i in range(vocab)}, unk_token="w0"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="w0").save_pretrained(path)


def _sample(n: int, vocab: int, seed: int, key: str | None) -> str:
    """A generation from random logits, through the numpy sampler hook when ``key`` is given."""
    import numpy as np

    from aigc_tag.llm import watermark_logits

    rng = np.random.default_rng(seed)
    ids = [int(rng.integers(vocab))]
    for _ in range(n):
        logits = rng.normal(0, 2.0, vocab)
        if key is not None:
            logits = watermark_logits(logits, np.array(ids), key)
        p = np.exp(logits - logits.max())
        ids.append(int(rng.choice(vocab, p=p / p.sum())))
    return " ".join(f"w{i}" for i in ids[1:])


def test_verify_finds_the_generation_time_watermark(tmp_path: Path) -> None:
    pytest.importorskip("transformers", reason="the llm extra (transformers) is not installed")
    _word_tokenizer_dir(tmp_path / "tok", 500)
    (tmp_path / "key").write_text("service secret", encoding="utf-8")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "marked.txt").write_text(_sample(200, 500, 1, "service secret"))
    (tmp_path / "in" / "plain.txt").write_text(_sample(200, 500, 2, None))
    Tagger(PRODUCER, invisible_mark=True).tag_file(tmp_path / "in" / "marked.txt",
                                                   tmp_path / "marked.txt")  # fmt: skip
    res = subprocess.run(
        [sys.executable, "-m", "aigc_tag", "verify", str(tmp_path / "marked.txt"),
         str(tmp_path / "in" / "plain.txt"), "--json", "--tokenizer", str(tmp_path / "tok"),
         "--watermark-key-file", str(tmp_path / "key")],
        capture_output=True, text=True,
    )  # fmt: skip
    reports = {Path(x["path"]).name: x for x in map(json.loads, res.stdout.splitlines())}
    marked = reports["marked.txt"]["text_label"]["statistical"]
    assert marked["detected"] and marked["z_score"] >= 4, marked
    plain = reports["plain.txt"]["text_label"]["statistical"]
    assert not plain["detected"] and plain["p_value"] > 1e-3
    outcome = {c["id"]: c["outcome"] for c in reports["marked.txt"]["checks"]}
    assert outcome["W-T2"] == "pass"
