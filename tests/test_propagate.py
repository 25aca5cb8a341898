"""``propagate``: the platform's re-labelling keeps the producer's label and the media bytes."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import PRODUCER, encode, photo
from PIL import Image

from aigc_tag.carriers import sniff_content
from aigc_tag.cli import main
from aigc_tag.errors import ExistingManifest, InvalidLabel
from aigc_tag.propagate import Propagator
from aigc_tag.provenance import inspect_c2pa
from aigc_tag.provenance.keys import init_keys
from aigc_tag.provenance.sign import C2paSigner
from aigc_tag.tagging import Tagger

PLATFORM = "001191110108MA01ABCDEN20001"


def labels(data: bytes) -> list[dict]:
    return [f.parsed.fields for f in sniff_content(data).read_labels(data)]


def frames(data: bytes) -> bytes:
    with wave.open(io.BytesIO(data)) as w:
        return w.readframes(w.getnframes())


def wav_bytes(rate: int = 16000) -> bytes:
    samples = (np.sin(np.arange(rate) * 0.1) * 8000).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return init_keys(tmp_path_factory.mktemp("pki"))


def test_unlabelled_file_needs_a_reason_and_gets_label_3(tmp_path):
    png = encode(photo(), "PNG")
    with pytest.raises(InvalidLabel, match="--suspected"):
        Propagator(PLATFORM).propagate_bytes(png)
    out, result = Propagator(PLATFORM, suspected=True).propagate_bytes(png, propagate_id="p-1")
    assert result.case == "suspected" and result.previous is None
    [found] = labels(out)
    assert found["Label"] == "3" and found["ContentPropagator"] == PLATFORM
    assert found["PropagateID"] == "p-1"
    out2, _ = Propagator(PLATFORM, declared=True).propagate_bytes(png)
    assert labels(out2)[0]["Label"] == "2"
    assert np.array_equal(
        np.asarray(Image.open(io.BytesIO(out))), np.asarray(Image.open(io.BytesIO(png)))
    )


@pytest.mark.parametrize("kind", ["jpeg", "wav"])
def test_labelled_file_keeps_producer_fields_and_media(kind):
    tagger = Tagger(PRODUCER, visible=False, watermark=False, label="1")
    src = encode(photo(), "JPEG") if kind == "jpeg" else wav_bytes()
    tagged, tagged_result = tagger.tag_bytes(src)
    out, result = Propagator(PLATFORM, suspected=True, reserved_code2="sig").propagate_bytes(
        tagged, propagate_id="platform-42"
    )
    before = tagged_result.label
    [after] = labels(out)
    for key in ("Label", "ContentProducer", "ProduceID", "ReservedCode1"):
        assert after[key] == getattr(before, key)
    assert after["ContentPropagator"] == PLATFORM and after["PropagateID"] == "platform-42"
    assert after["ReservedCode2"] == "sig"
    assert result.case == "labelled" and any("never changed" in w for w in result.warnings)
    if kind == "jpeg":
        a = np.asarray(Image.open(io.BytesIO(tagged)))
        b = np.asarray(Image.open(io.BytesIO(out)))
        assert np.array_equal(a, b)
    else:
        assert frames(out) == frames(tagged)


def test_signed_file_needs_a_signer_and_stays_trusted_with_one(pki):
    signer = C2paSigner.from_files(pki.chain, pki.signer_key)
    root = pki.root_cert.read_text()
    signed, _ = Tagger(PRODUCER, c2pa_signer=signer, visible=False, watermark=False).tag_bytes(
        encode(photo(), "PNG")
    )
    with pytest.raises(ExistingManifest, match="--c2pa"):
        Propagator(PLATFORM).propagate_bytes(signed)
    out, result = Propagator(PLATFORM, c2pa_signer=signer).propagate_bytes(signed)
    assert result.c2pa == "updated"
    info = inspect_c2pa(out, "image/png", trust_anchors_pem=root)
    assert info["state"] == "Trusted", info
    assert info["parent"] is not None and info["manifest_count"] == 2
    assert info["aigc_label"]["AIGC"]["ContentPropagator"] == PLATFORM
    assert info["ai_declared"]
    assert len(labels(out)) == 1
    broken, result = Propagator(PLATFORM, break_c2pa=True).propagate_bytes(signed)
    assert result.c2pa == "broken"


def test_cli_writes_outputs_and_leaves_inputs(tmp_path, pki):
    src = tmp_path / "in" / "a.png"
    src.parent.mkdir()
    src.write_bytes(encode(photo(), "PNG"))
    before = src.read_bytes()
    out = tmp_path / "out"
    runner = CliRunner()
    res = runner.invoke(main, ["propagate", "--propagator", PLATFORM, "-o", str(out), str(src)])
    assert res.exit_code == 2 and "--declared" in res.output
    res = runner.invoke(
        main,
        ["propagate", "--propagator", PLATFORM, "--declared", "--json", "-j", "1", "-o", str(out),
         str(src)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert src.read_bytes() == before
    assert labels((out / "a.png").read_bytes())[0]["Label"] == "2"
    res = runner.invoke(main, ["propagate", "--propagator", "bad code", "-o", str(out), str(src)])
    assert res.exit_code == 2 and "propagator" in res.output
    res = runner.invoke(
        main, ["propagate", "--propagator", PLATFORM, "--c2pa", "-o", str(out), str(src)]
    )
    assert res.exit_code == 2 and "--cert" in res.output
