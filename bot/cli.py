"""`regellots` — the command line: chat, ask, validate, evaluate, and run the bots."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters import teams_cli, telegram_cli, web_cli
from bot import logsafe
from bot.commandline import COMMANDS, command, knowledge_arg
from bot.maintain import commands as maintain_commands
from bot.state.sqlite import StateFileError

if TYPE_CHECKING:  # imported where used: `regellots --help` stays fast
    from bot.conversation.engine import Engine
    from bot.conversation.replies import Response

#: Modules that add subcommands (each imports its heavy dependencies only when its command runs).
COMMAND_MODULES = (telegram_cli, teams_cli, web_cli, maintain_commands)

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="regellots", description="Regellotsen: which rules apply, and whom to ask.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more (never message text)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a knowledge directory; exit 1 with file:line errors")
    p.add_argument("directory", nargs="?", type=Path, default=None)

    p = sub.add_parser("chat", help="chat in the terminal")
    knowledge_arg(p)
    p.add_argument("--state", default="memory", help="state store: memory (default), a file path, sqlite:///path or redis://…")
    p.add_argument("--jsonl", action="store_true", help="JSON lines in and out, for programs (docs/jsonl.md)")

    p = sub.add_parser("ask", help="answer questions as first messages of new conversations")
    knowledge_arg(p)
    p.add_argument("--lang", choices=["sv", "en"], default=None)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("question", nargs="*", help="the question; without it, one question per line on stdin")

    p = sub.add_parser("eval", help="evaluate answers against a question file")
    knowledge_arg(p)
    p.add_argument("file", type=Path)
    p.add_argument("--floor", type=float, default=None, help="exit 1 if in-scope accuracy is below this (0–1)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("eval-routes", help="how first messages as people write them are routed (tests/eval/realistic)")
    knowledge_arg(p)
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true", help="the figures only, not the misses")

    for module in COMMAND_MODULES:
        module.add_parsers(sub)
    return parser


@command("validate")
def cmd_validate(args: argparse.Namespace) -> int:
    from bot.knowledge import default_directory, load_knowledge

    directory = args.directory or default_directory()
    knowledge, problems = load_knowledge(directory, check_collisions=True, check_rules=True)
    for problem in problems:
        print(problem, file=sys.stderr if problem.severity == "error" else sys.stdout)
    if knowledge is None:
        errors = sum(p.severity == "error" for p in problems)
        print(f"knowledge has {errors} error(s)", file=sys.stderr)
        return 1
    warnings = sum(p.severity == "warning" for p in problems)
    print(f"knowledge OK: {knowledge.summary()}" + (f" ({warnings} warning(s))" if warnings else ""))
    return 0


@command("chat")
def cmd_chat(args: argparse.Namespace) -> int:
    from adapters.console import Console
    from adapters.jsonl import JsonLines

    channel = (JsonLines if args.jsonl else Console).from_environment(args.knowledge, state=args.state)
    try:
        asyncio.run(channel.run())
    except KeyboardInterrupt:
        pass
    return 0


def ask_record(question: str, response: Response) -> dict[str, Any]:
    kind = {"answer": "answer", "flow": "flow", "clarify": "clarify"}.get(response.kind, "fallback")
    return {
        "question": question,
        "kind": kind,
        "topic": response.topic if kind == "answer" else None,
        "regulations": response.regulations,
        "agencies": response.agencies,
        "text": response.plain_text(),
        "choices": [o.label for o in response.options],
    }


async def ask_many(engine: Engine, questions: list[str], lang: str | None) -> list[tuple[str, Response]]:
    from bot.understanding.pipeline import Incoming

    out = []
    for i, question in enumerate(questions):
        conversation = f"ask-{i}"
        if lang:
            await engine.handle(conversation, Incoming(choice=f"lang:{lang}"))
        out.append((question, await engine.handle(conversation, Incoming(text=question))))
    return out


@command("ask")
def cmd_ask(args: argparse.Namespace) -> int:
    from adapters.console import render
    from bot.conversation.engine import load_engine

    engine = load_engine(args.knowledge, channel="ask")
    questions = [" ".join(args.question)] if args.question else [line.rstrip("\n") for line in sys.stdin if line.strip()]
    for question, response in asyncio.run(ask_many(engine, questions, args.lang)):
        if args.json:
            print(json.dumps(ask_record(question, response), ensure_ascii=False))
        else:
            print(render(response))
    return 0


@command("eval")
def cmd_eval(args: argparse.Namespace) -> int:
    from bot.conversation.engine import load_engine
    from bot.maintain.evaluation import evaluate, load_questions, report

    engine = load_engine(args.knowledge, channel="eval")
    questions = load_questions(args.file)
    result = asyncio.run(evaluate(engine, questions))
    if args.json:
        print(json.dumps(result.summary(), ensure_ascii=False, indent=2))
    else:
        print(report(result))
    if args.floor is not None and result.in_scope_accuracy < args.floor:
        print(f"in-scope accuracy {result.in_scope_accuracy:.1%} is below the floor {args.floor:.1%}", file=sys.stderr)
        return 1
    return 0


@command("eval-routes")
def cmd_eval_routes(args: argparse.Namespace) -> int:
    from bot.conversation.engine import load_engine
    from bot.maintain.routes import evaluate_routes, load_items, report

    engine = load_engine(args.knowledge, channel="eval")
    result = asyncio.run(evaluate_routes(engine, load_items(args.file)))
    print(json.dumps(result.summary(), ensure_ascii=False, indent=2) if args.json else report(result, misses=not args.quiet))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from bot.settings import SettingsError, load_settings

    try:
        load_settings()  # every variable at once: a wrong value stops here, in one line
    except SettingsError as exc:
        print(f"regellots: configuration: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logsafe.level_from_env(args.verbose), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logsafe.install()
    try:
        return COMMANDS[args.command](args)
    except StateFileError as exc:  # a state file that cannot be used: one line, not a traceback
        print(f"regellots {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `regellots eval … | head`: the reader left; stop quietly like other command-line tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
