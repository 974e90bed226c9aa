"""``python -m api`` runs the CLI (used to start helper processes such as the reflector)."""

from api.cli import main

main()
