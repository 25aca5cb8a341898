"""Tagging and verifying audio end to end: Tagger, verify and the CLI on real files.

External readers confirm what we wrote: ffprobe (stream parameters, tags), soundfile (samples)
and mutagen (ID3). The media are the project's samples, files made here with numpy/ffmpeg, and
the third-party samples in ../shared (skipped when absent).
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from aigc_tag import Tagger, verify, verify_bytes
from aigc_tag.cli import main
from aigc_tag.errors import AigcTagError, ExistingManifest
from aigc_tag.label import AIGCLabel
from aigc_tag.watermark.payload import Payload
from tests.conftest import PRODUCER

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")

SAMPLES = Path(__file__).parent.parent / "samples"


def ffprobe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
         str(path)],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    info = json.loads(out)
    return {"format": info["format"], "audio": [s for s in info["streams"]
                                                if s["codec_type"] == "audio"][0]}  # fmt: skip


def tags(info: dict) -> dict:
    merged = {**info["audio"].get("tags", {}), **info["format"].get("tags", {})}
    return {k.upper(): v for k, v in merged.items()}


def wav_bytes(samples: np.ndarray, rate: int, bits: int = 16) -> bytes:
    """A plain PCM WAV (what most generators write)."""
    samples = samples if samples.ndim == 2 else samples[:, None]
    channels = samples.shape[1]
    full = float(1 << (bits - 1))
    ints = np.clip(np.rint(samples * full), -full, full - 1).astype(np.int64)
    if bits == 24:
        pcm = ints.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        pcm = ints.astype(f"<i{bits // 8}").tobytes()
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(pcm))
    return b"RIFF" + struct.pack("<I", len(body) + len(pcm)) + body + pcm


def music(rate: int, seconds: float, channels: int = 1, seed: int = 0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    rng = np.random.default_rng(seed)
    x = np.zeros_like(t)
    for start in np.arange(0, seconds, 0.4):
        f = rng.choice([196.0, 220.0, 262.0, 330.0, 392.0])
        env = np.where(t >= start, np.exp(-(t - start) * 5), 0.0)
        x += 0.25 * env * (np.sin(2 * np.pi * f * t) + 0.4 * np.sin(4 * np.pi * f * t))
    x += 0.01 * rng.standard_normal(len(t))
    x = np.clip(x, -0.9, 0.9)
    return np.stack([np.roll(x, 37 * c) for c in range(channels)], axis=1).astype(np.float32)


def read_samples(data: bytes) -> tuple[np.ndarray, int]:
    import soundfile

    samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return samples, rate


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(PRODUCER)


def expected_payload(result) -> str:  # noqa: ANN001
    return Payload.for_label(PRODUCER, result.label.ProduceID).hex()


# --------------------------------------------------------------------------- WAV


def test_wav_sample_gets_all_three_layers_and_verifies(tagger: Tagger, tmp_path: Path) -> None:
    src = SAMPLES / "tune.wav"
    dst = tmp_path / "tune.wav"
    result = tagger.tag_file(src, dst)
    assert result.layers == ["audible", "watermark", "metadata"]
    assert result.audible[0]["kind"] == "rhythm" and result.audible[0]["where"] == "start"
    before, after = ffprobe(src), ffprobe(dst)
    for key in ("codec_name", "sample_rate", "channels", "bits_per_sample"):
        assert after["audio"][key] == before["audio"][key]
    # ffprobe does not read custom RIFF chunks; our own walker does (exiftool: test_carrier_wav).
    from aigc_tag.carriers import riff

    written = riff.CARRIER.read_labels(dst.read_bytes())
    assert [f.raw for f in written] == [
        AIGCLabel.for_producer(PRODUCER, result.label.ProduceID).to_json()
    ]
    assert tags(after)["ENCODER"] == "aigc-tag make_samples.py"  # LIST/INFO ISFT kept
    samples, rate = read_samples(dst.read_bytes())
    original, _ = read_samples(src.read_bytes())
    assert rate == 16000 and len(samples) > len(original) + rate  # cue + padding in front

    report = verify(dst)
    assert report.verdict.value == "compliant", report.to_json()
    outcomes = {c.id: c.outcome.value for c in report.checks}
    assert outcomes["X-A1"] == "pass" and outcomes["X-A2"] == "pass"
    assert outcomes["W01"] == "pass" and outcomes["W02"] == "pass"
    assert report.watermark["payload"]["hex"] == expected_payload(result)
    assert report.audible_label["rhythm"][0]["start_s"] < 1.0
    assert report.audible_label["declared"]["found"] is True


def test_metadata_only_keeps_every_sample_byte(tmp_path: Path) -> None:
    from aigc_tag.carriers import riff

    data = (SAMPLES / "tune.wav").read_bytes()
    out, result = Tagger(PRODUCER, visible=False, watermark=False).tag_bytes(data)
    assert result.layers == ["metadata"]
    a, b = riff.wav_format(data), riff.wav_format(out)
    assert data[a.data_offset : a.data_offset + a.data_size] == out[
        b.data_offset : b.data_offset + b.data_size
    ]


@pytest.mark.parametrize(
    ("rate", "channels", "bits"), [(8000, 1, 16), (48000, 2, 24), (192000, 8, 16)]
)
def test_wav_rates_channels_depths_are_kept(rate: int, channels: int, bits: int) -> None:
    data = wav_bytes(music(rate, 6.0, channels), rate, bits)
    out, result = Tagger(PRODUCER).tag_bytes(data, name="gen.wav")
    samples, out_rate = read_samples(out)
    assert out_rate == rate and samples.shape[1] == channels
    import soundfile

    assert soundfile.info(io.BytesIO(out)).subtype == f"PCM_{bits}"
    assert "watermark" in result.layers, result.warnings
    report = verify_bytes(out, name="gen.wav")
    assert report.verdict.value == "compliant", [c.to_json() for c in report.failed()]
    assert report.watermark["payload"]["hex"] == expected_payload(result)


def test_label_boundaries_have_no_click() -> None:
    """A loud programme that starts and ends at full level: every join (cue edges, programme
    edges) is smoother than the programme's own steepest sample step."""
    rate = 44100
    t = np.arange(rate * 5) / rate
    loud = (0.8 * np.sin(2 * np.pi * 300 * t + 1.0)).astype(np.float32)
    out, result = Tagger(PRODUCER, watermark=False, audible_at="both").tag_bytes(
        wav_bytes(loud, rate), name="loud.wav"
    )
    samples, _ = read_samples(out)
    steps = np.abs(np.diff(samples[:, 0]))
    start, end = result.audible
    tone = steps[int((start["start_s"] + 0.05) * rate) : int((start["start_s"] + 0.1) * rate)]
    natural = max(np.abs(np.diff(loud)).max(), tone.max())  # the programme's and the tone's own
    joins = [start["start_s"], start["end_s"], end["start_s"], end["end_s"]]
    programme = (start["end_s"] + 0.3, end["start_s"] - 0.3)  # 0.3 s padding each side
    for at in [*joins, *programme]:
        i = int(at * rate)
        window = steps[max(i - 441, 0) : i + 441]  # ±10 ms
        assert window.max() <= natural * 1.05, at
    assert len(samples) == pytest.approx(len(loud) + 2 * (1.32 + 0.6) * rate, abs=0.02 * rate)


