"""Read and validate an embedded C2PA manifest with c2pa-python, offline.

Trust is its own dimension: ``Valid`` with ``signingCredential.untrusted`` is an intact manifest
from an unknown signer, not a broken one.
"""

from __future__ import annotations

import io
import json
import re

AI_SOURCE_SUFFIXES = (
    "trainedAlgorithmicMedia",
    "compositeWithTrainedAlgorithmicMedia",
    "compositeSynthetic",
    "trainedAlgorithmicData",
)
# No network in a verifier: never fetch remote manifests.
_OFFLINE = {"verify": {"remote_manifest_fetch": False}}


def _context(trust_anchors_pem: str | None):
    import c2pa

    settings: dict = dict(_OFFLINE)
    if trust_anchors_pem:
        settings["trust"] = {"user_anchors": trust_anchors_pem}
    return c2pa.Context.from_dict(settings)


def may_hold_c2pa(data: bytes) -> bool:
    """Cheap pre-filter: every embedded manifest store is a JUMBF box labelled 'c2pa'."""
    return b"jumb" in data and b"c2pa" in data


def inspect_c2pa(
    data: bytes,
    mime: str,
    *,
    trust_anchors_pem: str | None = None,
    manifest_data: bytes | None = None,
) -> dict | None:
    """``None`` when there is no manifest; otherwise state, failures and the AI declaration.

    ``manifest_data``: a detached manifest store (a ``.c2pa`` sidecar) to validate ``data``
    against; ``mime`` is then the asset's MIME (formats the SDK cannot embed into are hashed as
    ``text/plain``, as :func:`aigc_tag.provenance.sign.sign_sidecar` does).

    A manifest the SDK cannot parse is reported with ``state = "Error"`` rather than raised. A
    remote manifest (only a URL in the file) is reported with ``state = "Remote"`` and
    ``remote_url``; it is never fetched.
    """
    import c2pa

    if manifest_data is None and not may_hold_c2pa(data):
        return None
    if manifest_data is not None:
        from .sign import sidecar_mime

        mime = sidecar_mime(mime)
    try:
        with _context(trust_anchors_pem) as ctx:
            reader = c2pa.Reader.try_create(
                mime, io.BytesIO(data), manifest_data=manifest_data, context=ctx
            )
            if reader is None:
                return None
            with reader:
                store = json.loads(reader.json())
    except c2pa.C2paError.ManifestNotFound:
        return None
    except c2pa.C2paError.NotSupported:
        return None
    except c2pa.C2paError as exc:
        remote = _remote_url(str(exc))
        if remote is not None:
            return {"present": True, "state": "Remote", "remote_url": remote, "trusted": False,
                    "failures": ["manifest.remote.notFetched"], "ai_declared": None}  # fmt: skip
        return {"present": True, "state": "Error", "failures": [str(exc)], "ai_declared": None}
    summary = _summarise(store)
    summary["sidecar"] = manifest_data is not None
    return summary


def _remote_url(message: str) -> str | None:
    """c2pa-rs says "Remote: must fetch remote manifests from url https://..." when the file only
    points to its manifest (and fetching is off, as it always is here)."""
    if "Remote" not in message:
        return None
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


def _summarise(store: dict) -> dict:
    active_label = store.get("active_manifest")
    manifest = store.get("manifests", {}).get(active_label, {})
    results = store.get("validation_results", {}).get("activeManifest", {})
    failures = [f.get("code", "") for f in results.get("failure", [])]
    sources = _digital_source_types(manifest)
    signer = manifest.get("signature_info", {})
    assertions = manifest.get("assertions", [])
    parents = [
        ing for ing in manifest.get("ingredients", []) if ing.get("relationship") == "parentOf"
    ]
    return {
        "present": True,
        "state": store.get("validation_state", "Unknown"),
        "trusted": store.get("validation_state") == "Trusted",
        "failures": failures,
        "signer": signer.get("issuer") or signer.get("common_name"),
        "claim_generator": _claim_generator(manifest),
        "digital_source_types": sources,
        "ai_declared": any(s.endswith(AI_SOURCE_SUFFIXES) for s in sources),
        "assertion_labels": [a.get("label", "") for a in assertions],
        "aigc_label": _assertion_data(assertions, "cn.tc260.aigc"),
        "soft_binding": _assertion_data(assertions, "c2pa.soft-binding"),
        "manifest_count": len(store.get("manifests", {})),
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
    for assertion in manifest.get("assertions", []):
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for action in assertion.get("data", {}).get("actions", []):
            if action.get("digitalSourceType"):
                found.append(action["digitalSourceType"])
    return found
