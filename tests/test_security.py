"""Security properties: no shell, hostile file names, contained outputs, XXE, keys, no removal.

The CLI runs in a subprocess, as a user would run it, over files whose names carry shell
metacharacters; an injected command would create a canary file, which must never appear.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import wave
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import PRODUCER, SAMPLES

from aigc_tag.carriers import registry, sniff_content
from aigc_tag.errors import AigcTagError, CorruptContainer
from aigc_tag.fileio import UnsafeOutputPath, atomic_write

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "aigc_tag"
CANARY = "PWNED"


def _cli(*args: str | bytes, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(
        [sys.executable, "-m", "aigc_tag", *args], cwd=cwd, env=env, capture_output=True,
        timeout=180,
    )  # fmt: skip
    if check:
        assert r.returncode == 0, (r.returncode, r.stderr.decode(errors="replace")[-1500:])
    return r


def _tag(src: Path, out: Path, cwd: Path, *extra: str) -> subprocess.CompletedProcess:
    return _cli(
        "tag", "-o", str(out), "--producer", PRODUCER, "--no-watermark", "-j", "1", *extra,
        "--", str(src), cwd=cwd,
    )  # fmt: skip


# --- no shell strings -------------------------------------------------------------------------

_SHELL = re.compile(
    r"shell\s*=\s*True|os\.system\s*\(|os\.popen\s*\(|subprocess\.getoutput|getstatusoutput"
    r"|os\.exec[lv]p?e?\s*\(\s*['\"]/bin/sh|['\"]/bin/(ba)?sh['\"]\s*,\s*['\"]-c"
)
_STRING_CMD = re.compile(r"subprocess\.(run|Popen|call|check_call|check_output)\(\s*[fbr]?['\"]")


def test_no_shell_strings_in_the_package():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for rx in (_SHELL, _STRING_CMD):
            for m in rx.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {m.group(0)}")
    assert not offenders, "\n".join(offenders)


# --- hostile file names -----------------------------------------------------------------------

HOSTILE = [
    "with space.webp",
    "q'uo\"te.webp",
    "semi;colon.webp",
    f"$(touch {CANARY}).webp",
    f"`touch {CANARY}`.webp",
    "new\nline.webp",
    "-x;$(id).webp",
    "--help.webp",
]


def _wav_bytes() -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        t = np.arange(16000) / 16000
        w.writeframes((np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes())
    return buf.getvalue()


def _tag_and_verify(tmp_path: Path, names: list[bytes], make: dict[bytes, bytes]) -> None:
    src, out, cwd = tmp_path / "in", tmp_path / "out", tmp_path / "cwd"
    for d in (src, out, cwd):
        d.mkdir()
    paths = []
    for name in names:
        path = os.path.join(os.fsencode(src), name)
        with open(path, "wb") as fh:
            fh.write(make[os.path.splitext(name)[1]])
        paths.append(os.fsdecode(path))
    # Named on the command line (leading dashes after "--"), as a shell user would.
    _cli("tag", "-o", str(out), "--producer", PRODUCER, "--no-watermark", "-j", "1", "--",
         *paths, cwd=cwd)  # fmt: skip
    assert set(names) <= set(os.listdir(os.fsencode(out))), "an output is missing/renamed"
    report = _cli("verify", "--json", "--no-watermark", "-j", "1", "--", str(out), cwd=cwd,
                  check=False)  # fmt: skip
    rows = [json.loads(line) for line in report.stdout.decode().splitlines() if line.strip()]
    assert len(rows) == len(names), report.stderr.decode(errors="replace")[-800:]
    for row in rows:
        assert row.get("verdict", row.get("status")) == "compliant", row
    for where in (tmp_path, cwd, Path.cwd(), ROOT):
        assert not (where / CANARY).exists(), f"a file name ran as a command (in {where})"


def _media() -> dict[bytes, bytes]:
    return {
        b".webp": (SAMPLES / "portrait.webp").read_bytes(),
        b".mp3": (SAMPLES / "narration.mp3").read_bytes(),
        b".wav": _wav_bytes(),
    }


def test_hostile_file_names_tag_and_verify(tmp_path):
    names = [n.encode() for n in HOSTILE]
    names += [f"-x;$(touch {CANARY}).mp3".encode(), f"-x;$(touch {CANARY}).wav".encode()]
    _tag_and_verify(tmp_path, names, _media())


def test_non_utf8_file_names_tag_and_verify(tmp_path):
    _tag_and_verify(tmp_path, [b"caf\xe9-\xff.webp", b"\xff\xfe;$(id).wav"], _media())


# --- output paths stay inside OUTDIR ----------------------------------------------------------


def test_atomic_write_refuses_symlinked_dir_and_dotdot(tmp_path):
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / "sub").symlink_to(outside)
    with pytest.raises(UnsafeOutputPath):
        atomic_write(out / "sub" / "x.bin", b"x", within=out)
    with pytest.raises(UnsafeOutputPath):
        atomic_write(out / ".." / "outside" / "y.bin", b"y", within=out)
    assert list(outside.iterdir()) == []
    atomic_write(out / "new" / "z.bin", b"z", within=out)  # ordinary subfolders are fine
    assert (out / "new" / "z.bin").read_bytes() == b"z"


def test_existing_symlink_at_the_output_name_is_replaced_not_followed(tmp_path):
    src, out, outside = tmp_path / "in", tmp_path / "out", tmp_path / "outside"
    for d in (src, out, outside):
        d.mkdir()
    shutil.copy(SAMPLES / "portrait.webp", src)
    (outside / "victim.webp").write_bytes(b"precious")
    (out / "portrait.webp").symlink_to(outside / "victim.webp")
    _tag(src / "portrait.webp", out, tmp_path)
    assert (outside / "victim.webp").read_bytes() == b"precious"
    assert not (out / "portrait.webp").is_symlink()


def test_symlinked_subdirectory_in_outdir_is_refused(tmp_path):
    src, out, outside = tmp_path / "in", tmp_path / "out", tmp_path / "outside"
    for d in (src / "sub", out, outside):
        d.mkdir(parents=True)
    shutil.copy(SAMPLES / "portrait.webp", src / "sub")
    (out / "sub").symlink_to(outside)
    r = _cli("tag", "-o", str(out), "--producer", PRODUCER, "--no-watermark", "-j", "1", str(src),
         cwd=tmp_path, check=False)  # fmt: skip
    assert list(outside.iterdir()) == [], "tag wrote through a symlink out of OUTDIR"
    assert r.returncode != 0 and b"outside the output directory" in r.stderr, r.stderr[-500:]


def _docx_with(member: str) -> bytes:
    from test_carrier_ooxml import make_docx

    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(make_docx())) as zin, zipfile.ZipFile(buf, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr(member, b"<x/>")
    return buf.getvalue()


@pytest.mark.parametrize("member", ["../evil.xml", "/abs/evil.xml", "a/../../evil.xml", "C:x"])
def test_archive_member_names_never_escape(member, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = _docx_with(member)
    for kind in ("docx", "epub"):
        carrier = registry()[kind]
        with pytest.raises(AigcTagError):
            carrier.read_labels(data)
        with pytest.raises(AigcTagError):
            carrier.write_label(data, '{"AIGC":{"Label":"1"}}')
    assert list(tmp_path.iterdir()) == [] and not Path("/abs/evil.xml").exists()


# --- XXE --------------------------------------------------------------------------------------


def _xxe(canary: Path) -> str:
    return (
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{canary}">'
        '<!ENTITY pw SYSTEM "file:///etc/passwd">]>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/"><TC260:AIGC>&xxe;&pw;</TC260:AIGC>'
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )


def _png_with_xmp(xmp_text: str) -> bytes:
    data = (SAMPLES / "badge.png").read_bytes()
    body = b"XML:com.adobe.xmp\0\0\0\0\0" + xmp_text.encode()
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"iTXt" + body))
    ihdr_end = 8 + 8 + 13 + 4
    return data[:ihdr_end] + chunk + data[ihdr_end:]


def test_xxe_payloads_never_resolve(tmp_path):
    from test_carrier_ooxml import make_docx, with_custom

    secret = "xxe-canary-" + os.urandom(8).hex()
    canary = tmp_path / "canary.txt"
    canary.write_text(secret)
    passwd_line = "root:x:0:0"
    payload = _xxe(canary)
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    (src / "xxe.png").write_bytes(_png_with_xmp(payload))
    (src / "xxe.docx").write_bytes(with_custom(make_docx(), payload))
    from aigc_tag import xmp

    assert all(secret not in p.value for p in xmp.find_label_properties(payload))
    tag = _cli("tag", "-o", str(out), "--producer", PRODUCER, "--no-watermark", "-j", "1",
               str(src), cwd=tmp_path, check=False)  # fmt: skip
    html = tmp_path / "report.html"
    ver = _cli("verify", "--json", "--no-watermark", "--html", str(html), "-j", "1", str(src),
               *(str(p) for p in out.glob("*")), cwd=tmp_path, check=False)  # fmt: skip
    blobs = [tag.stdout, tag.stderr, ver.stdout, ver.stderr]
    blobs += [p.read_bytes() for p in (*out.rglob("*"), html) if p.is_file()]
    for blob in blobs:
        assert secret.encode() not in blob
        assert passwd_line.encode() not in blob


# --- keys ------------------------------------------------------------------------------------


def _pem_secrets(pem: bytes) -> list[bytes]:
    """Byte strings that would show the key leaked: PEM body lines and the raw private value
    (not DER tails: PKCS#8 ends with the public key, which the certificate rightly carries)."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    lines = [line for line in pem.splitlines() if line and not line.startswith(b"-----")]
    out = list(lines[1:3])
    key = load_pem_private_key(pem, password=None)
    numbers = getattr(key, "private_numbers", None)
    if numbers is not None and hasattr(numbers(), "private_value"):
        value = numbers().private_value
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        out += [raw, raw.hex().encode(), base64.b64encode(raw)]
    return out


def test_private_keys_never_leak(tmp_path):
    keys, src, out = tmp_path / "keys", tmp_path / "in", tmp_path / "out"
    src.mkdir()
    _cli("keys", "init", str(keys), cwd=tmp_path)
    signer_key = keys / "signer.key"
    assert signer_key.stat().st_mode & 0o077 == 0, "keys init wrote a group/world-readable key"
    wm_secret = "wm-secret-" + os.urandom(12).hex()
    wm_file = tmp_path / "wm.key"
    wm_file.write_text(wm_secret)
    wm_file.chmod(0o600)
    shutil.copy(SAMPLES / "landscape.jpg", src)
    signer_key.chmod(0o640)  # group-readable: tagging warns (and still signs)
    tag = _cli(
        "tag", "-o", str(out), "--producer", PRODUCER, "-j", "1", "--c2pa",
        "--cert", str(keys / "chain.pem"), "--key", str(signer_key),
        "--watermark-key-file", str(wm_file), str(src), cwd=tmp_path,
    )  # fmt: skip
    html = tmp_path / "r.html"
    ver = _cli("verify", "--json", "-v", "--watermark-key-file", str(wm_file), "--html",
               str(html), "-j", "1", str(out), cwd=tmp_path, check=False)  # fmt: skip
    from aigc_tag.watermark.keys import WatermarkKey

    derived = WatermarkKey.private(wm_secret).secret
    secrets = [
        wm_secret.encode(),
        wm_secret.encode().hex().encode(),
        derived,
        derived.hex().encode(),
    ]
    secrets += _pem_secrets(signer_key.read_bytes())
    blobs = {"tag stdout": tag.stdout, "tag stderr": tag.stderr, "verify stdout": ver.stdout,
             "verify stderr": ver.stderr}  # fmt: skip
    for p in (*out.rglob("*"), html):
        if p.is_file():
            blobs[str(p.relative_to(tmp_path))] = p.read_bytes()
    for where, blob in blobs.items():
        for s in secrets:
            assert s not in blob, f"private key material in {where}"
    assert b"chmod 600" in tag.stderr + tag.stdout, "no warning about a group-readable key"


# --- no mode removes labels -------------------------------------------------------------------

_REMOVAL = re.compile(r"remove|strip|untag|unlabel|delete|erase|scrub|clean|wipe", re.I)


def _walk_commands(cmd, path=()):
    yield path, cmd
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from _walk_commands(sub, (*path, name))


def test_cli_has_no_label_removal_mode():
    from aigc_tag.cli import main

    for path, cmd in _walk_commands(main):
        assert not (path and _REMOVAL.search(path[-1])), f"command {' '.join(path)}"
        for param in cmd.params:
            for opt in (*param.opts, *param.secondary_opts):
                assert not _REMOVAL.search(opt), f"{' '.join(path)} {opt}"


def test_retagging_with_every_layer_off_keeps_the_label(tmp_path):
    from aigc_tag import Tagger

    data, _ = Tagger(PRODUCER, watermark=False).tag_bytes((SAMPLES / "portrait.webp").read_bytes())
    labelled = tmp_path / "in.webp"
    labelled.write_bytes(data)
    r = _cli("tag", "-o", str(tmp_path / "twice"), "--producer", PRODUCER, "--no-watermark",
             "--no-visible", "--no-metadata", "-j", "1", str(labelled), cwd=tmp_path,
             check=False)  # fmt: skip
    out = tmp_path / "twice" / "in.webp"
    if out.exists():
        data = out.read_bytes()
        assert sniff_content(data).read_labels(data), "re-tagging removed the label"
    else:
        assert r.returncode != 0


def test_carrier_errors_are_ours():
    with pytest.raises(CorruptContainer):
        registry()["docx"].read_labels(b"PK\x03\x04" + b"\0" * 40)
