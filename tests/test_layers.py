"""The package's import contract (README "Layout"): which part may import which.

Read from the source with ``ast`` (no import side effects), counting every import a module can
execute -- top-level and inside functions -- and leaving out ``if TYPE_CHECKING:`` blocks, which
never run. A rule broken by a new import fails here with the offending module and line.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "aigc_tag"

#: (importer prefix, forbidden target prefixes, why). Prefixes are dotted module names below
#: ``aigc_tag``; "" is the package root module.
RULES: list[tuple[str, tuple[str, ...], str]] = [
    (
        "",
        ("cli", "web", "engines"),
        "the library never depends on its front ends (only cli/web/engines import the library)",
    ),
    (
        "errors",
        ("",),
        "errors is the bottom of the graph",
    ),
    (
        "label",
        ("carriers", "tagging", "verify", "watermark", "visible", "text", "image", "audio",
         "video", "document"),
        "the Annex E record knows nothing of files or layers",
    ),
    (
        "carriers",
        ("tagging", "verify", "propagate", "image", "audio", "video", "document", "watermark",
         "journal", "ledger", "provenance"),
        "a container carrier reads and writes bytes; it never composes layers or verifies",
    ),
    (
        "watermark",
        ("carriers", "tagging", "verify", "visible", "text", "image", "audio", "video",
         "document", "provenance"),
        "the watermark engines work on samples and pixels only",
    ),
    (
        "verify",
        ("tagging", "propagate", "journal", "ledger"),
        "verification must not depend on how aigc-tag tags (it checks anyone's files)",
    ),
    (
        "provenance",
        ("tagging", "verify", "propagate", "carriers"),
        "C2PA signing/reading is a leaf used by tagging and verify",
    ),
    *[
        (
            composer,
            ("tagging", "verify", "propagate", "journal", "ledger"),
            "a modality composer is called by tagging and verify, never the other way round",
        )
        for composer in ("image", "audio", "video", "document")
    ],
    (
        "tagging",
        ("verify", "propagate", "journal", "ledger"),
        "tagging's self-check goes through the modality modules, not the verifier facade",
    ),
    *[
        (
            part,
            ("survive",),
            "survive sits on top of verify and the layers; nothing below it imports it",
        )
        for part in ("label", "carriers", "watermark", "verify", "provenance", "image", "audio",
                     "video", "document", "tagging", "propagate", "imaging", "ffmpeg")
    ],
]

#: Edges that break a rule today, each with the reason it is still there. Issue 16 moves
#: video verification out of ``video.py``; when an edge disappears, delete it here (the test
#: fails on a stale entry so this list only shrinks).
KNOWN_DEBT: dict[tuple[str, str], str] = {
    ("video", "verify"): "video verification (caption/watermark checks on frames) still lives in "
    "video.py and calls verify.checks",
}


def _module_name(path: Path, package: Path) -> str:
    rel = path.relative_to(package).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> list[str]:
    """Dotted names below ``aigc_tag`` that ``node`` imports ("" for the root module)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    elif node.level == 0:
        names = [node.module or ""]
    else:
        base = module.split(".") if module else []
        if not is_package:
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
        stem = ".".join(base + ([node.module] if node.module else []))
        full = f"aigc_tag.{stem}" if stem else "aigc_tag"
        # `from . import x` may name a submodule: count each name as a possible module too.
        names = [full] + [f"{full}.{a.name}" for a in node.names] if not node.module else [full]
    inside = []
    for name in names:
        if name == "aigc_tag":
            inside.append("")
        elif name.startswith("aigc_tag."):
            inside.append(name[len("aigc_tag.") :])
    return inside


def _under(name: str, prefix: str) -> bool:
    return prefix == "" or name == prefix or name.startswith(prefix + ".")


def _edges(package: Path = PACKAGE) -> list[tuple[str, str, int]]:
    edges = []
    for path in sorted(package.rglob("*.py")):
        module = _module_name(path, package)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in _runtime_imports(tree):
            for target in _targets(module, path.name == "__init__.py", node):
                edges.append((module, target, node.lineno))
    return edges


FRONT_ENDS = ("cli", "web", "engines", "__main__")


@functools.cache
def _violations(package: Path = PACKAGE) -> dict[tuple[str, str], str]:
    """(module, target top-level part) -> "file:line why" for every edge a rule forbids."""
    broken: dict[tuple[str, str], str] = {}
    for module, target, line in _edges(package):
        for importer, forbidden, why in RULES:
            if importer == "" and module.split(".")[0] in FRONT_ENDS:
                continue
            if not _under(module, importer):
                continue
            for bad in forbidden:
                own_part = importer and _under(target, importer)
                if _under(target, bad) and not own_part:
                    key = (module, target.split(".")[0] if target else "")
                    broken.setdefault(key, f"aigc_tag/{module.replace('.', '/')}:{line}: {why}")
    return broken


def test_the_parser_sees_imports():
    # The contract is only as good as the edge list: a few edges that must be there.
    edges = {(m, t.split(".")[0]) for m, t, _ in _edges()}
    assert ("tagging", "carriers") in edges
    assert ("cli.verify_cmd", "verify") in edges
    assert ("carriers.jpeg", "imaging") in edges


def test_a_forbidden_import_is_caught(tmp_path):
    fake = tmp_path / "aigc_tag"
    (fake / "carriers").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "carriers" / "__init__.py").write_text("")
    (fake / "carriers" / "x.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ..verify import Report\n"  # never runs: allowed
        "def f():\n    from ..tagging import Tagger\n"  # runs when f() does: counted
        "from .. import cli\n"
    )
    broken = _violations(fake)
    assert ("carriers.x", "tagging") in broken
    assert ("carriers.x", "cli") in broken
    assert ("carriers.x", "verify") not in broken


@pytest.mark.parametrize("rule", RULES, ids=[r[0] or "root" for r in RULES])
def test_import_contract(rule):
    importer, _, _ = rule
    broken = {
        k: v
        for k, v in _violations().items()
        if k not in KNOWN_DEBT and _under(k[0], importer) and v.endswith(rule[2])
    }
    assert not broken, "\n".join(sorted(broken.values()))


def test_known_debt_is_still_debt():
    current = _violations()
    stale = [f"{m} -> {t}" for (m, t) in KNOWN_DEBT if (m, t) not in current]
    assert not stale, f"fixed, remove from KNOWN_DEBT: {stale}"
