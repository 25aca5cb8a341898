"""Read and validate a C2PA manifest with c2pa-python, offline, as its ``Reader`` sees it.

The state and failure codes are the Reader's own (``validation_state`` and the active
manifest's ``validation_results`` failures): ``benchmarks/c2pa_parity.py`` checks that on every
fixture of c2pa-python and c2pa-rs. On top of them this module adds what a verifier needs:

* **trust apart from integrity**: a failure code is a *trust* finding (an expired, untrusted,
  revoked or otherwise unusable signing credential: :data:`TRUST_CODE_PREFIXES`) or an
  *integrity* finding (hash or signature mismatch, missing assertion, malformed claim). c2pa-rs
  calls an expired credential ``Invalid``; here a manifest whose only findings are trust findings
  is still ``intact``.
* **the AI declaration in any state**, from the active manifest and, labelled as such, from the
  ingredient manifests in the store.
* **a manifest that is there but unreadable** is ``Error``, never "no manifest": the Reader's
  ``ManifestNotFound`` / ``NotSupported`` is believed only when the bytes hold no manifest store
  (:func:`holds_manifest_store`), and an encrypted PDF is "cannot check".
* **DASH**: a media segment is validated against its init segment with the Reader's fragment API.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
from pathlib import Path

AI_SOURCE_SUFFIXES = (
    "trainedAlgorithmicMedia",
    "compositeWithTrainedAlgorithmicMedia",
    "compositeSynthetic",
    "trainedAlgorithmicData",
)
#: Failure codes about the signer's credential, not the content (c2pa-rs
#: ``sdk/src/validation_results.rs``): they never mean the manifest or the asset was altered.
TRUST_CODE_PREFIXES = (
    "signingCredential.",  # untrusted, expired, invalid, ocsp.revoked, ocsp.unknown
    "timeStamp.untrusted",
    "timeStamp.outsideValidity",
    "claimSignature.outsideValidity",
    "algorithm.deprecated",
    "cawg.ica.untrusted_issuer",
    "cawg.x509.credential.untrusted",
    "cawg.x509.credential.invalid",
    "cawg.x509.signature.outside_validity",
)
#: The JUMBF description box of a C2PA manifest store: ``jumd`` + the store's type UUID.
C2PA_STORE_JUMD = b"jumdc2pa\x00\x11\x00\x10\x80\x00\x00\xaa\x00\x38\x9b\x71"
# No network in a verifier: never fetch remote manifests.
_OFFLINE = {"verify": {"remote_manifest_fetch": False}}
_SVG_MANIFEST = re.compile(rb"<c2pa:manifest[^>]*>\s*([A-Za-z0-9+/=\s]{16,200})")
_DASH_SEGMENT_BOXES = (b"styp", b"moof", b"sidx", b"emsg")
_ENCRYPTED_PDF = "cannot check: encrypted PDF (a C2PA manifest in it cannot be read without the "
_ENCRYPTED_PDF += "password; decrypt it with qpdf --decrypt first)"
_NO_INIT = "cannot check: DASH segment without its init segment (its manifest is in the init "
_NO_INIT += "segment: put the *init*.mp4 beside it or pass init_segment)"


def _context(trust_anchors_pem: str | None):
    import c2pa

    settings: dict = dict(_OFFLINE)
    if trust_anchors_pem:
        settings["trust"] = {"user_anchors": trust_anchors_pem}
    return c2pa.Context.from_dict(settings)


def may_hold_c2pa(data: bytes) -> bool:
    """Cheap pre-filter: an embedded store is a JUMBF box labelled 'c2pa' (SVG: base64 in a
    ``c2pa:manifest`` element). Only a hint: the Reader is asked about every file."""
    return (b"jumb" in data and b"c2pa" in data) or b"c2pa:manifest" in data


def holds_manifest_store(data: bytes) -> bool:
    """Whether the bytes contain a C2PA manifest store (its JUMBF description box, raw or as the
    base64 of an SVG ``c2pa:manifest`` element): the evidence that a Reader's "not found" is
    wrong. A page that merely mentions ``<c2pa:manifest>`` does not count."""
    if C2PA_STORE_JUMD in data:
        return True
    match = _SVG_MANIFEST.search(data)
    if match is None:
        return False
    head = re.sub(rb"\s+", b"", match.group(1))[:64]
    try:
        return C2PA_STORE_JUMD in base64.b64decode(head[: len(head) // 4 * 4])
    except ValueError:
        return False


def is_trust_code(code: str) -> bool:
    """A finding about the signer's credential (trust), not about the content (integrity)."""
    return code.startswith(TRUST_CODE_PREFIXES)


