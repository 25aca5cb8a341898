"""Batch reports for people: one self-contained HTML page and one CSV table per run.

Renderers read only :class:`~aigc_tag.verify.report.Report` objects. Everything that comes from a
file (names, label values, messages quoting them) is hostile input: the HTML escapes every string
with :func:`html.escape` (quotes included) and uses no script at all; the CSV neutralises cells a
spreadsheet would run as a formula. The page has no external CSS, JS, fonts or images.
"""

from __future__ import annotations

import base64
import csv
import html
import io
from collections.abc import Iterable
from pathlib import Path

from ..fileio import printable, text_path
from .report import Outcome, Report

__all__ = ["CSV_COLUMNS", "render_csv", "render_html", "thumbnail"]

THUMB_PX = 96

#: Check titles in Chinese (the English question is in ``CHECKS``).
ZH_TITLES = {
    "M01": "容器可识别且结构完好",
    "M02": "已扫描全部标识位置",
    "M03": "含有AIGC元数据隐式标识",
    "M04": "标识值为JSON且无重复键",
    "M05": "字段名含“AIGC”",
    "M06": "七个要素齐全、大小写正确",
    "M07": "Label为字符串“1”“2”“3”之一",
    "M08": "取值符合附录E j)字符集",
    "M09": "文件中仅有一个标识",
    "M10": "服务提供者编码符合PG-20252A",
    "M11": "首次写入时传播要素等于生成要素",
    "M12": "Label为2或3时已填写传播要素",
    "X-I1": "图片显式标识文字存在",
    "X-I2": "图片显式标识位于边或角",
    "X-I3": "文字高度不低于最短边的5%",
    "X-I4": "显式标识清晰可辨",
    "X-A1": "音频含显式标识（语音或节奏）",
    "X-A2": "音频显式标识位置",
    "X-T1": "文本起始或末尾含显式标识",
    "X-T2": "纯文本旁注标识与文件一致",
    "W-T1": "文本隐形水印",
    "W-T2": "生成时统计水印",
    "W01": "隐式水印",
    "W02": "水印与元数据标识一致",
    "C01": "C2PA清单完整且签名者可信",
    "C02": "C2PA声明AI生成",
    "K01": "C2PA与其他元数据一致（AI或拍摄）",
    "K02": "IPTC数字来源类型与AIGC标识一致",
    "K03": "C2PA/IPTC声明AI时亦有国标标识",
}
VERDICT_ZH = {
    "compliant": "合规",
    "noncompliant": "不合规",
    "not_found": "未发现标识",
    "inconclusive": "无法判定",
}
OUTCOME_ZH = {
    "pass": "通过",
    "fail": "不通过",
    "warn": "警告",
    "info": "信息",
    "skip": "跳过",
    "error": "错误",
}
_ICONS = {"audio": "♪", "video": "▶", "text": "¶"}

_CSS = """
body{font:14px/1.45 system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5em;
color:#222}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:4px 6px;
vertical-align:top;text-align:left}th{background:#f2f2f2}
.thumb{width:96px;text-align:center}.thumb img{max-width:96px;max-height:96px}
.icon{font-size:40px;color:#888}
.v{font-weight:bold;padding:2px 6px;border-radius:3px;color:#fff;white-space:nowrap}
.v-compliant{background:#2e7d32}.v-noncompliant{background:#c62828}
.v-not_found{background:#ef8f00}.v-inconclusive{background:#6a1b9a}
.o-fail,.o-error{color:#c62828;font-weight:bold}.o-warn{color:#b26a00}.o-pass{color:#2e7d32}
.o-skip,.o-info{color:#666}
.path{word-break:break-all;font-family:monospace}
table.files{table-layout:fixed}table.files>tbody>tr>td{overflow-wrap:anywhere}
.checks{table-layout:auto}.checks td{overflow-wrap:anywhere}
details>summary{cursor:pointer}
.checks td{font-size:12px}
.lang{margin-bottom:1em}
#l-en:checked~main .zh,#l-zh:checked~main .en{display:none}
.zh::before{content:" "}
"""


#: Text that encodes as UTF-8 and shows what it holds (non-UTF-8 name bytes, lone surrogates
#: and control characters escaped): :func:`aigc_tag.fileio.printable`.
_plain = printable


def _e(value: object) -> str:
    """Escape anything for HTML text and attribute values (quotes too)."""
    return html.escape(_plain(value), quote=True)


def _both(en: str, zh: str, tag: str = "span") -> str:
    return f'<{tag} class="en">{_e(en)}</{tag}><{tag} class="zh">{_e(zh)}</{tag}>'


