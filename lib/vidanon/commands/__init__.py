"""One module per command of `python -m vidanon` (see vidanon.cli)."""
