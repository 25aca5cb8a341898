"""The ``aigc-tag`` command: thin wrappers over the library (one module per command)."""

from __future__ import annotations

import sys

import click

from .. import __version__

#: Each command's module, imported only when that command runs (or --help lists it), so
#: `aigc-tag --version` and a metadata-only `verify` do not load numpy, OpenCV or c2pa.
_COMMANDS = {
    "tag": "tag_cmd",
    "verify": "verify_cmd",
    "ledger": "ledger_cmd",
    "keys": "keys_cmd",
    "propagate": "propagate_cmd",
    "serve": "serve_cmd",
    "doctor": "doctor_cmd",
    "survive": "survive_cmd",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = _COMMANDS.get(name)
        if module is None:
            return None
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{module}"), name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aigc-tag")
def main() -> None:
    """Label AI-generated content (GB 45438-2025) and verify those labels."""
    # A file name that is not UTF-8, or a label value with a lone surrogate, is printed
    # escaped (\\udcff, \\ud800) instead of stopping the batch with UnicodeEncodeError.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    from ..fileio import remove_stale_temp_dirs

    remove_stale_temp_dirs()  # input copies a run killed with SIGKILL left in the temp folder
