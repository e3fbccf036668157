"""``python -m policenet`` runs the command line."""

from policenet.cli.main import main

main()
