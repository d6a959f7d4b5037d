"""A python-telegram-bot request class on aiohttp: one keep-alive connection pool per process.

python-telegram-bot accepts a custom `telegram.request.BaseRequest` (`ApplicationBuilder.request`
and `.get_updates_request`). Its default, `HTTPXRequest`, goes through httpcore, whose
connection pool does work for every pooled connection on every request (with 200 conversations
that scan was about a third of the bot's CPU). aiohttp's connector keeps idle connections per
host and takes one without scanning the others. Parameters go as one JSON body (nested objects as
objects, as the Bot API documents for application/json), not as a URL-encoded form; files as multipart.

Errors map as PTB's own request class maps them: a timeout is `TimedOut`, any other transport
error `NetworkError`. Error messages carry the exception type only — never the URL, which holds
the bot token.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

JSON_HEADERS = {"Content-Type": "application/json"}  # aiohttp copies request headers; never changed
DEFAULT_POOL = 256  # PTB's own default is 1 (256 when concurrent updates are used); replies of 64 concurrent updates share it


class AiohttpRequest(BaseRequest):
    """`BaseRequest` over one `aiohttp.ClientSession` (created in `initialize`, closed in `shutdown`)."""

    __slots__ = ("_connect_timeout", "_media_write_timeout", "_pool_size", "_pool_timeout", "_read_timeout", "_session", "_write_timeout", "trace_configs")

    def __init__(
        self,
        connection_pool_size: int = DEFAULT_POOL,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        trace_configs: list[aiohttp.TraceConfig] | None = None,
    ) -> None:
        self.trace_configs = trace_configs or []  # aiohttp's client tracing, e.g. to count new connections
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size, keepalive_timeout=60)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}, trace_configs=self.trace_configs or None
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def _timeout(self, read: Any, write: Any, connect: Any, pool: Any, media: bool) -> aiohttp.ClientTimeout:
        read = self._read_timeout if isinstance(read, DefaultValue) else read
        connect = self._connect_timeout if isinstance(connect, DefaultValue) else connect
        pool = self._pool_timeout if isinstance(pool, DefaultValue) else pool
        write = (self._media_write_timeout if media else self._write_timeout) if isinstance(write, DefaultValue) else write
        # aiohttp has no write timeout of its own: sending counts against the whole-request bound.
        acquire = None if connect is None or pool is None else connect + pool
        total = None if read is None or write is None or acquire is None else read + write + acquire
        return aiohttp.ClientTimeout(total=total, connect=acquire, sock_connect=connect, sock_read=read)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        data: Any = None
        headers = None
        if request_data is not None and not request_data.contains_files:
            # One JSON body (as the Bot API accepts): cheaper to build than a URL-encoded form. Only the
            # parameters: `json_parameters` would JSON-encode each one separately first, for nothing.
            parameters = request_data.parameters
            if parameters:
                data = json.dumps(parameters, ensure_ascii=False, separators=(",", ":")).encode()
                headers = JSON_HEADERS
        files = request_data.multipart_data if request_data is not None and request_data.contains_files else None
        if files:
            assert request_data is not None
            form = aiohttp.FormData(quote_fields=False)
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, part in files.items():
                filename, content, *rest = part
                form.add_field(name, content, filename=filename, content_type=rest[0] if rest else "application/octet-stream")
            data = form
        timeout = self._timeout(read_timeout, write_timeout, connect_timeout, pool_timeout, bool(files))
        try:
            async with self._session.request(method, url, data=data, headers=headers, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}") from exc
