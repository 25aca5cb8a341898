"""One contract for every carrier: hostile bytes may raise only AigcTagError, never crash.

Seeds are the bundled samples after tagging (so every carrier's label places are populated);
each is cut at many lengths and mutated with random byte flips, and every reader and writer is
run on the result. The fuzzing issue extends this to coverage-guided runs; this is the fast floor.
"""

from __future__ import annotations

import io
import random
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import PRODUCER, SAMPLES

from aigc_tag import Tagger
from aigc_tag.carriers import registry, sniff
from aigc_tag.errors import AigcTagError

SEEDS = sorted(p for p in SAMPLES.iterdir() if p.suffix != ".py")
LABEL = '{"AIGC":{"Label":"1","ContentProducer":"x","ProduceID":"y","ReservedCode1":"","ContentPropagator":"x","PropagateID":"y","ReservedCode2":""}}'  # noqa: E501


def _tagged(path) -> bytes:
    out, _ = Tagger(PRODUCER, visible=False, watermark=False).tag_bytes(path.read_bytes())
    return out


def _mutants(data: bytes, rng: random.Random, count: int) -> list[bytes]:
    cuts = [data[:n] for n in range(0, len(data), max(1, len(data) // 40))]
    flips = []
    for _ in range(count):
        buf = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(min(len(buf), 4096))  # headers and metadata live up front
            buf[pos] = rng.randrange(256)
        flips.append(bytes(buf))
    return cuts + flips


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name)
def test_readers_and_writers_raise_only_our_errors(seed):
    data = _tagged(seed)
    carrier = sniff(data[:64])
    rng = random.Random(seed.name)
    for mutant in _mutants(data, rng, 150):
        for call in (carrier.read_labels, carrier.read_xmp):
            try:
                call(mutant)
            except AigcTagError:
                pass
        try:
            carrier.write_label(mutant, LABEL)
        except AigcTagError:
            pass


# --- generated seeds: small files built here (ffmpeg, mutagen, struct) for carriers whose
# bundled sample would be large; each is labelled with write_label (and extras) first.


def _ffmpeg(tmp: Path, name: str, *args: str) -> bytes:
    path = tmp / name
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=440:d=0.3", *args]
    subprocess.run([*cmd, str(path)], capture_output=True, check=True)
    return path.read_bytes()


def _riff_chunk(fourcc: bytes, payload: bytes) -> bytes:
    pad = b"\0" if len(payload) & 1 else b""
    return fourcc + struct.pack("<I", len(payload)) + payload + pad


def _wav(tmp: Path) -> bytes:
    from aigc_tag import xmp

    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    info = b"INFO" + _riff_chunk(b"INAM", b"x\0") + _riff_chunk(b"ICMT", LABEL.encode())
    body = b"".join(
        [
            _riff_chunk(b"fmt ", fmt),
            _riff_chunk(b"LIST", info),
            _riff_chunk(b"odd!", b"abc"),
            _riff_chunk(b"data", bytes(range(256)) * 8),
            _riff_chunk(b"_PMX", xmp.new_packet(LABEL)),
        ]
    )
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WAVE" + body


def _mp3(tmp: Path) -> bytes:
    from mutagen.id3 import COMM, ID3, TIT2

    data = io.BytesIO(_ffmpeg(tmp, "s.mp3", "-c:a", "libmp3lame", "-id3v2_version", "0"))
    tags = ID3()
    tags.add(TIT2(encoding=1, text="t"))
    tags.add(COMM(encoding=0, lang="eng", desc="", text=LABEL))
    tags.update_to_v23()
    tags.save(data, v2_version=3, v1=2)
    return data.getvalue()


_VIDEO = ("-f", "lavfi", "-i", "color=s=32x24:d=0.3")
GENERATED: dict[str, Callable[[Path], bytes]] = {
    "wav": _wav,
    "mp3": _mp3,
    "flac": lambda tmp: _ffmpeg(tmp, "s.flac", "-metadata", "title=t"),
    "ogg": lambda tmp: _ffmpeg(tmp, "s.ogg", "-c:a", "libvorbis", "-metadata", "title=t"),
    "opus": lambda tmp: _ffmpeg(tmp, "s.opus", "-c:a", "libopus", "-metadata", "title=t"),
    "m4a": lambda tmp: _ffmpeg(tmp, "s.m4a", "-movflags", "+faststart", "-metadata", "title=t"),
    "mp4": lambda tmp: _ffmpeg(
        tmp,
        "s.mp4",
        "-f",
        "lavfi",
        "-i",
        "color=s=32x24:d=0.3",
        "-c:v",
        "mpeg4",
        "-movflags",
        "+faststart",
        "-metadata",
        "title=t",
    ),  # fmt: skip
    "matroska": lambda tmp: _ffmpeg(tmp, "s.mkv", *_VIDEO, "-c:v", "mpeg4", "-metadata", "title=t"),
    "webm": lambda tmp: _ffmpeg(tmp, "s.webm", *_VIDEO, "-c:v", "libvpx", "-c:a", "libopus"),
    "avi": lambda tmp: _ffmpeg(tmp, "s.avi", *_VIDEO, "-c:v", "mpeg4", "-metadata", "title=t"),
    "flv": lambda tmp: _ffmpeg(tmp, "s.flv", *_VIDEO, "-c:v", "flv1", "-metadata", "title=t"),
    "markdown": lambda tmp: (
        "---\ntitle: t\ntags: [a, b]\naigc: {Label: '1'}\n---\n# T\n\n<!-- AIGC "
        + LABEL
        + " -->\n\ntext\n"
    ).encode(),
    "html": lambda tmp: (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>t</title>\n'
        "<meta property='aigc:label' content='" + LABEL + "'>\n</head>\n"
        '<body><p class="aigc-label">AI生成</p><script>"<meta>"</script>x</body></html>\n'
    ).encode(),
    "svg": lambda tmp: (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:a="urn:a" viewBox="0 0 9 9">\n'
        '<metadata><c2pa:manifest xmlns:c2pa="http://c2pa.org/manifest">c29tZQ==</c2pa:manifest>'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>t</dc:title>'
        "</rdf:Description></rdf:RDF><a:AIGC>" + LABEL + "</a:AIGC></metadata>\n"
        "<style><![CDATA[ rect { fill: red } ]]></style><!-- c --><rect width='3' height='2'/>"
        "\n</svg>\n"
    ).encode(),
}


def _office(kind: str) -> bytes:
    from test_carrier_ooxml import MAKERS, OLD_CUSTOM, with_custom

    return with_custom(MAKERS[kind](), OLD_CUSTOM)


GENERATED["docx"] = lambda tmp: _office("docx")


def _pdf(tmp: Path) -> bytes:
    from test_carrier_pdf import make_pdf

    return make_pdf(xmp_label=True)


GENERATED["pdf"] = _pdf


def _epub(tmp: Path) -> bytes:
    from test_carrier_epub import make_epub

    return make_epub()


GENERATED["epub"] = _epub


def _heif(tmp: Path) -> bytes:
    from test_carrier_heif import MADE

    return MADE["heic-exif-label"]()


GENERATED["heif"] = _heif


def _ofd(tmp: Path) -> bytes:
    from test_carrier_ofd import make_ofd

    return make_ofd()


GENERATED["ofd"] = _ofd
# ZIP-based carriers reached through ooxml.refine (sniff answers "docx" for every OOXML ZIP).
REFINED: dict[str, Callable[[Path], bytes]] = {
    "xlsx": lambda tmp: _office("xlsx"),
    "pptx": lambda tmp: _office("pptx"),
}


@pytest.mark.parametrize("name", sorted(REFINED))
def test_refined_seeds_raise_only_our_errors(name, tmp_path):
    from aigc_tag.carriers import ooxml

    carrier = registry()[name]
    data = REFINED[name](tmp_path)
    assert ooxml.refine(data) is carrier
    data = carrier.write_label(data, LABEL, {"Caption": "c"})
    assert len(carrier.read_labels(data)) == 1
    for mutant in _mutants(data, random.Random(name), 60):
        for call in (carrier.read_labels, carrier.read_extras, carrier.has_c2pa):
            try:
                call(mutant)
            except AigcTagError:
                pass
        try:
            carrier.write_label(mutant, LABEL)
        except AigcTagError:
            pass


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_seeds_raise_only_our_errors(name, tmp_path):
    carrier = registry()[name]
    data = GENERATED[name](tmp_path)
    assert sniff(data[:64]) is carrier
    data = carrier.write_label(data, LABEL, {"Caption": "c"})
    assert len(carrier.read_labels(data)) == 1
    calls = [carrier.read_labels, carrier.read_xmp]
    calls += [getattr(carrier, m) for m in ("has_c2pa", "read_extras") if hasattr(carrier, m)]
    for mutant in _mutants(data, random.Random(name), 150):
        for call in calls:
            try:
                call(mutant)
            except AigcTagError:
                pass
        try:
            carrier.write_label(mutant, LABEL, {"Caption": "c"})
        except AigcTagError:
            pass


def test_every_carrier_has_a_contract_seed():
    names = {sniff(p.read_bytes()[:64]).name for p in SEEDS} | set(GENERATED) | set(REFINED)
    # Plain text has no container to parse (read_labels is empty; its sidecar and the text
    # decoding are tested in test_tag_text/test_text_*).
    writable = {name for name, c in registry().items() if c.can_write} - {"txt"}
    assert writable <= names, f"no bundled sample for {writable - names}"
