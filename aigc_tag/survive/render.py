"""``survive`` results as a terminal table, a JSON document and a self-contained HTML page.

Renderers read only :class:`~aigc_tag.survive.Survival` objects. File names and label values
are untrusted: the table shows them through :func:`aigc_tag.fileio.printable` (no terminal
escapes), the HTML page additionally through :func:`html.escape`, and the page loads nothing
(no scripts, no external resources; a CSP forbids both).
"""

from __future__ import annotations

import html
import json

from ..fileio import escape_surrogates, printable, text_path
from . import SCHEMA, LayerResult, State, Survival
from .layers import LAYERS

__all__ = ["to_html", "to_json", "to_table"]

#: Column titles for the four layers.
TITLES = {"metadata": "metadata", "c2pa": "C2PA", "explicit": "explicit", "watermark": "watermark"}


def to_json(results: list[Survival], errors: list[tuple[str, str]]) -> str:
    """The JSON document (schema :data:`SCHEMA`, see build/readme_survive.md), valid UTF-8."""
    doc = {
        "schema": SCHEMA,
        "files": [r.to_json() for r in results],
        "errors": [{"path": text_path(p), "error": e} for p, e in errors],
    }
    return escape_surrogates(json.dumps(doc, ensure_ascii=False, indent=2))


def cell(layer: str, result: LayerResult) -> str:
    """One layer's state for a person: the state token, plus the watermark's margin or score."""
    text = result.state.value.replace("_", " ")
    d = result.detail
    if layer != "watermark" or result.state in (State.ABSENT, State.NOT_CHECKED):
        return text
    margin = d.get("margin")
    if margin and result.state in (State.KEPT, State.PRESENT):
        return f"{text} +{margin['z_over_threshold']:.1f} {margin['level']}"
    if result.state is State.DAMAGED:
        return f"{text} (payload {d.get('payload')})"
    score = d.get("score")
    return f"{text} z {score:.1f}" if isinstance(score, int | float) else text


def _rows(s: Survival) -> list[tuple[str, list[str], str | None]]:
    """(pipeline, cells, error) for the file as given and each pipeline."""
    rows = [("as given", [cell(k, s.original[k]) for k in LAYERS], None)]
    for r in s.results:
        cells = ["-"] * len(LAYERS) if r.error else [cell(k, r.layers[k]) for k in LAYERS]
        rows.append((r.pipeline.name, cells, r.error))
    return rows


def summary(s: Survival) -> str:
    """One line: how many pipelines each layer of the file outlived."""
    if not s.tagged:
        return "nothing to survive: no label layer was found in the file as given"
    ran = [r for r in s.results if not r.error]
    parts = []
    for layer in LAYERS:
        if s.original[layer].state is not State.PRESENT:
            continue
        kept = sum(r.layers[layer].state is State.KEPT for r in ran)
        parts.append(f"{TITLES[layer]} {kept}/{len(ran)}")
    return "kept after: " + ", ".join(parts)


def to_table(results: list[Survival]) -> str:
    """A plain-text table per file."""
    blocks = []
    for s in results:
        rows = _rows(s)
        head = ["pipeline", *(TITLES[k] for k in LAYERS)]
        widths = [max(len(head[i]), *(len(([n, *c])[i]) for n, c, _ in rows))
                  for i in range(len(head))]  # fmt: skip
        header = "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip()
        lines = [f"{printable(s.path)}  ({s.media_type}, {s.format})", header]
        for name, cells, error in rows:
            line = "  ".join(v.ljust(w) for v, w in zip([name, *cells], widths, strict=True))
            lines.append((line + (f"  error: {printable(error)}" if error else "")).rstrip())
        lines.append(summary(s))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}
.kept,.present{background:#dff3df}.lost{background:#f8d7d7}.damaged{background:#fbe9c8}
.absent,.not_checked{color:#777}.err{color:#a00}
code{word-break:break-all}
"""


def _td(layer: str, result: LayerResult) -> str:
    css = result.state.value
    return f'<td class="{css}">{html.escape(printable(cell(layer, result)))}</td>'


def _file_html(s: Survival) -> str:
    e = html.escape
    out = [f"<h2><code>{e(printable(s.path))}</code></h2>",
           f"<p>{e(s.media_type)}, {e(s.format)}: {e(summary(s))}</p>",
           "<table><tr><th>pipeline</th><th>what it does</th>"
           + "".join(f"<th>{e(TITLES[k])}</th>" for k in LAYERS) + "</tr>",
           "<tr><td>as given</td><td>the file itself</td>"
           + "".join(_td(k, s.original[k]) for k in LAYERS) + "</tr>"]  # fmt: skip
    for r in s.results:
        head = f"<tr><td>{e(r.pipeline.name)}</td><td>{e(r.pipeline.description)}</td>"
        if r.error:
            out.append(f'{head}<td class="err" colspan="{len(LAYERS)}">'
                       f"{e(printable(r.error))}</td></tr>")  # fmt: skip
        else:
            out.append(head + "".join(_td(k, r.layers[k]) for k in LAYERS) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def to_html(results: list[Survival], errors: list[tuple[str, str]]) -> str:
    """A self-contained HTML page (inline CSS, no scripts) with one table per file."""
    e = html.escape
    body = [_file_html(s) for s in results]
    if errors:
        items = "".join(f"<li><code>{e(printable(p))}</code>: {e(printable(m))}</li>"
                        for p, m in errors)  # fmt: skip
        body.append(f'<h2>Not checked</h2><ul class="err">{items}</ul>')
    legend = ("kept: there after the pipeline, unchanged (watermark: the exact payload, with its "
              "margin over the detection threshold); lost: gone; damaged: there but altered; "
              "absent: not in the file to begin with; not checked: could not be read.")  # fmt: skip
    return escape_surrogates(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>aigc-tag survive</title><style>{_CSS}</style></head><body>"
        f"<h1>Which label layers survive the platforms</h1><p>{e(legend)}</p>\n"
        + "\n".join(body)
        + f"\n<p><small>{e(SCHEMA)}</small></p></body></html>\n"
    )