def is_dash_segment(data: bytes) -> bool:
    """An ISOBMFF media segment (``styp``/``moof``/``sidx`` first, no ``moov``): DASH/CMAF."""
    return data[4:8] in _DASH_SEGMENT_BOXES and b"moov" not in data[:4096]


def find_init_segment(segment: str | os.PathLike[str]) -> Path | None:
    """The init segment beside a DASH media segment: an ``*init*.mp4`` in the same folder; with
    several, the one sharing the longest name prefix with the segment (``x_2s5.m4s`` ->
    ``x_2s_init.mp4``)."""
    path = Path(segment)
    try:
        candidates = [p for p in path.parent.iterdir() if _is_init_name(p.name) and p != path]
    except OSError:
        return None
    if not candidates:
        return None
    return max(candidates, key=lambda p: (len(os.path.commonprefix([p.name, path.name])), p.name))


def _is_init_name(name: str) -> bool:
    lower = name.lower()
    return "init" in lower and lower.endswith((".mp4", ".m4v", ".m4a", ".cmfv", ".cmfa"))


def inspect_c2pa(
    data: bytes,
    mime: str,
    *,
    trust_anchors_pem: str | None = None,
    manifest_data: bytes | None = None,
    init_segment: bytes | None = None,
) -> dict | None:
    """``None`` when there is no manifest; otherwise state, findings and the AI declaration.

    ``manifest_data``: a detached manifest store (a ``.c2pa`` sidecar) to validate ``data``
    against; ``mime`` is then the asset's MIME (formats the SDK cannot embed into are hashed as
    ``text/plain``, as :func:`aigc_tag.provenance.sign.sign_sidecar` does). ``init_segment``:
    the DASH init segment when ``data`` is a media segment (see :func:`is_dash_segment`).

    A manifest the SDK cannot read is ``{"state": "Error", "error": ...}``, never raised. A
    remote manifest (only a URL in the file) is ``{"remote": True, "remote_url": ...}`` with
    ``state`` None; it is never fetched.
    """
    import c2pa

    if manifest_data is not None:
        from .sign import sidecar_mime

        mime = sidecar_mime(mime)
    elif init_segment is None and is_dash_segment(data):
        return _error(_NO_INIT, present=False)  # a segment alone has no manifest to read
    try:
        store = _read_store(data, mime, trust_anchors_pem, manifest_data, init_segment)
    except c2pa.C2paError.ManifestNotFound as exc:
        return _not_found(data, mime, f"ManifestNotFound: {exc}")
    except c2pa.C2paError.NotSupported as exc:
        return _not_found(data, mime, f"NotSupported: {exc}")
    except c2pa.C2paError as exc:
        message = str(exc)
        if message.startswith("Remote"):
            return {"present": True, "state": None, "remote": True, "remote_url": _url(message),
                    "ai_declared": None}  # fmt: skip
        if _is_encrypted_pdf(data, mime):
            return _error(_ENCRYPTED_PDF, present=True)
        # "asset could not be parsed" on a file with no store: unknown, not "a manifest".
        return _error(message, present=may_hold_c2pa(data) or holds_manifest_store(data))
    summary = _summarise(store)
    summary["sidecar"] = manifest_data is not None
    summary["dash_init_segment"] = init_segment is not None
    return summary


def _read_store(
    data: bytes,
    mime: str,
    anchors: str | None,
    manifest_data: bytes | None,
    init_segment: bytes | None,
) -> dict:
    """The Reader's manifest store JSON (raises the Reader's C2paError)."""
    import c2pa

    with _context(anchors) as ctx:
        if init_segment is not None:
            # The manifest lives in the init segment; the fragment is hashed against it.
            with c2pa.Reader(mime, io.BytesIO(init_segment), context=ctx) as reader:
                reader.with_fragment(mime, io.BytesIO(init_segment), io.BytesIO(data))
                return json.loads(reader.json())
        with c2pa.Reader(mime, io.BytesIO(data), manifest_data, context=ctx) as reader:
            return json.loads(reader.json())


def _not_found(data: bytes, mime: str, message: str) -> dict | None:
    """The Reader found no manifest: believe it unless the bytes say otherwise."""
    if _is_encrypted_pdf(data, mime):
        return _error(_ENCRYPTED_PDF, present=False)
    if holds_manifest_store(data):
        return _error(f"a C2PA manifest store is in the file but c2pa cannot read it ({message})",
                      present=True)  # fmt: skip
    return None


def _error(message: str, *, present: bool) -> dict:
    return {"present": present, "state": "Error", "error": message, "ai_declared": None}


def _is_encrypted_pdf(data: bytes, mime: str) -> bool:
    """A PDF whose trailer (or cross-reference stream) names an ``/Encrypt`` dictionary."""
    if "pdf" not in mime and not data.startswith(b"%PDF-"):
        return False
    return re.search(rb"/Encrypt\s*\d+\s+\d+\s+R", data) is not None