def thumbnail(path: str | Path, media_type: str | None) -> str | None:
    """A small JPEG ``data:`` URI: images downscaled, video its first frame (ffmpeg), else None.

    Never raises: a preview that cannot be made is simply left out."""
    try:
        if media_type == "image":
            data = Path(path).read_bytes()
        elif media_type == "video":
            from ..ffmpeg import run

            data = run(
                "ffmpeg",
                ["-i", str(path), "-frames:v", "1", "-vf", f"scale={THUMB_PX}:-2", "-f",
                 "image2pipe", "-vcodec", "mjpeg", "-"],  # fmt: skip
                timeout=20,
            )
        else:
            return None
        from PIL import Image

        from ..imaging import check_budget

        with Image.open(io.BytesIO(data)) as im:
            check_budget(*im.size)  # the thumbnail never costs more than the verify may
            im.draft("RGB", (THUMB_PX * 2, THUMB_PX * 2))
            small = im.convert("RGB")
            small.thumbnail((THUMB_PX, THUMB_PX))
            buf = io.BytesIO()
            small.save(buf, "JPEG", quality=70)
    except Exception:  # noqa: BLE001 - a missing preview never fails a report
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _label_cell(report: Report) -> str:
    label = report.metadata_label
    if not label:
        return _both("no metadata label", "无元数据标识")
    rows = [
        f"Label={_e(label.get('Label'))}",
        f"ContentProducer={_e(label.get('ContentProducer'))}",
        f"ProduceID={_e(label.get('ProduceID'))}",
        f"ContentPropagator={_e(label.get('ContentPropagator'))}",
        f"PropagateID={_e(label.get('PropagateID'))}",
        f"@ {_e(label.get('carrier'))}",
    ]
    return "<br>".join(rows)


def _layers_cell(report: Report) -> str:
    out = []
    mark = report.watermark or {}
    if mark.get("payload"):
        out.append(f"{_both('watermark', '水印')}: {_e(mark['payload'].get('hex'))}")
    c2pa = report.c2pa
    if c2pa and c2pa.get("present"):
        state = "remote (not fetched)" if c2pa.get("remote") else c2pa.get("state")
        failures = ", ".join(c2pa.get("failures") or [])
        out.append(
            f"C2PA: {_e(state)} / {_e(c2pa.get('trust'))}"
            + (f" [{_e(failures)}]" if failures else "")
            + f"; AI: {_e(c2pa.get('ai_declared'))}; {_e(c2pa.get('signer'))}"
        )
    elif c2pa is not None and (c2pa.get("error") or c2pa.get("state") == "Error"):
        out.append(f"C2PA: {_both('cannot check', '无法检查')}: {_e(c2pa.get('error'))}")
    elif c2pa is not None and c2pa.get("stripped"):
        out.append(f"C2PA: {_both('absent; a manifest was stripped', '无（清单已被剥离）')}")
    elif c2pa is not None:
        out.append(f"C2PA: {_both('absent', '无')}")
    evidence = report.evidence or {}
    for uri in evidence.get("iptc_digital_source_type") or []:
        out.append(f"IPTC: {_e(uri)}")
    for hit in evidence.get("generators") or []:
        out.append(f"{_both('evidence', '线索')}: {_e(hit.get('name'))} ({_e(hit.get('source'))})")
    for code in evidence.get("producer_codes") or []:
        out.append(f"{_both('producer code', '服务提供者编码')}: {_e(code.get('vendor'))}")
    return "<br>".join(out) or "–"


def _checks_table(report: Report) -> str:
    if report.error:
        return f'<span class="o-error">{_e(report.error)}</span>'
    from .checks import CHECKS

    bad = [c for c in report.checks if c.outcome in (Outcome.FAIL, Outcome.ERROR, Outcome.WARN)]
    summary = ", ".join(f"{c.id} {c.outcome.value}" for c in bad) or "ok"
    rows = []
    for c in report.checks:
        spec = CHECKS.get(c.id)
        question = _both(spec.question if spec else c.id, ZH_TITLES.get(c.id, ""))
        outcome = _both(c.outcome.value, OUTCOME_ZH.get(c.outcome.value, c.outcome.value))
        rows.append(
            f'<tr><td>{_e(c.id)}</td><td class="o-{_e(c.outcome.value)}">{outcome}</td>'
            f"<td>{_e(c.clause)}</td><td>{question}</td><td>{_e(c.message)}</td></tr>"
        )
    head = (
        f"<tr><th>ID</th><th>{_both('outcome', '结果')}</th><th>{_both('clause', '条款')}</th>"
        f"<th>{_both('question', '检查项')}</th><th>{_both('evidence', '依据')}</th></tr>"
    )
    open_attr = " open" if bad else ""
    return (
        f"<details{open_attr}><summary>{len(report.checks)} "
        f"{_both('checks', '项检查')}: {_e(summary)}</summary>"
        f'<table class="checks">{head}{"".join(rows)}</table></details>'
    )


