"""The ``aigc-tag`` command: thin wrappers over the library (one module per command)."""

from __future__ import annotations

import click

from .. import __version__
from .doctor_cmd import doctor
from .keys_cmd import keys
from .ledger_cmd import ledger
from .propagate_cmd import propagate
from .serve_cmd import serve
from .tag_cmd import tag
from .verify_cmd import verify


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aigc-tag")
def main() -> None:
    """Label AI-generated content (GB 45438-2025) and verify those labels."""


main.add_command(tag)
main.add_command(verify)
main.add_command(ledger)
main.add_command(keys)
main.add_command(propagate)
main.add_command(serve)
main.add_command(doctor)
