"""``python -m aigc_tag`` runs the command line."""

from .cli import main

main()
