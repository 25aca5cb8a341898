"""C2PA signing with real c2pa-python: our outputs verify Trusted against a ``keys init`` root,
tampering is caught, unsupported formats get a sidecar, existing manifests become parents, and
third-party samples read as their known states."""

from __future__ import annotations

import io
import shutil
import subprocess
import wave

import numpy as np
import pytest
from conftest import PRODUCER, THIRDPARTY, encode, photo

from aigc_tag.carriers import sniff_content
from aigc_tag.errors import ExistingManifest, UnsupportedFormat
from aigc_tag.label import AIGCLabel
from aigc_tag.provenance import inspect_c2pa
from aigc_tag.provenance.keys import init_keys
from aigc_tag.provenance.sign import (
    ANNEX_E_ASSERTION,
    SOFT_BINDING_ALG,
    TRAINED,
    C2paSigner,
    SigningError,
    sign_bytes,
    sign_sidecar,
)
from aigc_tag.tagging import Tagger

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not found")
SIGNED = THIRDPARTY / "c2pa-signed"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return init_keys(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def signer(pki):
    return C2paSigner.from_files(pki.chain, pki.signer_key)


@pytest.fixture(scope="module")
def root(pki) -> str:
    return pki.root_cert.read_text()


def wav_bytes(seconds: float = 1.0, rate: int = 16000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    samples = (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def ffmpeg_bytes(tmp_path, name: str, *args: str) -> bytes:
    out = tmp_path / name
    cmd = ["ffmpeg", "-loglevel", "error", "-y", *args, str(out)]
    subprocess.run(cmd, check=True)
    return out.read_bytes()


def sources(tmp_path) -> dict[str, bytes]:
    from test_carrier_pdf import make_pdf

    found = {
        "jpeg": encode(photo(), "JPEG"),
        "png": encode(photo(), "PNG"),
        "wav": wav_bytes(),
        "pdf": make_pdf(),
    }
    if shutil.which("ffmpeg"):
        found["mp3"] = ffmpeg_bytes(tmp_path, "a.mp3", "-f", "lavfi", "-i", "sine=f=440:d=1")
        found["mp4"] = ffmpeg_bytes(
            tmp_path, "v.mp4", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:d=1",
            "-c:v", "libx264", "-pix_fmt", "yuv420p",
        )  # fmt: skip
    return found


def test_tag_and_sign_every_format_trusted_with_our_assertions(tmp_path, signer, root):
    images = Tagger(PRODUCER, c2pa_signer=signer)
    fast = Tagger(PRODUCER, c2pa_signer=signer, visible=False, watermark=False)
    made = sources(tmp_path)
    assert {"jpeg", "png", "wav", "pdf"} <= made.keys()
    for fmt, data in made.items():
        tagger = images if fmt in ("jpeg", "png") else fast
        out, result = tagger.tag_bytes(data, name=f"x.{fmt}")
        assert result.layers[-1] == "c2pa", (fmt, result.layers)
        info = inspect_c2pa(out, sniff_content(out).mime, trust_anchors_pem=root)
        assert info["state"] == "Trusted" and info["failures"] == [], (fmt, info)
        assert info["digital_source_types"] == [TRAINED] and info["ai_declared"]
        assert info["aigc_label"] == {"AIGC": result.label.as_dict()}, fmt
        assert ANNEX_E_ASSERTION in info["assertion_labels"]
        if result.watermark_payload:
            import base64

            block = info["soft_binding"]["blocks"][0]
            assert info["soft_binding"]["alg"] == SOFT_BINDING_ALG
            assert base64.b64decode(block["value"]).hex() == result.watermark_payload
        # Untrusted without the anchor: Valid, with the trust failure only.
        bare = inspect_c2pa(out, sniff_content(out).mime)
        assert bare["state"] == "Valid" and bare["failures"] == ["signingCredential.untrusted"]
        # The label layer is still exactly one record.
        assert [f.parsed.fields for f in sniff_content(out).read_labels(out)] == [
            result.label.as_dict()
        ]


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_one_flipped_byte_is_invalid(tmp_path, signer, root):
    label = AIGCLabel.for_producer(PRODUCER)
    jpeg = sign_bytes(encode(photo(), "JPEG"), "image/jpeg", signer=signer, label=label)
    info = inspect_c2pa(_flip(jpeg, len(jpeg) - 20), "image/jpeg", trust_anchors_pem=root)
    assert info["state"] == "Invalid" and "assertion.dataHash.mismatch" in info["failures"]
    wav = sign_bytes(wav_bytes(), "audio/wav", signer=signer, label=label)
    info = inspect_c2pa(_flip(wav, wav.index(b"data") + 100), "audio/wav", trust_anchors_pem=root)
    assert info["state"] == "Invalid" and "assertion.dataHash.mismatch" in info["failures"]


@needs_ffmpeg
def test_mp4_tamper_is_bmff_hash_mismatch(tmp_path, signer, root):
    data = ffmpeg_bytes(
        tmp_path, "v.mp4", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:d=1",
        "-c:v", "libx264", "-pix_fmt", "yuv420p",
    )  # fmt: skip
    out = sign_bytes(data, "video/mp4", signer=signer, label=AIGCLabel.for_producer(PRODUCER))
    at = out.index(b"mdat") + 200
    info = inspect_c2pa(_flip(out, at), "video/mp4", trust_anchors_pem=root)
    assert info["state"] == "Invalid" and "assertion.bmffHash.mismatch" in info["failures"]


@needs_ffmpeg
def test_ogg_is_refused_with_a_sidecar_offer_and_the_sidecar_validates(tmp_path, signer, root):
    ogg = ffmpeg_bytes(
        tmp_path, "a.ogg", "-f", "lavfi", "-i", "sine=f=440:d=1", "-c:a", "libvorbis"
    )
    label = AIGCLabel.for_producer(PRODUCER)
    with pytest.raises(UnsupportedFormat, match=r"\.c2pa sidecar"):
        sign_bytes(ogg, "audio/ogg", signer=signer, label=label)
    with pytest.raises(UnsupportedFormat, match="sidecar"):
        Tagger(PRODUCER, c2pa_signer=signer, visible=False, watermark=False).tag_bytes(ogg)
    store = sign_sidecar(ogg, "audio/ogg", signer=signer, label=label)
    info = inspect_c2pa(ogg, "audio/ogg", manifest_data=store, trust_anchors_pem=root)
    assert info["state"] == "Trusted" and info["sidecar"]
    assert info["aigc_label"] == {"AIGC": label.as_dict()}
    edited = inspect_c2pa(ogg + b"\0", "audio/ogg", manifest_data=store, trust_anchors_pem=root)
    assert "assertion.dataHash.mismatch" in edited["failures"]


def test_callback_signer_and_secrets_stay_out_of_messages(tmp_path, pki, root):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(pki.signer_key.read_bytes(), None)
    signer = C2paSigner.from_callback(
        lambda data: key.sign(data, ec.ECDSA(hashes.SHA256())), pki.chain.read_bytes(), "es256"
    )
    out = sign_bytes(
        encode(photo(), "PNG"), "image/png", signer=signer, label=AIGCLabel.for_producer(PRODUCER)
    )
    assert inspect_c2pa(out, "image/png", trust_anchors_pem=root)["state"] == "Trusted"
    # A key that does not match the chain, and a group-readable key file.
    other = init_keys(tmp_path / "other")
    with pytest.raises(SigningError, match="does not match") as err:
        C2paSigner(pki.chain.read_bytes(), other.signer_key.read_bytes())
    assert "PRIVATE KEY" not in str(err.value)
    loose = tmp_path / "loose.key"
    loose.write_bytes(pki.signer_key.read_bytes())
    loose.chmod(0o644)
    lenient = C2paSigner.from_files(pki.chain, loose)
    assert any("chmod 600" in w for w in lenient.warnings)
    assert "PRIVATE" not in repr(lenient)


@pytest.fixture
def signed_dir():
    if not SIGNED.is_dir():
        pytest.skip(f"third-party C2PA samples not present at {SIGNED}")
    return SIGNED


def test_thirdparty_samples_read_as_their_known_states(signed_dir):
    anchors = (THIRDPARTY / "test-certs" / "c2pa_test_root_bundle.pem").read_text()

    def read(name: str, mime: str) -> dict:
        info = inspect_c2pa((signed_dir / name).read_bytes(), mime, trust_anchors_pem=anchors)
        assert info is not None and info["present"], name
        return info

    assert read("CA.jpg", "image/jpeg")["state"] == "Trusted"
    xca = read("XCA.jpg", "image/jpeg")
    assert xca["state"] == "Invalid" and "assertion.dataHash.mismatch" in xca["failures"]
    esig = read("E-sig-CA.jpg", "image/jpeg")
    assert esig["state"] == "Invalid" and "claimSignature.mismatch" in esig["failures"]
    assert read("video1.mp4", "video/mp4")["state"] in ("Valid", "Trusted")
    assert read("sample1_signed.wav", "audio/wav")["state"] in ("Valid", "Trusted")
    assert read("pdf-file.pdf", "application/pdf")["state"] in ("Valid", "Trusted")


def test_resigning_a_thirdparty_file_keeps_its_manifest_as_parent(signed_dir, signer, root):
    data = (signed_dir / "CA.jpg").read_bytes()
    with pytest.raises(ExistingManifest, match="--c2pa"):
        Tagger(PRODUCER).tag_bytes(data, name="CA.jpg")
    out, result = Tagger(PRODUCER, c2pa_signer=signer).tag_bytes(data, name="CA.jpg")
    assert "c2pa" in result.layers
    info = inspect_c2pa(out, "image/jpeg", trust_anchors_pem=root)
    assert info["state"] == "Trusted", info
    assert info["parent"] is not None and info["manifest_count"] >= 2
    assert info["ai_declared"]
