"""Logs that keep secrets: no message text, token, secret or raw user id, at any level.

Our own loggers (``regellotsen.*``) log only types, counts, lengths, update ids
and short hashes. The libraries underneath do not: at DEBUG python-telegram-bot
logs whole updates (``telegram.ext.Application``: "Processing update …") and
every Bot API call with its parameters (``telegram.Bot``), httpx logs request
URLs, which contain the bot token, and msrest/botbuilder log request bodies.

``install`` adds a filter to the root handlers that

* drops records below WARNING from those libraries, whatever the level asked for
  (``REGELLOTS_LOG_LEVEL=DEBUG`` shows our own debug lines, not their payloads);
* replaces the given secret values (bot token, webhook secret, app password)
  wherever they appear in what is left.

The library loggers are also set to WARNING, so their records are not even made.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

#: Loggers of libraries that log payloads or URLs with credentials below WARNING.
QUIET = (
    "telegram",
    "httpx",
    "httpcore",
    "hpack",
    "msrest",
    "msal",
    "botbuilder",
    "botframework",
    "urllib3",
    "requests_oauthlib",
    "aiohttp.access",
    "aiohttp.client",
    "aiohttp.server",
    "aiohttp.web",
    "tornado",
)
LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR}


class SafeLogs(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def add(self, secrets: Iterable[str]) -> None:
        self.secrets += [s for s in secrets if s and len(s) >= 6 and s not in self.secrets]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING and record.name.startswith(QUIET):
            return False
        if self.secrets:
            message = record.getMessage()
            cleaned = message
            for secret in self.secrets:
                cleaned = cleaned.replace(secret, "***")
            if cleaned != message:
                record.msg, record.args = cleaned, None
            if record.exc_text:
                for secret in self.secrets:
                    record.exc_text = record.exc_text.replace(secret, "***")
        return True


_filter = SafeLogs()


def install(secrets: Iterable[str] = ()) -> SafeLogs:
    """Guard every root handler (idempotent); add secrets to scrub."""
    _filter.add(secrets)
    for name in QUIET:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        if _filter not in handler.filters:
            handler.addFilter(_filter)
    return _filter


def level_from_env(verbose: bool) -> int:
    """$REGELLOTS_LOG_LEVEL (DEBUG, INFO, WARNING, ERROR), else INFO with -v, else WARNING."""
    from bot.settings import load_settings

    level = load_settings().log_level
    if level is not None:
        return LEVELS[level.value]
    return logging.INFO if verbose else logging.WARNING