def test_voice_prompt_at_end_and_user_clip(tmp_path: Path) -> None:
    data = wav_bytes(music(22050, 6.0), 22050)
    out, result = Tagger(PRODUCER, audible="voice-zh", audible_at="end").tag_bytes(data)
    assert result.audible[0]["kind"] == "voice-zh" and result.audible[0]["where"] == "end"
    report = verify_bytes(out)
    assert report.audible_label["declared"]["found"] is True
    assert report.verdict.value == "compliant"

    clip = tmp_path / "my-label.wav"
    clip.write_bytes(wav_bytes(music(16000, 1.5, seed=9), 16000))
    out, result = Tagger(PRODUCER, audible=f"clip:{clip}", watermark=False).tag_bytes(data)
    assert result.audible[0]["kind"] == "clip"
    samples, _ = read_samples(out)
    assert len(samples) > 6.0 * 22050 + 1.5 * 22050


def test_silenced_cue_is_noncompliant(tagger: Tagger) -> None:
    from aigc_tag.audio_io import decode, encode
    from aigc_tag.carriers import sniff

    out, result = tagger.tag_bytes(wav_bytes(music(16000, 6.0), 16000), name="x.wav")
    carrier = sniff(out[:64])
    decoded = decode(out, carrier)
    cue = result.audible[0]
    cut = decoded.samples.copy()
    cut[int(cue["start_s"] * 16000) : int(cue["end_s"] * 16000) + 1] = 0.0
    report = verify_bytes(encode(cut, decoded, out, carrier), name="cut.wav")
    assert {c.id: c.outcome.value for c in report.checks}["X-A1"] == "fail"
    assert report.verdict.value == "noncompliant"


