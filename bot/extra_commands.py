"""Subcommands beyond the core: the channel adapters and the maintainers' tools.

Each registers its parser here and its handler with `bot.cli.command`, and
imports its heavy dependencies only when run.
"""

from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the parsers of the extra commands."""
