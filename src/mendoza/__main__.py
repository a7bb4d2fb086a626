"""``python -m mendoza`` runs the CLI."""

from mendoza.cli import main

main()
