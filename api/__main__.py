"""``python -m api`` runs the CLI (used to start helper processes such as the reflector)."""

from api.cli.main import main

main()
