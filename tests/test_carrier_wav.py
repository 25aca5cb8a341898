"""WAV carrier: RIFF files built here, checked with exiftool, ffprobe, soundfile and mutagen."""

from __future__ import annotations

import io
import json
import struct
import subprocess

import numpy as np
import pytest
import soundfile as sf
from conftest import exiftool_json
from mutagen.id3 import ID3, TIT2, TXXX
from mutagen.wave import WAVE

from aigc_tag import xmp as xmp_mod
from aigc_tag.carriers import riff, sniff
from aigc_tag.errors import AigcTagError, CorruptContainer, UnsupportedFormat
from aigc_tag.label import AIGCLabel

LABEL = AIGCLabel.for_producer("001191110102MACQD9K64010000", "wav-test-1").to_json()
OLD_LABEL = AIGCLabel.for_producer("001191440300708461136T1XGW3", "old-1").to_json()
CARRIER = riff.CARRIER


def chunk(fourcc: bytes, payload: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) & 1 else b"")


def samples(frames: int = 4410, channels: int = 2) -> np.ndarray:
    t = np.arange(frames)[:, None] * (1 + np.arange(channels))[None, :]
    return (np.sin(t * 0.05) * 12000).astype("<i2")


def fmt_pcm(channels: int = 2, rate: int = 44100, bits: int = 16) -> bytes:
    align = channels * bits // 8
    return struct.pack("<HHIIHH", 1, channels, rate, rate * align, align, bits)


def wav(*extra_before: bytes, after: tuple[bytes, ...] = (), pcm: bytes | None = None) -> bytes:
    pcm = samples().tobytes() if pcm is None else pcm
    body = chunk(b"fmt ", fmt_pcm()) + b"".join(extra_before) + chunk(b"data", pcm)
    body += b"".join(after)
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WAVE" + body


def info_list(*items: tuple[bytes, bytes]) -> bytes:
    return chunk(b"LIST", b"INFO" + b"".join(chunk(i, v) for i, v in items))


def id3_chunk(*frames: object) -> bytes:
    tags = ID3()
    for f in frames:
        tags.add(f)
    buf = io.BytesIO()
    tags.save(buf, v2_version=3, v1=0)
    return chunk(b"id3 ", buf.getvalue())


def rich_wav() -> bytes:
    """LIST/INFO (+ a label in ICMT and AIGC), bext, iXML, an odd chunk, _PMX, id3 with TXXX."""
    bext = b"desc".ljust(602, b"\0")
    pmx = xmp_mod.new_packet(OLD_LABEL)
    return wav(
        info_list((b"INAM", b"Song\0"), (b"ICMT", OLD_LABEL.encode() + b"\0"), (b"AIGC", b"x\0")),
        chunk(b"bext", bext),
        chunk(b"iXML", b"<BWFXML><NOTE>hi</NOTE></BWFXML>"),
        chunk(b"odd!", b"abc"),
        after=(
            chunk(b"_PMX", pmx),
            id3_chunk(
                TIT2(encoding=3, text="Title"), TXXX(encoding=3, desc="AIGC", text=OLD_LABEL)
            ),
        ),
    )