def test_zero_length_audio_gets_the_cue_and_label() -> None:
    out, result = Tagger(PRODUCER).tag_bytes(wav_bytes(np.zeros(0), 16000), name="empty.wav")
    assert "audible" in result.layers and "metadata" in result.layers
    assert "watermark" not in result.layers and result.warnings
    samples, _ = read_samples(out)
    assert len(samples) > 0


def test_truncated_wav_fails_cleanly_and_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "broken.wav"
    src.write_bytes((SAMPLES / "tune.wav").read_bytes()[:30])
    with pytest.raises(AigcTagError, match="broken.wav"):
        Tagger(PRODUCER).tag_file(src, tmp_path / "out.wav")
    assert not (tmp_path / "out.wav").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["broken.wav"]


# --------------------------------------------------------------------------- lossy and FLAC


def test_mp3_sample_keeps_id3_and_bitrate(tagger: Tagger, tmp_path: Path) -> None:
    from mutagen.id3 import ID3

    src, dst = SAMPLES / "narration.mp3", tmp_path / "narration.mp3"
    result = tagger.tag_file(src, dst)
    assert result.layers == ["audible", "watermark", "metadata"], result.warnings
    before, after = ffprobe(src), ffprobe(dst)
    assert after["audio"]["sample_rate"] == before["audio"]["sample_rate"]
    assert after["audio"]["channels"] == before["audio"]["channels"]
    assert int(after["audio"]["bit_rate"]) >= int(before["audio"]["bit_rate"])
    id3 = ID3(dst)
    assert id3.version[:2] == (2, 3)
    assert str(id3["TIT2"]) == "Sample narration"
    assert json.loads(str(id3["TXXX:AIGC"]))["AIGC"]["ProduceID"] == result.label.ProduceID
    report = verify(dst)
    assert report.verdict.value == "compliant", [c.to_json() for c in report.failed()]
    assert report.watermark["payload"]["hex"] == expected_payload(result)


@pytest.mark.parametrize(
    ("suffix", "args"),
    [
        (".flac", ["-c:a", "flac", "-sample_fmt", "s32", "-bits_per_raw_sample", "24"]),
        (".ogg", ["-c:a", "libvorbis", "-b:a", "96k"]),
        (".opus", ["-c:a", "libopus", "-b:a", "64k"]),
        (".m4a", ["-c:a", "aac", "-b:a", "128k"]),
    ],
)
def test_codecs_round_trip_with_all_layers(suffix: str, args: list[str], tmp_path: Path) -> None:
    wav = tmp_path / "in.wav"
    wav.write_bytes(wav_bytes(music(44100, 8.0, 2), 44100))
    src = tmp_path / f"in{suffix}"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(wav), *args, "-metadata", "title=Song", str(src)],
        check=True,
    )
    dst = tmp_path / f"out{suffix}"
    result = Tagger(PRODUCER).tag_file(src, dst)
    assert result.layers == ["audible", "watermark", "metadata"], result.warnings
    before, after = ffprobe(src), ffprobe(dst)
    for key in ("codec_name", "sample_rate", "channels"):
        assert after["audio"][key] == before["audio"][key]
    if suffix == ".flac":
        assert after["audio"]["bits_per_raw_sample"] == "24"
    assert tags(after)["TITLE"] == "Song"
    assert "AIGC" in tags(after)
    report = verify(dst)
    assert report.verdict.value == "compliant", [c.to_json() for c in report.failed()]
    assert report.watermark["payload"]["hex"] == expected_payload(result)


@pytest.mark.parametrize("fmt", ["wav", "mp3", "ogg"])
def test_tag_audio_from_a_pipeline_array(fmt: str) -> None:
    """A TTS model's float output, encoded once, with every layer in the target format."""
    import aigc_tag

    speech_like = music(24000, 7.0)[:, 0]
    out = aigc_tag.tag_audio(speech_like, 24000, producer=PRODUCER, format=fmt,
                             audible_at="end")  # fmt: skip
    info = ffprobe_bytes(out, fmt)
    assert int(info["audio"]["sample_rate"]) == 24000 and info["audio"]["channels"] == 1
    report = verify_bytes(out)
    assert report.format == fmt and report.verdict.value == "compliant"
    assert report.watermark["payload"] is not None
    assert report.audible_label["declared"]["placements"][0]["where"] == "end"


def ffprobe_bytes(data: bytes, suffix: str) -> dict:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=f".{suffix}") as fh:
        fh.write(data)
        fh.flush()
        return ffprobe(Path(fh.name))


# --------------------------------------------------------------------------- third party, CLI