def _row(report: Report) -> str:
    if report.thumbnail and report.thumbnail.startswith("data:image/jpeg;base64,"):
        thumb = f'<img alt="" src="{_e(report.thumbnail)}">'
    else:
        thumb = f'<span class="icon">{_e(_ICONS.get(report.media_type or "", "?"))}</span>'
    verdict = report.verdict.value if not report.error else "inconclusive"
    verdict_cell = (
        f'<span class="v v-{_e(verdict)}">'
        f"{_both(verdict if not report.error else 'I/O error', VERDICT_ZH.get(verdict, ''))}"
        "</span>"
    )
    return (
        f'<tr><td class="thumb">{thumb}</td>'
        f'<td><div class="path">{_e(report.path)}</div>{_e(report.media_type)} / '
        f"{_e(report.format)}</td><td>{verdict_cell}</td><td>{_label_cell(report)}</td>"
        f"<td>{_layers_cell(report)}</td><td>{_checks_table(report)}</td></tr>"
    )


def render_html(reports: Iterable[Report], *, title: str = "aigc-tag verify") -> str:
    """One self-contained page for a batch: a row per file, every check with its clause."""
    reports = list(reports)
    counts: dict[str, int] = {}
    for r in reports:
        key = "inconclusive" if r.error else r.verdict.value
        counts[key] = counts.get(key, 0) + 1
    summary = " · ".join(
        f'<span class="v v-{_e(k)}">{_both(k, VERDICT_ZH.get(k, k))}</span> {n}'
        for k, n in sorted(counts.items())
    )
    head = (
        f"<tr><th>{_both('preview', '预览')}</th><th>{_both('file', '文件')}</th>"
        f"<th>{_both('verdict', '结论')}</th><th>{_both('metadata label', '元数据标识')}</th>"
        f"<th>{_both('watermark / C2PA / evidence', '水印 / C2PA / 线索')}</th>"
        f"<th>{_both('checks', '检查')}</th></tr>"
    )
    rows = "".join(_row(r) for r in reports)
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        '<input type="radio" name="lang" id="l-both" checked><label for="l-both">中文 + English'
        '</label> <input type="radio" name="lang" id="l-zh"><label for="l-zh">中文</label> '
        '<input type="radio" name="lang" id="l-en"><label for="l-en">English</label>'
        f"<main><h1>{_e(title)}</h1>"
        f"<p>{len(reports)} {_both('files', '个文件')}: {summary}</p>"
        # fixed columns: a long message must wrap inside its cell, not push the page past
        # the window or squeeze the file name to one character per line
        '<table class="files"><colgroup><col style="width:112px"><col style="width:17%">'
        '<col style="width:10.5em"><col style="width:20%"><col style="width:17%"><col></colgroup>'
        f"{head}{rows}</table>"
        f"<p>{_both('GB 45438-2025 / EU AI Act Art. 50. Evidence is reported, never a verdict.', '依据GB 45438-2025与欧盟《人工智能法》第50条。线索仅供参考，不作为结论。')}</p>"  # noqa: E501
        "</main></body></html>\n"
    )


CSV_COLUMNS = (
    "path",
    "media_type",
    "format",
    "verdict",
    "Label",
    "ContentProducer",
    "ProduceID",
    "ContentPropagator",
    "PropagateID",
    "label_carrier",
    "watermark_payload",
    "c2pa_state",
    "c2pa_trust",
    "c2pa_ai_declared",
    "c2pa_failures",
    "failed_checks",
    "warned_checks",
    "error",
)


def _cell(value: object) -> str:
    """Text for a CSV cell; a leading ``= + - @`` (a spreadsheet formula) gets a quote prefix."""
    text = _plain(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_row(report: Report) -> list[str]:
    label = report.metadata_label or {}
    mark = (report.watermark or {}).get("payload") or {}
    c2pa = report.c2pa or {}
    if c2pa.get("remote"):
        state = "remote"
    elif c2pa:
        state = c2pa.get("state") or ("absent" if not c2pa.get("present") else "")
    else:
        state = ""
    failed = [c.id for c in report.checks if c.outcome in (Outcome.FAIL, Outcome.ERROR)]
    warned = [c.id for c in report.checks if c.outcome is Outcome.WARN]
    values = [
        report.path,
        report.media_type,
        report.format,
        "inconclusive" if report.error else report.verdict.value,
        label.get("Label"),
        label.get("ContentProducer"),
        label.get("ProduceID"),
        label.get("ContentPropagator"),
        label.get("PropagateID"),
        label.get("carrier"),
        mark.get("hex"),
        state,
        c2pa.get("trust") if c2pa.get("present") else "",
        c2pa.get("ai_declared") if c2pa.get("present") else "",
        " ".join(c2pa.get("failures") or []),
        " ".join(dict.fromkeys(failed)),
        " ".join(dict.fromkeys(warned)),
        report.error,
    ]
    return [_cell(v) for v in values]


def render_csv(reports: Iterable[Report]) -> str:
    """One row per file (header first), RFC 4180 quoting, UTF-8 text."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for report in reports:
        writer.writerow(_csv_row(report))
    return text_path(buf.getvalue())  # no cell may stop the file: see _plain
