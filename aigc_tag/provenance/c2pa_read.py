"""Read and validate an embedded C2PA manifest with c2pa-python, offline.

Trust is its own dimension: ``Valid`` with ``signingCredential.untrusted`` is an intact manifest
from an unknown signer, not a broken one.
"""

from __future__ import annotations

import io
import json

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


def inspect_c2pa(data: bytes, mime: str, *, trust_anchors_pem: str | None = None) -> dict | None:
    """``None`` when there is no manifest; otherwise state, failures and the AI declaration.

    A manifest the SDK cannot parse is reported with ``state = "Error"`` rather than raised.
    """
    import c2pa

    if not may_hold_c2pa(data):
        return None
    try:
        with _context(trust_anchors_pem) as ctx:
            reader = c2pa.Reader.try_create(mime, io.BytesIO(data), context=ctx)
            if reader is None:
                return None
            with reader:
                store = json.loads(reader.json())
    except c2pa.C2paError.ManifestNotFound:
        return None
    except c2pa.C2paError.NotSupported:
        return None
    except c2pa.C2paError as exc:
        return {"present": True, "state": "Error", "failures": [str(exc)], "ai_declared": None}
    return _summarise(store)


def _summarise(store: dict) -> dict:
    active_label = store.get("active_manifest")
    manifest = store.get("manifests", {}).get(active_label, {})
    results = store.get("validation_results", {}).get("activeManifest", {})
    failures = [f.get("code", "") for f in results.get("failure", [])]
    sources = _digital_source_types(manifest)
    signer = manifest.get("signature_info", {})
    return {
        "present": True,
        "state": store.get("validation_state", "Unknown"),
        "trusted": store.get("validation_state") == "Trusted",
        "failures": failures,
        "signer": signer.get("issuer") or signer.get("common_name"),
        "digital_source_types": sources,
        "ai_declared": any(s.endswith(AI_SOURCE_SUFFIXES) for s in sources),
    }


def _digital_source_types(manifest: dict) -> list[str]:
    found = []
    for assertion in manifest.get("assertions", []):
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for action in assertion.get("data", {}).get("actions", []):
            if action.get("digitalSourceType"):
                found.append(action["digitalSourceType"])
    return found
