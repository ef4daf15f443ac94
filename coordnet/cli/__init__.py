"""Command-line interface: ``coordnet <command>``."""
