"""HEIF/HEIC/AVIF carrier: files made with pillow-heif and Pillow, third-party samples; the
written files are read back by exiftool, decoded by pillow-heif/Pillow and opened by c2pa."""

from __future__ import annotations

import io
import json
import subprocess
import zlib

import pytest
from conftest import PRODUCER, exiftool_json, needs_exiftool, needs_samples, photo
from conftest import UNSIGNED as SAMPLES
from PIL import Image, features

from aigc_tag import Tagger, xmp
from aigc_tag.carriers import heif
from aigc_tag.errors import AigcTagError, UnsupportedFormat
from aigc_tag.imaging import open_image
from aigc_tag.label import AIGCLabel

pillow_heif = pytest.importorskip("pillow_heif")

LABEL = AIGCLabel.for_producer("001191110102MACQD9K64010000", "heif-test-1").to_json()
CARRIER = heif.CARRIER


@pytest.fixture(scope="module")
def labelled_heic() -> bytes:
    buf = io.BytesIO()
    image = pillow_heif.from_pillow(Image.new("RGB", (64, 48), (200, 30, 30)))
    image.save(buf, format="HEIF", xmp=xmp.new_packet(LABEL), quality=40)
    return buf.getvalue()


def test_reads_the_xmp_item(labelled_heic):
    assert CARRIER.accept(labelled_heic[:64])
    (found,) = CARRIER.read_labels(labelled_heic)
    assert (found.carrier, found.normative, found.key) == ("xmp", True, "TC260:AIGC")
    assert found.location.startswith("meta/item[")
    assert found.parsed.strict and found.parsed.fields["ProduceID"] == "heif-test-1"
    assert CARRIER.read_xmp(labelled_heic) == xmp.new_packet(LABEL)


@needs_exiftool
def test_exiftool_agrees(labelled_heic, tmp_path):
    path = tmp_path / "labelled.heic"
    path.write_bytes(labelled_heic)
    cmd = ["exiftool", "-j", "-a", "-G1", "-XMP-TC260:all", str(path)]
    (rec,) = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    assert [v for k, v in rec.items() if k.upper().endswith(":AIGC")] == [LABEL]


@pytest.mark.skipif(not features.check("avif"), reason="Pillow built without AVIF")
def test_reads_avif_written_by_pillow():
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), "blue").save(buf, "AVIF", xmp=xmp.new_packet(LABEL), quality=30)
    data = buf.getvalue()
    assert CARRIER.accept(data[:64])
    assert [f.parsed.fields["ProduceID"] for f in CARRIER.read_labels(data)] == ["heif-test-1"]


def test_falls_back_to_a_packet_scan(labelled_heic):
    # Same length, so every iloc offset stays right; the item is no longer typed as XMP.
    hidden = labelled_heic.replace(b"application/rdf+xml", b"application/xyz+xml", 1)
    (found,) = CARRIER.read_labels(hidden)
    assert (found.location, found.normative) == ("scan/XMP", False)


def test_accept_checks_brands_only():
    mp4 = b"\0\0\0\x18ftypisom\0\0\0\0isommp42" + b"\0" * 40
    assert not CARRIER.accept(mp4)
    assert not CARRIER.accept(b"\x89PNG\r\n\x1a\n" + b"\0" * 56)
    assert CARRIER.accept(b"\0\0\0\x18ftypmif1\0\0\0\0mif1heic" + b"\0" * 40)


@needs_samples
@pytest.mark.parametrize("name", ["sample1.heic", "sample1.avif"])
def test_third_party_samples_have_no_label(name):
    data = (SAMPLES / name).read_bytes()
    assert CARRIER.accept(data[:64])
    assert CARRIER.read_labels(data) == []
    assert CARRIER.read_xmp(data) is None


