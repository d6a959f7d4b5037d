"""`regellots telegram`: run the Telegram bot with long polling, or behind a reverse proxy with a webhook;
either way on the project's own aiohttp server, which also answers /healthz, /readyz and /metrics
(adapters.telegram_server).

Environment (bot.settings): TELEGRAM_BOT_TOKEN (required), TELEGRAM_WEBHOOK_SECRET (required with
--webhook-url), TELEGRAM_API_BASE_URL (optional, e.g. a self-hosted Bot API server:
http://127.0.0.1:8081/bot), REGELLOTS_STATE (state store; SQLite file by default), PORT. The telegram
package is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from bot import logsafe
from bot.commandline import command, knowledge_arg

DEFAULT_PORT = 8443


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "telegram",
        help="run the Telegram bot (long polling; a webhook with --webhook-url)",
        description="Token from TELEGRAM_BOT_TOKEN; webhook secret from TELEGRAM_WEBHOOK_SECRET; "
        "optional TELEGRAM_API_BASE_URL (self-hosted Bot API server); state from REGELLOTS_STATE.",
    )
    knowledge_arg(p)
    p.add_argument("--webhook-url", default=None, help="public HTTPS URL Telegram posts updates to; its path is served locally (default $TELEGRAM_WEBHOOK_URL; neither: long polling)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, behind a reverse proxy; 0.0.0.0 in a container)")
    p.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"port of the webhook, and of /healthz, /readyz and /metrics in either mode (default $PORT, else {DEFAULT_PORT})",
    )
    p.add_argument("--drop-pending", action="store_true", help="discard updates that arrived while the bot was down")


def _fail(message: str) -> int:
    print(f"regellots telegram: {message}", file=sys.stderr)
    return 2


@command("telegram")
def cmd_telegram(args: argparse.Namespace) -> int:
    from bot.settings import load_settings

    settings = load_settings()  # checked by bot.cli.main: a wrong value stopped the start there
    webhook_url = args.webhook_url or settings.telegram_webhook_url
    problems = settings.telegram_problems(webhook=bool(webhook_url)) + settings.production_problems("telegram")
    if problems:
        return _fail(problems[0])
    token = settings.secret("telegram_bot_token")
    secret = settings.secret("telegram_webhook_secret") or None

    os.environ.setdefault("PTB_TIMEDELTA", "true")  # opt in to PTB's timedelta durations: no deprecation warnings
    from telegram.error import InvalidToken

    from adapters import telegram_server
    from adapters.telegram import TelegramAdapter, Webhook, build_application

    # httpx logs every request URL at INFO, and the URL contains the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logsafe.install(secrets=[s for s in (token, secret) if s])  # and PTB logs whole updates (message text) at DEBUG: quieted there

    engine = TelegramAdapter.from_environment(args.knowledge).engine
    app = build_application(engine, token, base_url=settings.telegram_api_base_url or None)
    drop = True if args.drop_pending else None
    port = args.port or settings.port or DEFAULT_PORT
    try:
        if webhook_url:
            from aiohttp import web

            adapter: TelegramAdapter = app.bot_data["adapter"]
            assert secret is not None  # telegram_problems: webhook mode needs it
            hook = Webhook(adapter, app, webhook_url, secret, drop_pending=bool(drop))
            # SIGTERM: stop listening, let the updates being handled finish (Telegram resends the rest).
            web.run_app(hook.http_app(), host=args.host, port=port, print=None, shutdown_timeout=adapter.grace, access_log=None)
        else:
            telegram_server.run(app, host=args.host, port=port, drop_pending=drop)  # polling, with /healthz, /readyz, /metrics
    except InvalidToken:
        return _fail("Telegram rejected TELEGRAM_BOT_TOKEN")
    return 0
