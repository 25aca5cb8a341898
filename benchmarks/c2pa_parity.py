"""C2PA parity with c2pa-python's Reader, run by hand::

    python tools/c2pa_fixtures.py            # once: the fixtures into build/c2pa-fixtures
    python benchmarks/c2pa_parity.py [DIR] [--anchors PEM] [--no-anchors] [--markdown]

For every file of DIR (default build/c2pa-fixtures) it compares what c2pa-python's ``Reader``
alone says (``Reader(path)`` with remote fetching off; a DASH ``.m4s`` with an ``*init*.mp4``
beside it through ``Reader.with_fragment``, c2pa-python's fragment API) with aigc-tag's report
(``verify(path, watermark=False)``: ``c2pa.state`` and ``c2pa.failures``), once without trust
anchors and once with the C2PA test root bundle. Reader outcomes: the ``validation_state``,
``absent`` (ManifestNotFound / NotSupported), ``remote`` (a remote manifest, not fetched) or
``Error`` (any other C2paError). A difference aigc-tag makes on purpose is named in the last
column; any other is a bug.

Timing: one pass each, one file after another, single process, no anchors: the Reader alone
(read the bytes, Reader, ``json()``), aigc-tag's C2PA layer alone, and aigc-tag's whole verify
without the watermark (metadata, explicit label, C2PA, evidence, consistency), with and without
the OCR of the explicit label; totals over the folder.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aigc_tag.provenance.c2pa_read import find_init_segment, is_dash_segment  # noqa: E402
from aigc_tag.verify import verify  # noqa: E402

DEFAULT_DIR = ROOT / "build" / "c2pa-fixtures"
ANCHORS = ROOT.parent / "shared" / "samples" / "thirdparty" / "test-certs"
ANCHORS = ANCHORS / "c2pa_test_root_bundle.pem"


def reader_alone(path: Path, anchors: str | None) -> tuple[str, list[str]]:
    """(outcome, failure codes) of c2pa-python's Reader on the file, as a c2pa user reads it."""
    import c2pa

    settings: dict = {"verify": {"remote_manifest_fetch": False}}
    if anchors:
        settings["trust"] = {"user_anchors": anchors}
    data = path.read_bytes()
    init = find_init_segment(path) if is_dash_segment(data) else None
    try:
        with c2pa.Context.from_dict(settings) as ctx:
            if init is not None:
                head = init.read_bytes()
                with c2pa.Reader("video/mp4", io.BytesIO(head), context=ctx) as reader:
                    reader.with_fragment("video/mp4", io.BytesIO(head), io.BytesIO(data))
                    store = json.loads(reader.json())
            else:
                with c2pa.Reader(str(path), context=ctx) as reader:
                    store = json.loads(reader.json())
    except (c2pa.C2paError.ManifestNotFound, c2pa.C2paError.NotSupported):
        return "absent", []
    except c2pa.C2paError as exc:
        return ("remote" if str(exc).startswith("Remote") else "Error"), []
    active = (store.get("validation_results") or {}).get("activeManifest") or {}
    return store.get("validation_state", "?"), [f.get("code", "") for f in active.get("failure")
                                                or []]  # fmt: skip


def ours(path: Path, anchors: str | None) -> tuple[str, list[str], dict | None]:
    """(outcome, failure codes, the c2pa object) of aigc-tag's report, on the Reader's scale."""
    report = verify(path, trust_anchors_pem=anchors, watermark=False)
    c2pa = report.c2pa
    if c2pa is None:
        return "not checked", [], None
    if c2pa.get("remote"):
        return "remote", [], c2pa
    return c2pa.get("state") or "absent", list(c2pa.get("failures") or []), c2pa


def on_purpose(path: Path, reference: str, outcome: str, c2pa: dict | None) -> str:
    """Why aigc-tag differs from the Reader here, when it does so by design ("" otherwise)."""
    if outcome == "not checked" and is_dash_segment(path.read_bytes()[:4096]):
        return "NOT MET: the ISOBMFF carrier does not accept a DASH segment (M01 error)"
    if outcome == "not checked":
        return "aigc-tag refused the container (M01/M02 error: inconclusive), C2PA not read"
    if reference == "absent" and outcome == "Error" and c2pa:
        return str(c2pa.get("error") or "")[:70]
    return ""


