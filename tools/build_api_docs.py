"""Build the API reference (HTML) from the docstrings with pdoc.

    python tools/build_api_docs.py [-o build/api]

Only the public surface is documented: the package's shortcuts and nouns, and the modules a
pipeline imports by name. The reference is built in CI (tests/test_examples.py), so a broken
docstring or a public name that no longer imports fails the suite, not a release.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

#: The modules of the API reference, in the order of its index.
MODULES = (
    "aigc_tag",
    "aigc_tag.tagging",
    "aigc_tag.verify",
    "aigc_tag.label",
    "aigc_tag.errors",
    "aigc_tag.inputs",
    "aigc_tag.propagate",
    "aigc_tag.ledger",
)


def build(output: Path) -> list[Path]:
    """Render every module in :data:`MODULES` into ``output``; returns the pages written."""
    import pdoc
    import pdoc.render

    pdoc.render.configure(docformat="restructuredtext", show_source=False,
                          footer_text="aigc-tag API reference")  # fmt: skip
    with warnings.catch_warnings():
        # The package page already pulls in its subpackage ``verify`` (a name in ``__all__``);
        # listing it again, to be sure it is there, only repeats it.
        warnings.filterwarnings("ignore", message="The module specification 'aigc_tag.verify'")
        pdoc.pdoc(*MODULES, output_directory=output)
    return sorted(output.rglob("*.html"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=Path("build/api"))
    args = parser.parse_args(argv)
    pages = build(args.output)
    print(f"{len(pages)} pages in {args.output}/ (open {args.output / 'aigc_tag.html'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
