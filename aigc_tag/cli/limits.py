"""Options shared by ``tag`` and ``verify`` that set a process-wide processing budget."""

from __future__ import annotations

import os

import click

from .. import imaging


def _set_budget(ctx: click.Context, param: click.Parameter, value: float | None) -> None:
    if value is not None:
        imaging.set_max_megapixels(value)
        # --jobs workers may be fresh processes: they read the budget from the environment
        os.environ[imaging.ENV_MAX_MEGAPIXELS] = repr(value)


#: ``--max-megapixels``: the largest picture (or video frame decoded as one) processed per file.
max_megapixels_option = click.option(
    "--max-megapixels",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    expose_value=False,
    is_eager=True,
    callback=_set_budget,
    help=f"Largest image processed, in megapixels (default {imaging.DEFAULT_MAX_MEGAPIXELS:g}, "
    f"or ${imaging.ENV_MAX_MEGAPIXELS}); about {imaging.PIPELINE_BYTES_PER_PIXEL} bytes of "
    "memory per pixel. Larger files: 'too large to process'.",
)
