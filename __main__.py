"""``python -m orrery`` runs the command line."""

from .runtime._cli import entry_point

entry_point()
