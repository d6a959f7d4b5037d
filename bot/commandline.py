"""What every `regellots` subcommand module shares: the handler registry and common options.

Kept apart from `bot.cli` so that command modules (adapters' and maintainers') register here
without importing the CLI that imports them."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    def register(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS[name] = fn
        return fn

    return register


def knowledge_arg(p: argparse.ArgumentParser) -> None:
    """The --knowledge option every command that loads the knowledge base shares."""
    p.add_argument("--knowledge", type=Path, default=None, help="knowledge directory (default: $REGELLOTS_KNOWLEDGE or the shipped one)")
