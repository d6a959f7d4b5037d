"""Telegram long polling on the project's own aiohttp app, so polling mode answers `GET /healthz`,
`/readyz` and `/metrics` too (webhook mode: `adapters.telegram.Webhook`, on the same kind of app).

python-telegram-bot documents running the `Application` without its `run_*` helpers
(`initialize`, `start`, `updater.start_polling`, … `stop`, `shutdown`); the channel base's aiohttp
app drives that here. Start: the channel (hot reload), then the bot (`getMe`, the command menu, the
poller). Stop (SIGTERM/SIGINT via aiohttp's `run_app`): the poller first, then the application
(updates in hand are finished), then the channel and its store.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiohttp import web
from telegram.ext import Application

from adapters.telegram import ALLOWED_UPDATES

if TYPE_CHECKING:
    from adapters.telegram import TelegramAdapter

log = logging.getLogger("regellotsen.telegram")


class Polling:
    """One aiohttp app around a polling PTB Application: health, readiness and metrics."""

    def __init__(self, application: Application, *, drop_pending: bool | None = None) -> None:
        self.application = application
        self.adapter: TelegramAdapter = application.bot_data["adapter"]
        self.drop_pending = drop_pending

    def http_app(self) -> web.Application:
        app = self.adapter.http_app()
        app.cleanup_ctx.append(self._bot)  # its clean-up (stop polling) runs before the channel's
        return app

    async def _bot(self, _app: web.Application) -> AsyncIterator[None]:
        application = self.application
        await application.initialize()  # getMe: InvalidToken if Telegram refuses the token
        await self.adapter.set_commands(application)
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=self.drop_pending)
        log.info("telegram bot @%s ready (long polling); knowledge: %s", application.bot.username, self.adapter.engine.knowledge.summary())
        try:
            yield
        finally:
            if application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            await application.shutdown()


def run(application: Application, *, host: str, port: int, drop_pending: bool | None = None) -> None:
    """Poll until SIGTERM or SIGINT, serving health, readiness and metrics on host:port."""
    polling = Polling(application, drop_pending=drop_pending)
    log.warning("Telegram bot (long polling); health and metrics on http://%s:%d", host, port)
    web.run_app(polling.http_app(), host=host, port=port, print=None, access_log=None, shutdown_timeout=polling.adapter.grace)
