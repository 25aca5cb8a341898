"""Provenance: C2PA Content Credentials -- reading/validating, signing, and a local test PKI."""

from .c2pa_read import inspect_c2pa, may_hold_c2pa

__all__ = [
    "C2paSigner",
    "SigningError",
    "init_keys",
    "inspect_c2pa",
    "may_hold_c2pa",
    "sign_bytes",
    "sign_sidecar",
]


def __getattr__(name: str):
    # Signing pulls in cryptography; load it only when asked for.
    if name in ("C2paSigner", "SigningError", "sign_bytes", "sign_sidecar"):
        from . import sign

        return getattr(sign, name)
    if name == "init_keys":
        from .keys import init_keys

        return init_keys
    raise AttributeError(name)
