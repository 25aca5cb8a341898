"""Build the small seed corpus under fuzz/seeds/<target>/ (committed; rerun to refresh).

Images are generated small (32x24) so a fuzzer spends its time in the container walkers, not in
copying pixels; audio, video and documents come from the generators the carrier contract test
uses (ffmpeg, mutagen, zip). Every seed is labelled first (label, XMP, extras), so every label
place is populated, and a bare unlabelled copy is kept as well.
"""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT.parent), str(ROOT.parent / "tests")]

from aigc_tag import xmp  # noqa: E402
from aigc_tag.carriers import registry  # noqa: E402
from fuzz.targets import EXTRA, LABEL, SEEDS  # noqa: E402


def _image(fmt: str, **kw: object) -> bytes:
    im = Image.new("RGB", (32, 24), (200, 30, 30))
    for x in range(0, 32, 4):
        im.putpixel((x, x % 24), (0, 0, 255))
    buf = io.BytesIO()
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    if fmt == "GIF":
        frames = [im, im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
        frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], comment=b"c", loop=0)
    else:
        exif = Image.Exif()
        exif[0x010E] = "desc"
        im.save(buf, fmt, exif=exif.tobytes(), **kw)
    return buf.getvalue()


def build() -> dict[str, list[bytes]]:
    import test_carrier_contract as contract

    raw: dict[str, bytes] = {
        "jpeg": _image("JPEG", quality=70),
        "png": _image("PNG"),
        "webp": _image("WEBP", quality=50),
        "gif": _image("GIF"),
        "tiff": _image("TIFF"),
        "heif": _image("HEIF", quality=30),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in {**contract.GENERATED, **contract.REFINED}.items():
            raw[name] = make(Path(tmp))
    raw["txt"] = "AI生成 text\n\n".encode() + LABEL.encode() + b"\n"
    carriers = registry()
    out: dict[str, list[bytes]] = {}
    for name, data in raw.items():
        carrier = carriers[name]
        seeds = [data]
        if carrier.can_write and name != "txt":
            seeds.append(carrier.write_label(data, LABEL, EXTRA))
        out[name] = seeds
    packet = xmp.new_packet(LABEL, EXTRA)
    out["xmp"] = [
        packet,
        xmp.merge_label(packet.replace(b"TC260:AIGC", b"tc:AIGC"), LABEL),
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
        b'22-rdf-syntax-ns#"><rdf:Description TC260:AIGC="{}" xmlns:TC260="http://www.tc260.org'
        b'.cn/ns/AIGC/1.0/"/></rdf:RDF></x:xmpmeta>',
    ]
    out["label"] = [
        LABEL.encode(),
        b"AIGC{Label:1}",
        b"{'AIGC':{'Label':'2','ContentProducer':'x'}}",
        b'{"Label":1,"ProduceID":"a","Label":"2"}\x00',
        b"{&quot;AIGC&quot;:{&quot;Label&quot;:&quot;1&quot;}}",
    ]
    out["sniff"] = [seeds[0] for seeds in out.values() if seeds][:12]
    return out


def main() -> None:
    corpus = build()
    if SEEDS.exists():
        shutil.rmtree(SEEDS)
    total = 0
    for name, items in sorted(corpus.items()):
        folder = SEEDS / name
        folder.mkdir(parents=True)
        for i, data in enumerate(items):
            (folder / f"seed{i}").write_bytes(data)
            total += len(data)
        print(f"{name:10} {len(items)} seeds, {sum(map(len, items))} bytes")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