def run(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def ffprobe_tags(path) -> dict:
    out = run("ffprobe", "-v", "error", "-show_format", "-of", "json", str(path))
    return json.loads(out)["format"].get("tags", {})


def test_sniff_and_format():
    data = wav()
    assert sniff(data[:64]) is CARRIER
    fmt = riff.wav_format(data)
    assert (fmt.format_tag, fmt.channels, fmt.sample_rate, fmt.bits_per_sample) == (1, 2, 44100, 16)
    assert (fmt.block_align, fmt.data_offset, fmt.data_size) == (4, 44, 4410 * 4)
    assert not fmt.is_float and fmt.frames == 4410


def test_reads_every_place():
    found = CARRIER.read_labels(rich_wav())
    places = [(f.carrier, f.key, f.normative) for f in found]
    assert places == [
        ("riff-info", "ICMT", False),
        ("riff-info", "AIGC", False),
        ("xmp", "TC260:AIGC", False),
        ("id3-txxx", "TXXX:AIGC", False),
    ]
    assert found[0].parsed.fields["ProduceID"] == "old-1"


def test_write_keeps_everything_and_leaves_one_label(tmp_path):
    src = rich_wav()
    out = CARRIER.write_label(CARRIER.write_label(src, LABEL), LABEL, {"Caption": "audio"})
    found = CARRIER.read_labels(out)
    assert [(f.carrier, f.location, f.normative) for f in found] == [
        ("riff-chunk", "AIGC[5]", True)
    ]
    assert found[0].raw == LABEL
    assert CARRIER.read_extras(out) == {"Caption": "audio"}
    old = {c.fourcc: c.raw(src) for c in riff.chunks(src)}
    new = {c.fourcc: c.raw(out) for c in riff.chunks(out)}
    assert [c.fourcc for c in riff.chunks(out)] == [
        b"fmt ",
        b"LIST",
        b"bext",
        b"iXML",
        b"odd!",
        b"AIGC",
        b"data",
        b"_PMX",
        b"id3 ",
    ]
    for cc in (b"fmt ", b"bext", b"iXML", b"odd!", b"data"):
        assert new[cc] == old[cc]
    assert struct.unpack_from("<I", out, 4)[0] == len(out) - 8
    path = tmp_path / "rich.wav"
    path.write_bytes(out)
    pcm, rate = sf.read(path, dtype="int16")
    assert rate == 44100 and (pcm == samples()).all()
    rec = exiftool_json(path, "-b", "-U", "-RIFF:all", "-XMP:all", "-ID3:all", "-warning")
    assert rec["RIFF:Unknown_AIGC"] == LABEL
    assert rec["RIFF:Title"] == "Song" and "RIFF:Comment" not in rec
    assert rec["XMP-aigctag:Caption"] == "audio" and "XMP-TC260:AIGC" not in rec
    assert rec["ID3v2_3:Title"] == "Title" and "ExifTool:Warning" not in rec
    assert "AIGC" not in json.dumps({k: v for k, v in rec.items() if "Unknown_AIGC" not in k})
    tags = WAVE(path).tags
    assert str(tags["TIT2"]) == "Title" and not tags.getall("TXXX")
    assert ffprobe_tags(path)["title"] == "Song"
    cmd = ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-"]
    decoded = subprocess.run(cmd, capture_output=True, check=True).stdout
    assert decoded == samples().tobytes()


def test_odd_sizes_pad_and_missing_final_pad(tmp_path):
    src = wav(chunk(b"junk", b"x" * 7), pcm=samples(1001, 1).tobytes()[:2001] + b"")
    src = src[:-1]  # an odd data chunk whose final pad byte is missing
    src = src[:4] + struct.pack("<I", len(src) - 8) + src[8:]
    out = CARRIER.write_label(src, LABEL, {"Caption": "c"})
    assert len(out) % 2 == 0 and struct.unpack_from("<I", out, 4)[0] == len(out) - 8
    assert [c.fourcc for c in riff.chunks(out)] == [b"fmt ", b"junk", b"AIGC", b"data", b"_PMX"]


def test_extensible_float_and_replace_audio(tmp_path):
    x = (np.sin(np.arange(3000) * 0.01)[:, None] * [0.5, -0.25]).astype("<f4")
    buf = io.BytesIO()
    sf.write(buf, x, 48000, format="WAV", subtype="FLOAT")
    data = CARRIER.write_label(buf.getvalue(), LABEL)
    fmt = riff.wav_format(data)
    assert fmt.is_float and fmt.format_tag == 3 and fmt.bits_per_sample == 32
    assert fmt.data_size == x.nbytes
    new = (x[:2000] * 0.5).astype("<f4")
    out = riff.replace_audio(data, new.tobytes())
    facts = [c.payload(out) for c in riff.chunks(out) if c.fourcc == b"fact"]
    assert all(struct.unpack_from("<I", f)[0] == 2000 for f in facts)
    got, rate = sf.read(io.BytesIO(out), dtype="float32")
    assert rate == 48000 and np.array_equal(got, new)
    assert CARRIER.read_labels(out)[0].raw == LABEL
    with pytest.raises(ValueError):
        riff.replace_audio(data, b"\0" * 5)
    ext = io.BytesIO()
    sf.write(ext, x, 48000, format="WAV", subtype="PCM_24")
    fmt24 = riff.wav_format(ext.getvalue())
    assert (fmt24.format_tag, fmt24.bits_per_sample, fmt24.block_align) == (1, 24, 6)


def test_extensible_header_is_resolved():
    guid_pcm = struct.pack("<H", 1) + bytes.fromhex("000000001000800000aa00389b71")
    fmt = struct.pack("<HHIIHHHHI", 0xFFFE, 6, 48000, 48000 * 12, 12, 16, 22, 16, 0x3F)
    body = chunk(b"fmt ", fmt + guid_pcm) + chunk(b"data", b"\0" * 120)
    data = b"RIFF" + struct.pack("<I", len(body) + 4) + b"WAVE" + body
    f = riff.wav_format(data)
    assert (f.format_tag, f.extensible, f.channel_mask, f.channels) == (1, True, 0x3F, 6)


def test_rf64_read_and_write():
    pcm = samples(500).tobytes()
    ds64 = struct.pack("<QQQI", 0, len(pcm), 500, 0)
    body = chunk(b"ds64", ds64) + chunk(b"fmt ", fmt_pcm())
    body += b"data" + b"\xff\xff\xff\xff" + pcm
    ds = struct.pack("<Q", len(body) + 4)
    body = body[:8] + ds + body[16:]
    data = b"RF64\xff\xff\xff\xffWAVE" + body
    assert sniff(data[:64]) is CARRIER
    assert riff.wav_format(data).data_size == len(pcm)
    out = CARRIER.write_label(data, LABEL)
    assert struct.unpack_from("<Q", out, 20)[0] == len(out) - 8
    assert CARRIER.read_labels(out)[0].raw == LABEL
    got, _ = sf.read(io.BytesIO(out), dtype="int16")
    assert (got == samples(500)).all()
    shorter = riff.replace_audio(out, pcm[:400])
    assert riff.wav_format(shorter).data_size == 400
    assert struct.unpack_from("<QQQ", shorter, 20)[1:] == (400, 100)


def test_truncated_and_wrong_sizes_raise_corrupt():
    data = CARRIER.write_label(wav(), LABEL)
    with pytest.raises(CorruptContainer, match="declares"):
        CARRIER.write_label(data[:-100], LABEL)
    with pytest.raises(CorruptContainer, match="12-byte RIFF header"):
        riff.wav_format(data[:10])
    body = chunk(b"fmt ", fmt_pcm()[:8]) + chunk(b"data", b"\0" * 8)
    short_fmt = b"RIFF" + struct.pack("<I", len(body) + 4) + b"WAVE" + body
    with pytest.raises(CorruptContainer, match="fmt chunk is 8 bytes"):
        riff.wav_format(short_fmt)
    bad = bytearray(data)
    struct.pack_into("<I", bad, 16, 0x7FFFFFF0)
    with pytest.raises(CorruptContainer, match="'fmt '"):
        CARRIER.read_labels(bytes(bad))
    # a truncated data chunk is clamped for readers
    fmt = riff.wav_format(wav()[:1000])
    assert fmt.data_size == 1000 - 44
    with pytest.raises(UnsupportedFormat):
        CARRIER.read_labels(b"RIFF\0\0\0\0AVI LIST")
    for cut in range(0, len(data), 97):
        for call in (CARRIER.read_labels, CARRIER.read_xmp, CARRIER.has_c2pa):
            try:
                call(data[:cut])
            except AigcTagError:
                pass


def test_reencode_refused():
    with pytest.raises(UnsupportedFormat):
        CARRIER.reencode(wav(), lambda im: im)


def test_c2pa_signed_sample_keeps_manifest(thirdparty, tmp_path):
    path = thirdparty / "c2pa-signed" / "sample1_signed.wav"
    if not path.exists():
        pytest.skip("sample1_signed.wav absent")
    src = path.read_bytes()
    assert CARRIER.has_c2pa(src) and not CARRIER.has_c2pa(wav())
    assert CARRIER.read_labels(src) == []
    out = CARRIER.write_label(src, LABEL)
    old = {c.fourcc: c.raw(src) for c in riff.chunks(src)}
    new = {c.fourcc: c.raw(out) for c in riff.chunks(out)}
    assert new[b"C2PA"] == old[b"C2PA"] and new[b"data"] == old[b"data"]
    assert new[b"LIST"] == old[b"LIST"] and new[b"id3 "] == old[b"id3 "]
    assert CARRIER.has_c2pa(out)
    dst = tmp_path / "signed.wav"
    dst.write_bytes(out)
    rec = exiftool_json(dst, "-b", "-U", "-RIFF:Unknown_AIGC", "-warning")
    assert rec["RIFF:Unknown_AIGC"] == LABEL and "ExifTool:Warning" not in rec


def test_streamed_wav_from_a_pipe(tmp_path):
    cmd = ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=d=0.1", "-f", "wav", "-"]
    src = subprocess.run(cmd, capture_output=True, check=True).stdout
    assert struct.unpack_from("<I", src, 4)[0] == 0xFFFFFFFF
    fmt = riff.wav_format(src)
    assert fmt.data_offset + fmt.data_size == len(src)
    out = CARRIER.write_label(src, LABEL, {"Caption": "c"})
    assert struct.unpack_from("<I", out, 4)[0] == len(out) - 8
    assert [c.fourcc for c in riff.chunks(out)] == [b"fmt ", b"LIST", b"AIGC", b"data", b"_PMX"]
    assert riff.wav_format(out).data_size == fmt.data_size
    got, _ = sf.read(io.BytesIO(out), dtype="int16")
    want = np.frombuffer(src[fmt.data_offset :], "<i2")
    assert np.array_equal(got, want)