def run(folder: Path, anchors_pem: str | None) -> list[dict]:
    rows = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        reference, ref_codes = reader_alone(path, anchors_pem)
        outcome, codes, c2pa = ours(path, anchors_pem)
        same = (reference, sorted(ref_codes)) == (outcome, sorted(codes))
        rows.append({"file": path.name, "reader": reference, "reader_codes": ref_codes,
                     "ours": outcome, "codes": codes, "match": same,
                     "why": "" if same else on_purpose(path, reference, outcome, c2pa),
                     "ai": (c2pa or {}).get("ai_declared")})  # fmt: skip
    return rows


def timing(folder: Path) -> dict[str, float]:
    """Seconds over the folder: the Reader alone, aigc-tag's C2PA layer alone (``inspect_c2pa``
    on the sniffed MIME), verify(watermark=False, ocr=False) and verify(watermark=False)."""
    from aigc_tag.carriers import sniff_content
    from aigc_tag.errors import AigcTagError
    from aigc_tag.provenance import inspect_c2pa

    files = sorted(p for p in folder.iterdir() if p.is_file())

    def layer(path: Path) -> None:
        data = path.read_bytes()
        try:
            mime = sniff_content(data, name=path.name).mime
        except AigcTagError:
            return
        inspect_c2pa(data, mime)

    modes = {
        "c2pa-python Reader alone": lambda p: reader_alone(p, None),
        "aigc-tag C2PA layer (inspect_c2pa)": layer,
        "aigc-tag verify, watermark=False, ocr=False": lambda p: verify(p, watermark=False,
                                                                        ocr=False),
        "aigc-tag verify, watermark=False": lambda p: verify(p, watermark=False),
    }  # fmt: skip
    out = {}
    for name, run_one in modes.items():
        start = time.perf_counter()
        for path in files:
            run_one(path)
        out[name] = time.perf_counter() - start
    return out


def _cell(outcome: str, codes: list[str]) -> str:
    return outcome + (f" `{' '.join(codes)}`" if codes else "")


def table(rows_bare: list[dict], rows_anchored: list[dict]) -> str:
    """The Markdown table; the segments of one DASH folder with the same cells share a row."""
    lines = ["| file | Reader (no anchors) | ours | Reader (test anchors) | ours | match |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    grouped: dict[tuple, list[str]] = {}
    for bare, anch in zip(rows_bare, rows_anchored, strict=True):
        ok = bare["match"] and anch["match"]
        why = bare["why"] or anch["why"]
        if ok:
            mark = "yes"
        elif why.startswith("NOT MET"):
            mark = f"**not met**: {why.removeprefix('NOT MET: ')}"
        else:
            mark = f"by design: {why}" if why else "**NO**"
        cells = (_cell(bare["reader"], bare["reader_codes"]), _cell(bare["ours"], bare["codes"]),
                 _cell(anch["reader"], anch["reader_codes"]), _cell(anch["ours"], anch["codes"]),
                 mark)  # fmt: skip
        name = bare["file"]
        folder = name.split("-", 1)[0] + "-*.m4s" if name.endswith(".m4s") and "-" in name else name
        grouped.setdefault((folder, cells), []).append(name)
    for (folder, cells), names in grouped.items():
        label = folder if len(names) == 1 and folder == names[0] else f"{folder} ({len(names)})"
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="C2PA parity with c2pa-python's Reader")
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--anchors", type=Path, default=ANCHORS, help="trust anchors PEM")
    parser.add_argument("--no-timing", action="store_true", help="skip the timing pass")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print(f"error: {args.folder}: no such folder (run tools/c2pa_fixtures.py)", file=sys.stderr)
        return 2
    anchors = args.anchors.read_text() if args.anchors.is_file() else None
    bare, anchored = run(args.folder, None), run(args.folder, anchors)
    print(table(bare, anchored))
    both = list(zip(bare, anchored, strict=True))
    exact = sum(b["match"] and a["match"] for b, a in both)
    whys = [b["why"] or a["why"] for b, a in both if not (b["match"] and a["match"])]
    unmet = sum(w.startswith("NOT MET") for w in whys)
    designed = sum(bool(w) and not w.startswith("NOT MET") for w in whys)
    print(f"\n{len(both)} files: {exact} identical, {designed} differ by design, {unmet} not "
          f"checked (goal not met), {len(whys) - designed - unmet} differ otherwise")
    if not args.no_timing:
        n = sum(1 for p in args.folder.iterdir() if p.is_file())
        print(f"\n| {n} files, one pass, no anchors | total s | ms/file |\n|---|---|---|")
        for name, seconds in timing(args.folder).items():
            print(f"| {name} | {seconds:.2f} | {1000 * seconds / n:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