def _url(message: str) -> str:
    """c2pa-rs says "Remote: must fetch remote manifests from url https://..." when the file only
    points to its manifest (and fetching is off, as it always is here)."""
    match = re.search(r"https?://\S+", message)
    return match.group(0).rstrip(".,;)") if match else ""


def _claim_generator(manifest: dict) -> str | None:
    """The tool that made the manifest (C2PA 2.x claim_generator_info, else the 1.x string)."""
    info = manifest.get("claim_generator_info")
    if isinstance(info, list) and info and isinstance(info[0], dict):
        name, version = info[0].get("name"), info[0].get("version")
        if name:
            return f"{name} {version}" if version else str(name)
    generator = manifest.get("claim_generator")
    return str(generator) if generator else None


def _codes(statuses: object) -> list[str]:
    if not isinstance(statuses, list):
        return []
    return [str(s.get("code", "")) for s in statuses if isinstance(s, dict)]


def _summarise(store: dict) -> dict:
    manifests = store.get("manifests") or {}
    active_label = store.get("active_manifest")
    manifest = manifests.get(active_label) or {}
    results = store.get("validation_results") or {}
    failures = _codes((results.get("activeManifest") or {}).get("failure"))
    ingredient_failures = [
        code
        for delta in results.get("ingredientDeltas") or []
        for code in _codes((delta.get("validationDeltas") or {}).get("failure"))
    ]
    state = store.get("validation_state", "Unknown")
    trust = [c for c in failures + ingredient_failures if is_trust_code(c)]
    integrity = [c for c in failures + ingredient_failures if not is_trust_code(c)]
    sources = _digital_source_types(manifest)
    from_ingredients = _ingredient_sources(manifests, manifest, {active_label})
    active_ai = any(s.endswith(AI_SOURCE_SUFFIXES) for s in sources)
    ingredient_ai = any(i["digital_source_type"].endswith(AI_SOURCE_SUFFIXES)
                        for i in from_ingredients)  # fmt: skip
    signer = manifest.get("signature_info") or {}
    assertions = manifest.get("assertions") or []
    parents = [i for i in manifest.get("ingredients") or [] if i.get("relationship") == "parentOf"]
    return {
        "present": True,
        "state": state,
        "trusted": state == "Trusted",
        # c2pa-rs says Invalid for an expired credential: intact means no integrity finding.
        "intact": state in ("Trusted", "Valid") or (state == "Invalid" and not integrity
                                                     and bool(trust)),  # fmt: skip
        "failures": failures,
        "trust_failures": list(dict.fromkeys(trust)),
        "integrity_failures": list(dict.fromkeys(integrity)),
        "ingredient_failures": ingredient_failures,
        "signer": signer.get("issuer") or signer.get("common_name"),
        "claim_generator": _claim_generator(manifest),
        "digital_source_types": sources,
        "ingredient_digital_source_types": from_ingredients,
        "ai_declared": active_ai or ingredient_ai,
        "ai_declared_by": ("active_manifest" if active_ai else "ingredient" if ingredient_ai
                           else None),  # fmt: skip
        "assertion_labels": [a.get("label", "") for a in assertions],
        "aigc_label": _assertion_data(assertions, "cn.tc260.aigc"),
        "soft_binding": _assertion_data(assertions, "c2pa.soft-binding"),
        "manifest_count": len(manifests),
        "parent": (
            {"title": parents[0].get("title"), "manifest": parents[0].get("active_manifest")}
            if parents
            else None
        ),  # fmt: skip
    }


def _assertion_data(assertions: list[dict], label: str) -> dict | None:
    for assertion in assertions:
        if assertion.get("label") == label:
            return assertion.get("data")
    return None


def _digital_source_types(manifest: dict) -> list[str]:
    found = []
    for assertion in manifest.get("assertions") or []:
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        data = assertion.get("data") or {}
        for action in data.get("actions") or []:
            if isinstance(action, dict) and action.get("digitalSourceType"):
                found.append(str(action["digitalSourceType"]))
    return found


def _ingredient_sources(manifests: dict, manifest: dict, seen: set) -> list[dict]:
    """digitalSourceType of every ingredient manifest in the store, depth first (each once)."""
    found: list[dict] = []
    for ingredient in manifest.get("ingredients") or []:
        label = ingredient.get("active_manifest")
        if not label or label in seen or label not in manifests:
            continue
        seen.add(label)
        child = manifests[label]
        for source in _digital_source_types(child):
            found.append({"manifest": label, "title": ingredient.get("title"),
                          "digital_source_type": source})  # fmt: skip
        found += _ingredient_sources(manifests, child, seen)
    return found
