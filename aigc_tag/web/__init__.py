"""``aigc-tag serve``: a small local verification web page and JSON API (optional extra ``web``).

The page and API reuse :func:`aigc_tag.verify.verify` and its :class:`~aigc_tag.verify.Report`;
nothing here judges a file. Install with ``pip install 'aigc-tag[web]'``.
"""

from __future__ import annotations

__all__ = ["create_app"]


def create_app(*args, **kwargs):  # noqa: ANN002, ANN003 - thin lazy re-export
    """Build the Starlette application; see :func:`aigc_tag.web.app.create_app`."""
    from .app import create_app as _create_app

    return _create_app(*args, **kwargs)
