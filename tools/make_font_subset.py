"""Build aigc_tag/fonts/ from the system's Noto Sans CJK SC Bold (Debian fonts-noto-cjk).

Run once by a maintainer; the output is committed so nothing is fetched at run time::

    python tools/make_font_subset.py [--ttc PATH] [--copyright PATH] [--out DIR]

It writes ``LabelSansSC-Bold.otf`` (the subset), ``OFL.txt`` (the licence with the font's own
copyright line) and ``README.md`` (source face, version, character set).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

DEFAULT_TTC = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
DEFAULT_COPYRIGHT = Path("/usr/share/doc/fonts-noto-cjk/copyright")
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "aigc_tag" / "fonts"
FONT_NAME = "LabelSansSC-Bold.otf"
FACE_NAME = "Noto Sans CJK SC Bold"
MAX_BYTES = 3 * 1024 * 1024
# Upstream noto-cjk LICENSE header; Debian's copyright file omits the reserved-name clause.
UPSTREAM_NOTICE = (
    "Noto Sans CJK (subset: aigc_tag/fonts/LabelSansSC-Bold.otf)",
    "Copyright 2014-2021 Adobe (http://www.adobe.com/), with Reserved Font Name 'Source'.",
    "",
    "This Font Software is licensed under the SIL Open Font License, Version 1.1.",
    "This license is copied below, and is also available with a FAQ at: https://openfontlicense.org",
)

# Punctuation that label text plausibly uses besides ASCII: dashes, quotes, ellipsis, middle dot.
_EXTRA_PUNCT = "\u00a9\u00b7\u2013\u2014\u2018\u2019\u201c\u201d\u2022\u2026\u00ae\u2122"


def gb2312_level1() -> list[str]:
    """The 3755 level-1 hanzi: GB2312 rows 0xB0-0xD7, decoded with Python's own codec."""
    chars = []
    for row in range(0xB0, 0xD8):
        for cell in range(0xA1, 0xFF):
            try:
                chars.append(bytes((row, cell)).decode("gb2312"))
            except UnicodeDecodeError:
                continue  # row 0xD7 ends at 0xF9
    return chars


def label_charset() -> set[int]:
    """Code points kept in the subset."""
    cps = set(range(0x20, 0x7F))  # printable ASCII
    cps |= set(range(0x3000, 0x3040))  # CJK symbols and punctuation (、。「」【】…)
    cps |= set(range(0xFF01, 0xFF5F))  # full-width ASCII forms (，：（）ＡＩ…)
    cps |= {ord(c) for c in _EXTRA_PUNCT}
    cps |= {ord(c) for c in gb2312_level1()}
    return cps


def find_face(ttc: Path, name: str) -> int:
    """Index of the face whose full name is ``name`` inside the collection."""
    coll = TTCollection(str(ttc), lazy=True)
    for i, font in enumerate(coll.fonts):
        if font["name"].getDebugName(4) == name:
            return i
    raise SystemExit(f"{name!r} not found in {ttc}")


def build_subset(ttc: Path, out: Path) -> TTFont:
    """Subset the SC face to the label charset and save it; returns the subset font."""
    # recalcTimestamp=False keeps head.modified from the source, so rebuilds are byte-identical.
    font = TTFont(str(ttc), fontNumber=find_face(ttc, FACE_NAME), recalcTimestamp=False)
    opts = subset.Options()
    # Pillow's basic layout uses only cmap and advances; drop OpenType layout to save bytes.
    opts.layout_features = []
    opts.notdef_outline = True
    opts.name_IDs = [0, 1, 2, 3, 4, 5, 6, 7, 13, 14]
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=sorted(label_charset()))
    sub.subset(font)
    font.save(str(out))
    return font


def ofl_text(copyright_file: Path) -> str:
    """The OFL 1.1 text from Debian's copyright file, headed by the upstream copyright line."""
    raw = copyright_file.read_text(encoding="utf-8")
    m = re.search(r"^License: SIL-1\.1\n((?: .*\n?)+)", raw, re.M)
    if not m:
        raise SystemExit(f"no SIL-1.1 licence stanza in {copyright_file}")
    # Debian's stanza indents every line by one space and writes blank lines as " .".
    body = ["" if ln == " ." else ln[1:] for ln in m.group(1).splitlines()]
    return "\n".join([*UPSTREAM_NOTICE, "", *body]).rstrip() + "\n"


def readme_text(font: TTFont, size: int, ttc: Path) -> str:
    """A short provenance note for the fonts directory."""
    name = font["name"]
    return (
        "# Bundled label font\n\n"
        f"`{FONT_NAME}` is a subset of **{name.getDebugName(4)}**, "
        f"{name.getDebugName(5)}, taken from Debian's `fonts-noto-cjk` package (`{ttc.name}`); "
        "upstream https://github.com/notofonts/noto-cjk.\n\n"
        "Kept: printable ASCII, U+3000-303F CJK punctuation, U+FF01-FF5E full-width forms, a "
        "few quotes and dashes, and the 3755 GB2312 level-1 hanzi. OpenType layout tables are "
        f"dropped. {len(font.getBestCmap())} code points, {size} bytes.\n\n"
        "Licence: SIL Open Font License 1.1, see `OFL.txt`.\n"
        "Rebuild with `python tools/make_font_subset.py`.\n"
    )


def main(argv: list[str] | None = None) -> int:
    """Build the subset, licence and README; fail if the font is too large."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ttc", type=Path, default=DEFAULT_TTC)
    ap.add_argument("--copyright", type=Path, default=DEFAULT_COPYRIGHT)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    font_path = args.out / FONT_NAME
    font = build_subset(args.ttc, font_path)
    size = font_path.stat().st_size
    (args.out / "OFL.txt").write_text(ofl_text(args.copyright), encoding="utf-8")
    (args.out / "README.md").write_text(readme_text(font, size, args.ttc), encoding="utf-8")
    print(f"{font_path}: {size} bytes, {len(font.getBestCmap())} code points")
    if size > MAX_BYTES:
        print(f"subset is above {MAX_BYTES} bytes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
