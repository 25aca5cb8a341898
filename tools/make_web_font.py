"""Build the web page's CJK font (aigc_tag/web/static/PageSansSC-Regular.otf) from the system's
Noto Sans CJK SC Regular, with exactly the non-ASCII characters the page's files use.

Run by a maintainer after changing the page's Chinese strings (a test fails until then); the
output is committed, so the page renders the same on a machine without any CJK font::

    python tools/make_web_font.py [--ttc PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_font_subset import find_face  # noqa: E402 - one place for face lookup

STATIC = Path(__file__).resolve().parent.parent / "aigc_tag" / "web" / "static"
FONT_NAME = "PageSansSC-Regular.otf"
DEFAULT_TTC = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FACE_NAME = "Noto Sans CJK SC"  # the Regular face's full name
PAGE_FILES = ("index.html", "i18n.js", "app.js")


def page_chars(static: Path = STATIC) -> set[int]:
    """Every non-ASCII code point of the page's files, plus ASCII and CJK punctuation."""
    cps = set(range(0x20, 0x7F)) | set(range(0x3000, 0x3020)) | set(range(0xFF01, 0xFF5F))
    for name in PAGE_FILES:
        cps |= {ord(c) for c in (static / name).read_text(encoding="utf-8") if ord(c) > 0x7F}
    return {cp for cp in cps if cp >= 0x20 and not 0xD800 <= cp < 0xE000}


def build(ttc: Path, out: Path) -> int:
    font = TTFont(str(ttc), fontNumber=find_face(ttc, FACE_NAME), recalcTimestamp=False)
    opts = subset.Options()
    opts.layout_features = ["*"]  # a browser shapes text: keep the layout tables
    opts.notdef_outline = True
    opts.name_IDs = [0, 1, 2, 3, 4, 5, 6, 7, 13, 14]
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=sorted(page_chars()))
    sub.subset(font)
    font.save(str(out))
    return len(font.getBestCmap())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ttc", type=Path, default=DEFAULT_TTC)
    args = ap.parse_args(argv)
    out = STATIC / FONT_NAME
    count = build(args.ttc, out)
    print(f"{out}: {out.stat().st_size} bytes, {count} code points")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