def test_truncated_and_corrupt_inputs_raise_only_our_errors(labelled_heic):
    for cut in range(0, len(labelled_heic), 97):
        for call in (CARRIER.read_labels, CARRIER.read_xmp):
            try:
                call(labelled_heic[:cut])
            except AigcTagError:
                pass
    meta = labelled_heic.index(b"meta") - 4
    broken = bytearray(labelled_heic)
    broken[meta : meta + 4] = b"\x7f\xff\xff\xff"  # meta box larger than the file
    with pytest.raises(AigcTagError, match="truncated"):
        CARRIER.read_labels(bytes(broken))


# --- writing -----------------------------------------------------------------------------------

NEEDS_AVIF = pytest.mark.skipif(not features.check("avif"), reason="Pillow built without AVIF")
OTHER_XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
    b'22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"'
    b"><dc:creator><rdf:Seq><rdf:li>Someone</rdf:li></rdf:Seq></dc:creator></rdf:Description>"
    b"</rdf:RDF></x:xmpmeta>"
)


def _exif(comment: str | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Maker"
    if comment is not None:
        exif.get_ifd(0x8769)[0x9286] = b"ASCII\0\0\0" + comment.encode()
    return exif.tobytes()


def _heic(**meta: bytes) -> bytes:
    buf = io.BytesIO()
    pillow_heif.from_pillow(photo(96, 64)).save(buf, format="HEIF", quality=50, **meta)
    return buf.getvalue()


def _avif(**meta: bytes) -> bytes:
    buf = io.BytesIO()
    photo(96, 64).save(buf, "AVIF", quality=50, **meta)
    return buf.getvalue()


MADE = {
    "heic-bare": lambda: _heic(),
    "heic-exif-xmp": lambda: _heic(exif=_exif(), xmp=OTHER_XMP),
    "heic-exif-label": lambda: _heic(exif=_exif(comment=LABEL)),
    "avif-bare": lambda: _avif(),
    "avif-exif-xmp": lambda: _avif(exif=_exif(), xmp=OTHER_XMP),
}


def _pixels(data: bytes) -> bytes:
    return open_image(data).convert("RGBA").tobytes()


def _coded_items(data: bytes) -> dict[int, bytes]:
    """The bytes of every coded image item (hvc1/av01), by item id."""
    meta = next(b for b in heif._boxes(data, 0, len(data), "file") if b.type == b"meta")
    kids = {b.type: b for b in heif._boxes(data, meta.body + 4, meta.end, "meta")}
    items = heif._parse_iinf(data, kids[b"iinf"])
    coded = {i: item for i, item in items.items() if item.item_type in (b"hvc1", b"av01")}
    heif._parse_iloc(data, kids[b"iloc"], coded)
    return {i: heif._item_bytes(data, item, kids.get(b"idat")) for i, item in coded.items()}


def _labels(data: bytes) -> list[str]:
    return [f.parsed.fields["ProduceID"] for f in CARRIER.read_labels(data)]


@pytest.mark.parametrize("name", [n for n in MADE if n.startswith("heic")] + [
    pytest.param(n, marks=NEEDS_AVIF) for n in MADE if n.startswith("avif")])  # fmt: skip
def test_write_is_lossless_and_reads_back(name):
    data = MADE[name]()
    out = CARRIER.write_label(data, LABEL, {"Caption": "c"})
    assert _labels(out) == ["heif-test-1"]
    assert xmp.aigctag_properties(CARRIER.read_xmp(out)) == {"Caption": "c"}
    assert _pixels(out) == _pixels(data)
    assert _coded_items(out) == _coded_items(data)  # the coded images are copied byte for byte
    if "xmp" in name:  # merged into the existing XMP item, its other properties kept
        assert b"<rdf:li>Someone</rdf:li>" in CARRIER.read_xmp(out)
        assert out.count(b"application/rdf+xml") == 1
    assert (b"ASCII\0\0\0{" in data) == name.endswith("label")
    assert b"ASCII\0\0\0{" not in out  # a label copy in the Exif UserComment is blanked
    assert b"Maker" in out or name.endswith("bare")


def test_rewriting_replaces_the_label_and_does_not_grow(labelled_heic):
    once = CARRIER.write_label(labelled_heic, LABEL)
    twice = CARRIER.write_label(once, LABEL)
    assert len(twice) == len(once) and _labels(twice) == ["heif-test-1"]
    other = AIGCLabel.for_producer("001191110102MACQD9K64010000", "heif-test-2").to_json()
    changed = CARRIER.write_label(twice, other)
    assert _labels(changed) == ["heif-test-2"]
    assert changed.count(b"heif-test-1") == 0  # the old copy is gone, not just unreferenced
    assert _pixels(changed) == _pixels(labelled_heic)


@needs_exiftool
@pytest.mark.parametrize("fmt", ["heic", pytest.param("avif", marks=NEEDS_AVIF)])
def test_exiftool_reads_the_written_label(fmt, tmp_path):
    data = MADE[f"{fmt}-exif-xmp"]()
    path = tmp_path / f"out.{fmt}"
    path.write_bytes(CARRIER.write_label(data, LABEL))
    rec = json.loads(
        subprocess.run(
            ["exiftool", "-XMP:all", "-j", str(path)], capture_output=True, text=True, check=True
        ).stdout  # fmt: skip
    )[0]
    assert rec["Aigc"] == LABEL and rec["Creator"] == "Someone"
    check = subprocess.run(["exiftool", "-validate", "-warning", "-a", str(path)],
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "Validate                        : OK" in check


@pytest.mark.parametrize("fmt", ["heic", pytest.param("avif", marks=NEEDS_AVIF)])
def test_c2pa_still_opens_the_file(fmt):
    c2pa = pytest.importorskip("c2pa")
    out = CARRIER.write_label(MADE[f"{fmt}-exif-xmp"](), LABEL)
    with pytest.raises(c2pa.C2paError.ManifestNotFound):  # parsed to the end: no manifest
        c2pa.Reader(f"image/{fmt}", io.BytesIO(out))


@needs_samples
@pytest.mark.parametrize("name", ["sample1.heic", "sample1.avif"])
def test_third_party_samples_are_written(name, tmp_path):
    data = (SAMPLES / name).read_bytes()
    out = CARRIER.write_label(data, LABEL)
    assert _labels(out) == ["heif-test-1"]
    assert _coded_items(out) == _coded_items(data) and _pixels(out) == _pixels(data)
    path = tmp_path / name
    path.write_bytes(out)
    assert exiftool_json(path, "-XMP-TC260:all").get("XMP-TC260:Aigc") == LABEL


def test_an_xmp_item_in_idat_with_deflate_is_moved_out(labelled_heic):
    data = _into_idat(labelled_heic)
    assert _labels(data) == ["heif-test-1"]  # the reader follows idat and inflates
    other = AIGCLabel.for_producer("001191110102MACQD9K64010000", "heif-test-3").to_json()
    out = CARRIER.write_label(data, other)
    assert _labels(out) == ["heif-test-3"]
    assert _pixels(out) == _pixels(labelled_heic)
    assert zlib.compress(xmp.new_packet(LABEL)) not in out  # the old idat copy is zeroed


def _into_idat(data: bytes) -> bytes:
    """``data`` with its XMP item deflated into ``meta/idat`` (construction method 1)."""
    meta = next(b for b in heif._boxes(data, 0, len(data), "file") if b.type == b"meta")
    children = list(heif._boxes(data, meta.body + 4, meta.end, "meta"))
    kids = {b.type: b for b in children}
    item_id = next(i for i, it in heif._parse_iinf(data, kids[b"iinf"]).items()
                   if it.item_type == b"mime")  # fmt: skip
    packed = zlib.compress(CARRIER.read_xmp(data))
    deflated = {item_id: heif._new_infe(item_id, b"deflate")}
    iinf = heif._serialize_iinf(data, kids[b"iinf"], deflated, [])
    idat = heif._box(b"idat", packed)
    iloc = heif._parse_iloc_full(data, kids[b"iloc"])
    parts = [data[c.start : c.end] for c in children if c.type not in (b"iloc", b"iinf")]
    delta = 0
    for _ in range(4):
        entries = [
            heif._Loc(loc.item_id, 1, 0, 0, [(0, 0, len(packed))]) if loc.item_id == item_id
            else heif._shifted(loc, len(data), meta, delta)
            for loc in iloc.entries
        ]  # fmt: skip
        new_iloc = heif._serialize_iloc(heif._Iloc(1, 4, 4, 4, 0, entries))
        new_meta = heif._box(b"meta", bytes(4) + new_iloc + iinf + idat + b"".join(parts))
        delta = len(new_meta) - (meta.end - meta.start)
    return data[: meta.start] + new_meta + data[meta.end :]


def test_caption_and_watermark_reencode_in_the_source_codec():
    data = _heic(exif=_exif(), xmp=OTHER_XMP)
    out, result = Tagger(PRODUCER, watermark=False).tag_bytes(data)
    assert result.layers == ["visible", "metadata"]
    assert open_image(out).format == "HEIF" and _pixels(out) != _pixels(data)
    assert b"<rdf:li>Someone</rdf:li>" in CARRIER.read_xmp(out) and b"Maker" in out
    assert _labels(out) == [result.label.ProduceID]


@NEEDS_AVIF
def test_avif_caption_stays_avif():
    out, result = Tagger(PRODUCER, watermark=False).tag_bytes(_avif())
    assert "visible" in result.layers and open_image(out).format == "AVIF"


def test_metadata_only_tagging_never_reencodes():
    data = _heic()
    out, result = Tagger(PRODUCER, visible=False, watermark=False).tag_bytes(data)
    assert result.layers == ["metadata"] and _coded_items(out) == _coded_items(data)


def test_writer_refuses_what_it_cannot_do(labelled_heic):
    no_meta = labelled_heic.replace(b"meta", b"free", 1)
    with pytest.raises(UnsupportedFormat, match="meta"):
        CARRIER.write_label(no_meta, LABEL)
    for cut in range(0, len(labelled_heic), 61):
        try:
            CARRIER.write_label(labelled_heic[:cut], LABEL)
        except AigcTagError:
            pass


def test_a_labelled_heic_can_be_c2pa_signed(tmp_path):
    pytest.importorskip("c2pa")
    from aigc_tag.carriers import sniff_content
    from aigc_tag.provenance import inspect_c2pa
    from aigc_tag.provenance.keys import init_keys
    from aigc_tag.provenance.sign import C2paSigner

    pki = init_keys(tmp_path)
    signer = C2paSigner.from_files(pki.chain, pki.signer_key)
    tagger = Tagger(PRODUCER, c2pa_signer=signer, visible=False, watermark=False)
    out, result = tagger.tag_bytes(_heic(exif=_exif(), xmp=OTHER_XMP))
    # c2pa-rs inserts its manifest box before meta and moves every iloc offset: our XMP item
    # must still read back and the manifest's hash of the file must validate.
    assert _labels(out) == [result.label.ProduceID]
    info = inspect_c2pa(out, sniff_content(out).mime, trust_anchors_pem=pki.root_cert.read_text())
    assert info["intact"] and info["state"] == "Trusted"


@needs_samples
@pytest.mark.parametrize("name", ["sample1.heic", "sample1.avif"])
def test_third_party_samples_tag_with_every_layer_and_verify(name, tmp_path):
    import aigc_tag
    from aigc_tag.verify.report import Verdict

    src, out = SAMPLES / name, tmp_path / name
    assert aigc_tag.verify(src).verdict is Verdict.NOT_FOUND
    result = Tagger(PRODUCER).tag_file(src, out)
    assert result.layers == ["visible", "watermark", "metadata"]
    assert open_image(out.read_bytes()).format == open_image(src.read_bytes()).format
    assert aigc_tag.verify(out).verdict is Verdict.COMPLIANT
