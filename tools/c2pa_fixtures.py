"""Extract the media test fixtures of c2pa-python and c2pa-rs into one flat folder.

The fixtures are third-party test files (Apache-2.0 / MIT) and are never copied into the repo:
they are read from the local git mirrors (no work tree) with ``git show``::

    python tools/c2pa_fixtures.py [--out build/c2pa-fixtures] [--mirrors /work/.mirror]

then ``AIGC_TAG_C2PA_FIXTURES=build/c2pa-fixtures pytest tests/test_c2pa_read.py`` and
``python benchmarks/c2pa_parity.py build/c2pa-fixtures``.

Naming: a file keeps its base name; identical content met twice is written once; a different
file with a taken name gets a prefix (``py-`` / ``rs-`` and its folder). Files of a DASH folder
(one holding an ``*init*.mp4``) are all prefixed with the folder name, so each segment stays
beside its own init segment (``bunny_89283bps-BigBuckBunny_2s1.m4s`` with
``bunny_89283bps-BigBuckBunny_2s_init.mp4``). Objects missing from a partial mirror are
skipped and counted.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "build" / "c2pa-fixtures"
DEFAULT_MIRRORS = Path("/work/.mirror")
#: (short tag, mirror folder, fixture roots inside the repository)
SOURCES = (
    ("py", "contentauth+c2pa-python", ("tests/fixtures/",)),
    ("rs", "contentauth+c2pa-rs", ("sdk/tests/fixtures/", "cli/tests/fixtures/")),
)
# Not media: keys, certificates, settings, manifests as JSON, raw signatures, archives, docs.
_SKIP_SUFFIXES = {
    ".pem", ".pub", ".pub_key", ".key", ".priv", ".der", ".crt", ".raw_sig", ".data", ".json",
    ".toml", ".cfg", ".md", ".txt", ".hash", ".rs", ".zip", ".c2pa", ".mpd", ".sh", ".py",
}  # fmt: skip


@dataclass(frozen=True)
class Fixture:
    """One fixture blob in a mirror."""

    tag: str
    git_dir: Path
    path: str  # inside the repository
    blob: str  # git object id


def list_fixtures(mirrors: Path) -> list[Fixture]:
    """Every media fixture blob of both mirrors (names only; nothing is read yet)."""
    out = []
    for tag, folder, roots in SOURCES:
        git_dir = mirrors / folder / "repo"
        if not git_dir.exists():
            print(f"warning: {git_dir}: no mirror, skipped", file=sys.stderr)
            continue
        listing = _git(git_dir, "ls-tree", "-r", "HEAD", "--", *roots).decode()
        for line in listing.splitlines():
            meta, path = line.split("\t", 1)
            _mode, kind, blob = meta.split()
            if kind == "blob" and PurePosixPath(path).suffix.lower() not in _SKIP_SUFFIXES:
                out.append(Fixture(tag, git_dir, path, blob))
    return out


def _git(git_dir: Path, *args: str) -> bytes:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True
    ).stdout


def _dash_folders(fixtures: list[Fixture]) -> set[tuple[str, str]]:
    """(tag, folder) of every folder that holds an init segment below a fixture subfolder."""
    found = set()
    for f in fixtures:
        p = PurePosixPath(f.path)
        if "init" in p.name.lower() and p.suffix == ".mp4" and p.parent.name != "fixtures":
            found.add((f.tag, str(p.parent)))
    return found


def flat_names(fixtures: list[Fixture]) -> dict[Fixture, str]:
    """A unique flat file name for each fixture (identical blobs share one name)."""
    dash = _dash_folders(fixtures)
    names: dict[Fixture, str] = {}
    taken: dict[str, str] = {}  # name -> blob
    for f in sorted(fixtures, key=lambda f: (f.tag, f.path)):
        p = PurePosixPath(f.path)
        name = f"{p.parent.name}-{p.name}" if (f.tag, str(p.parent)) in dash else p.name
        if taken.get(name, f.blob) != f.blob:
            folder = p.parent.name if p.parent.name != "fixtures" else p.parts[0]  # sdk / cli
            name = f"{f.tag}-{folder}-{p.name}"
        if taken.get(name, f.blob) != f.blob:
            name = f"{f.tag}-{f.blob[:8]}-{p.name}"
        taken[name] = f.blob
        names[f] = name
    return names


def extract(out: Path, mirrors: Path) -> tuple[int, int]:
    """Write every fixture into ``out``; returns (written, missing from the mirror)."""
    out.mkdir(parents=True, exist_ok=True)
    written = missing = 0
    seen: set[str] = set()
    for fixture, name in flat_names(list_fixtures(mirrors)).items():
        if name in seen:
            continue
        seen.add(name)
        try:
            data = _git(fixture.git_dir, "cat-file", "blob", fixture.blob)
        except subprocess.CalledProcessError:
            missing += 1  # a partial clone may lack large objects
            continue
        (out / name).write_bytes(data)
        written += 1
    return written, missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="flat output folder")
    parser.add_argument("--mirrors", type=Path, default=DEFAULT_MIRRORS, help="git mirrors root")
    args = parser.parse_args(argv)
    try:
        written, missing = extract(args.out, args.mirrors)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"error: {args.mirrors}: {exc}", file=sys.stderr)
        return 2
    print(f"{written} fixtures in {args.out} ({missing} missing from the mirrors)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
