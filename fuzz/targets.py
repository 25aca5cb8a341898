"""Fuzz targets: one per carrier (every reader and the writer), XMP and the label parser.

A target is a callable taking untrusted bytes. The contract it checks: only
:class:`aigc_tag.errors.AigcTagError` may escape, within a deadline and bounded memory. Anything
else escaping a target is a finding; :func:`run_one` returns it instead of raising, so a fuzzer
can record it and go on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aigc_tag import xmp as xmp_mod
from aigc_tag.carriers import registry, sniff_content
from aigc_tag.errors import AigcTagError
from aigc_tag.label import parse_label

ROOT = Path(__file__).resolve().parent
SEEDS = ROOT / "seeds"
REGRESSIONS = ROOT.parent / "tests" / "fuzz_regressions"

LABEL = (
    '{"AIGC":{"Label":"1","ContentProducer":"001191110108MA01ABCDEN10001","ProduceID":"p1",'
    '"ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}}'
)
EXTRA = {"Caption": "c"}
_READERS = ("read_labels", "read_xmp", "has_c2pa", "read_extras")


def _swallow(call: Callable[[], object]) -> None:
    try:
        call()
    except AigcTagError:
        pass


def carrier_target(name: str) -> Callable[[bytes], None]:
    carrier = registry()[name]

    def target(data: bytes) -> None:
        for method in _READERS:
            fn = getattr(carrier, method, None)
            if fn is not None:
                _swallow(lambda fn=fn: fn(data))
        if carrier.can_write and name != "txt":  # plain text: sidecar only
            _swallow(lambda: carrier.write_label(data, LABEL, EXTRA))

    target.__name__ = f"fuzz_{name}"
    return target


def xmp_target(data: bytes) -> None:
    for fn in (
        xmp_mod.find_label_properties,
        xmp_mod.digital_source_types,
        xmp_mod.aigctag_properties,
        xmp_mod.remove_label,
        lambda d: xmp_mod.merge_label(d, LABEL, EXTRA),
        lambda d: xmp_mod.merge_extras(d, EXTRA),
    ):
        _swallow(lambda fn=fn: fn(data))


def label_target(data: bytes) -> None:
    parse_label(data)  # documented never to raise, even on AigcTagError
    parse_label(data.decode("latin-1"))


def sniff_target(data: bytes) -> None:
    _swallow(lambda: sniff_content(data, name="x.md"))


def _targets() -> dict[str, Callable[[bytes], None]]:
    out = {name: carrier_target(name) for name in registry()}
    out["xmp"] = xmp_target
    out["label"] = label_target
    out["sniff"] = sniff_target
    return out


TARGETS: dict[str, Callable[[bytes], None]] = _targets()


def run_one(target: str, data: bytes) -> BaseException | None:
    """Run one input; return the stray exception (a finding), or None."""
    try:
        TARGETS[target](data)
    except (KeyboardInterrupt, SystemExit):
        raise
    except AigcTagError as exc:
        return AssertionError(f"parse_label raised {exc!r}") if target == "label" else None
    except BaseException as exc:  # noqa: BLE001 - a finding, reported by the caller
        return exc
    return None


def seeds(target: str) -> list[bytes]:
    """The starting corpus of ``target``: fuzz/seeds/<target>/ (made by fuzz/make_seeds.py),
    then every saved regression input of the target. The regression inputs include the hand-made
    hostile inputs of issue 17 (deflate bombs, a huge IHDR, lone surrogates, entity DTDs; see
    tests/fuzz_regressions/README.md), so a fuzz run mutates around them too, and
    fuzz/make_seeds.py, which rewrites fuzz/seeds/, cannot drop them."""
    folder = SEEDS / target
    out = [p.read_bytes() for p in sorted(folder.iterdir())] if folder.is_dir() else []
    return out + [path.read_bytes() for _, path in regressions(target)]


def regressions(target: str | None = None) -> list[tuple[str, Path]]:
    out = []
    if REGRESSIONS.is_dir():
        for folder in sorted(REGRESSIONS.iterdir()):
            if folder.is_dir() and (target is None or folder.name == target):
                out += [(folder.name, p) for p in sorted(folder.iterdir()) if p.is_file()]
    return out
