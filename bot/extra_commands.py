"""Subcommands beyond the core: the channel adapters and the maintainers' tools.

Each module listed here has `add_parsers(sub)`, which adds its parsers and
registers its handlers with `bot.cli.command`. Modules import their heavy
dependencies (telegram, botbuilder) only when their command runs.
"""

from __future__ import annotations

import argparse
import importlib

MODULES = [
    "adapters.telegram_cli",
    "adapters.teams_cli",
    "bot.maintain",
]


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # not written yet (during development)
        module.add_parsers(sub)
