"""`regellots web`: run the web chat (the page and its JSON API) — docs/web.md."""

from __future__ import annotations

import argparse
import sys

from bot.commandline import command, knowledge_arg

DEFAULT_PORT = 8080


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "web",
        help="run the web chat: the page at / and its API at /api/chat (docs/web.md)",
        description="Settings come from REGELLOTS_WEB_* (frame ancestors, theme, logo, organisation, contact, rate limits; "
        "see docs/web.md). State: $REGELLOTS_STATE.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 in a container)")
    p.add_argument("--port", type=int, default=None, help=f"port (default $PORT, else {DEFAULT_PORT})")
    knowledge_arg(p)


@command("web")
def cmd_web(args: argparse.Namespace) -> int:
    from adapters.web import WebChannel, run
    from adapters.web_settings import WebSettings
    from bot.settings import load_settings

    config = load_settings()  # already checked by bot.cli.main: a wrong value stopped the start there
    problems = config.production_problems("web")
    try:
        settings = WebSettings.from_env()
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        print(f"regellots web: {problems[0]}", file=sys.stderr)
        return 2
    run(WebChannel.from_environment(args.knowledge, settings=settings), host=args.host, port=args.port or config.port or DEFAULT_PORT)
    return 0
