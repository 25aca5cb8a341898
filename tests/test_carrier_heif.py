"""HEIF/HEIC/AVIF carrier (read-only): labelled files made with pillow-heif and Pillow."""

from __future__ import annotations

import io
import json
import subprocess

import pytest
from conftest import UNSIGNED as SAMPLES
from conftest import needs_exiftool, needs_samples
from PIL import Image, features

from aigc_tag import xmp
from aigc_tag.carriers import heif
from aigc_tag.errors import AigcTagError, UnsupportedFormat
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


def test_writing_is_refused(labelled_heic):
    assert CARRIER.can_write is False
    with pytest.raises(UnsupportedFormat, match="writing HEIF/AVIF is not supported"):
        CARRIER.write_label(labelled_heic, LABEL)
    with pytest.raises(UnsupportedFormat, match="writing HEIF/AVIF is not supported"):
        CARRIER.reencode(labelled_heic, lambda im: im)


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
