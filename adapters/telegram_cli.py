"""`regellots telegram`: run the Telegram bot with long polling, or behind a reverse proxy with a webhook.

Environment: TELEGRAM_BOT_TOKEN (required), TELEGRAM_WEBHOOK_SECRET (required with --webhook-url),
TELEGRAM_API_BASE_URL (optional, e.g. a self-hosted Bot API server: http://127.0.0.1:8081/bot),
REGELLOTS_STATE (state store; SQLite file by default). The telegram package is imported only
when the command runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys

from bot import logsafe
from bot.commandline import command, knowledge_arg

# Telegram allows 1–256 characters A–Z, a–z, 0–9, _ and - in a webhook secret token.
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "telegram",
        help="run the Telegram bot (long polling; a webhook with --webhook-url)",
        description="Token from TELEGRAM_BOT_TOKEN; webhook secret from TELEGRAM_WEBHOOK_SECRET; "
        "optional TELEGRAM_API_BASE_URL (self-hosted Bot API server); state from REGELLOTS_STATE.",
    )
    knowledge_arg(p)
    p.add_argument("--webhook-url", default=None, help="public HTTPS URL Telegram posts updates to; its path is served locally")
    p.add_argument("--host", default="127.0.0.1", help="webhook: address to listen on (default 127.0.0.1, behind a reverse proxy)")
    p.add_argument("--port", type=int, default=8443, help="webhook: port to listen on (default 8443)")
    p.add_argument("--drop-pending", action="store_true", help="discard updates that arrived while the bot was down")


def _fail(message: str) -> int:
    print(f"regellots telegram: {message}", file=sys.stderr)
    return 2


@command("telegram")
def cmd_telegram(args: argparse.Namespace) -> int:
    token = os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        return _fail("TELEGRAM_BOT_TOKEN is not set (create a bot with @BotFather and export its token)")
    secret = os.environ.get("TELEGRAM_WEBHOOK_SECRET", "").strip()
    if args.webhook_url and not _SECRET.fullmatch(secret):
        return _fail("webhook mode needs TELEGRAM_WEBHOOK_SECRET: 1–256 characters of A-Z a-z 0-9 _ -")

    from telegram.error import InvalidToken

    from adapters.telegram import ALLOWED_UPDATES, TelegramAdapter, Webhook, build_application

    os.environ.setdefault("PTB_TIMEDELTA", "true")  # opt in to PTB's timedelta durations: no deprecation warnings
    # httpx logs every request URL at INFO, and the URL contains the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logsafe.install(secrets=[token, secret])  # and PTB logs whole updates (message text) at DEBUG: quieted there

    engine = TelegramAdapter.from_environment(args.knowledge).engine
    app = build_application(engine, token, base_url=os.environ.get("TELEGRAM_API_BASE_URL", "").strip() or None)
    drop = True if args.drop_pending else None
    try:
        if args.webhook_url:
            from aiohttp import web

            adapter: TelegramAdapter = app.bot_data["adapter"]
            hook = Webhook(adapter, app, args.webhook_url, secret, drop_pending=bool(drop))
            # SIGTERM: stop listening, let the updates being handled finish (Telegram resends the rest).
            web.run_app(hook.http_app(), host=args.host, port=args.port, print=None, shutdown_timeout=adapter.grace, access_log=None)
        else:
            app.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=drop)
    except InvalidToken:
        return _fail("Telegram rejected TELEGRAM_BOT_TOKEN")
    return 0
