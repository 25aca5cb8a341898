"""Provenance: C2PA Content Credentials (reading now; signing comes with the provenance issue)."""

from .c2pa_read import inspect_c2pa, may_hold_c2pa

__all__ = ["inspect_c2pa", "may_hold_c2pa"]