def test_thirdparty_mp3_and_signed_wav(thirdparty: Path, tmp_path: Path) -> None:
    mp3 = thirdparty / "unsigned" / "sample1.mp3"
    result = Tagger(PRODUCER).tag_file(mp3, tmp_path / "sample1.mp3")
    assert "metadata" in result.layers and "audible" in result.layers
    assert verify(tmp_path / "sample1.mp3").verdict.value == "compliant"

    signed = thirdparty / "c2pa-signed" / "sample1_signed.wav"
    with pytest.raises(ExistingManifest, match="C2PA"):
        Tagger(PRODUCER).tag_file(signed, tmp_path / "signed.wav")
    Tagger(PRODUCER, break_c2pa=True, visible=False, watermark=False).tag_file(
        signed, tmp_path / "signed.wav"
    )
    report = verify(tmp_path / "signed.wav")
    assert report.metadata_label["ProduceID"]


def test_cli_tags_and_verifies_audio(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    res = runner.invoke(
        main,
        ["tag", str(SAMPLES / "tune.wav"), "-o", str(out), "--producer", PRODUCER,
         "--audible", "voice-en", "--audible-at", "both", "--json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    line = json.loads(res.stdout.splitlines()[0])
    assert [p["where"] for p in line["result"]["audible"]] == ["start", "end"]
    res = runner.invoke(main, ["verify", str(out / "tune.wav"), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["audible_label"]["declared"]["found"] is True
    bad = runner.invoke(main, ["tag", str(SAMPLES / "tune.wav"), "-o", str(out),
                               "--producer", PRODUCER, "--audible", "beep"])  # fmt: skip
    assert bad.exit_code == 2 and "beep" in bad.output


def test_flac_signed_with_c2pa_is_read_and_resigned(tmp_path: Path) -> None:
    """c2pa-rs stores a FLAC manifest in an ID3v2 tag before fLaC: still our FLAC carrier."""
    from aigc_tag.provenance.keys import init_keys
    from aigc_tag.provenance.sign import C2paSigner

    init_keys(tmp_path / "keys")
    keys = tmp_path / "keys"
    signer = C2paSigner.from_files(keys / "chain.pem", keys / "signer.key")
    root = (tmp_path / "keys" / "root.pem").read_text()
    wav = tmp_path / "in.wav"
    wav.write_bytes(wav_bytes(music(44100, 6.0, 2), 44100))
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), str(tmp_path / "in.flac")], check=True)
    out, result = Tagger(PRODUCER, c2pa_signer=signer).tag_bytes(
        (tmp_path / "in.flac").read_bytes(), name="in.flac"
    )
    assert out.startswith(b"ID3") and result.layers[-1] == "c2pa"
    report = verify_bytes(out, trust_anchors_pem=root)
    assert (report.format, report.verdict.value, report.c2pa["state"]) == (
        "flac", "compliant", "Trusted"
    )
    with pytest.raises(ExistingManifest):  # a signed FLAC is guarded like any signed file
        Tagger(PRODUCER, visible=False, watermark=False).tag_bytes(out, name="again.flac")


def test_ogg_gets_a_signed_c2pa_sidecar(tmp_path: Path) -> None:
    """Ogg cannot hold a manifest: --c2pa-sidecar writes FILE.c2pa, which verify reads."""
    from aigc_tag.provenance.keys import init_keys

    init_keys(tmp_path / "keys")
    wav = tmp_path / "in.wav"
    wav.write_bytes(wav_bytes(music(44100, 6.0), 44100))
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), "-c:a", "libvorbis",
                    str(tmp_path / "in.ogg")], check=True)  # fmt: skip
    out = tmp_path / "out"
    res = CliRunner().invoke(main, [
        "tag", str(tmp_path / "in.ogg"), "-o", str(out), "--producer", PRODUCER, "--no-ledger",
        "--c2pa", "--cert", str(tmp_path / "keys" / "chain.pem"),
        "--key", str(tmp_path / "keys" / "signer.key"), "--c2pa-sidecar",
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (out / "in.ogg.c2pa").stat().st_size > 0
    root = (tmp_path / "keys" / "root.pem").read_text()
    report = verify(out / "in.ogg", trust_anchors_pem=root)
    assert report.c2pa["state"] == "Trusted" and report.c2pa["ai_declared"] is True
    (out / "in.ogg").write_bytes((out / "in.ogg").read_bytes() + b"x")  # edited after signing
    assert verify(out / "in.ogg", trust_anchors_pem=root).c2pa["state"] == "Invalid"
