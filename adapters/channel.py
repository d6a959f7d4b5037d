"""The one base every channel builds on: the common life of a channel, written once.

A channel (console, Telegram, Teams, …) owns an `Engine` and its state store,
keeps the knowledge hot-reloading while it runs, answers health, readiness and metrics
on HTTP, keeps one conversation's replies in order, and shuts down cleanly.
What is left to a channel is translation: its input into `Incoming`, a
`Response` into its messages. A new channel is one module with a subclass of
`Channel` plus one line registering its command in `bot.cli`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from aiohttp import web

from bot import metrics
from bot.conversation import hotreload
from bot.conversation.engine import Engine, load_engine
from bot.conversation.replies import Response
from bot.settings import load_settings
from bot.state import ConversationLocks, open_store
from bot.understanding.pipeline import Incoming

log = logging.getLogger("regellotsen.channel")

Deliver = Callable[[Response], Awaitable[None]]

#: Accepted works (turns answered after their request) waiting at once; more get 503, and the channel retries.
MAX_PENDING = 20_000
#: Accepted works running at once; the others wait their turn cheaply. A turn is milliseconds of CPU in
#: small steps; hundreds interleaved would make every loop iteration long and new requests slow to answer.
MAX_RUNNING = 32
DEFAULT_GRACE = 20.0  # seconds; docker-compose.yml's stop_grace_period leaves 10 more for the rest


def drain_seconds() -> float:
    """$REGELLOTS_DRAIN_SECONDS: how long a stopping channel finishes accepted work (default 20).

    A wrong value raises SettingsError (a ValueError) naming the variable."""
    return load_settings().drain_seconds
C = TypeVar("C", bound="Channel")


class Channel:
    """Subclass per channel; set `name`, translate in and out, call `turn` for every user action."""

    name: ClassVar[str] = "channel"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # In-process order: the steps of one turn (an acknowledgement, the answer, its delivery) finish
        # before the next turn of that conversation starts. The store's lock adds the cross-process part.
        self._serial = ConversationLocks()
        self._reload_task: asyncio.Task[None] | None = None
        # Work accepted from an HTTP request and answered later (Teams): per conversation, in arrival order.
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self._running = asyncio.Semaphore(MAX_RUNNING)
        #: Seconds a stopping channel waits for accepted work (SIGTERM → drain); see docs/deploy.md.
        self.grace = drain_seconds()

    @classmethod
    def from_environment(cls: type[C], knowledge: Path | None = None, *, state: str | None = None, **options: Any) -> C:
        """Load the knowledge (or exit with its problems), open the store named by `state` or
        $REGELLOTS_STATE (an SQLite file by default), and make the channel (with its own `options`)."""
        store = open_store(state if state is not None else load_settings().state)
        return cls(load_engine(knowledge, store, channel=cls.name), **options)

    async def turn(
        self,
        conversation: str,
        incoming: Incoming,
        deliver: Deliver,
        *,
        user: str | None = None,
        before: Callable[[], Awaitable[None]] | None = None,
        message_id: str | None = None,
    ) -> Response:
        """One user action, in its conversation's turn: `before` (e.g. acknowledge a button), then the
        engine's answer, delivered by `deliver` before the next turn of the conversation may start.
        `message_id` (the channel's id of the message) makes a retried or replayed message apply once."""
        async with self._serial.lock(conversation):
            if before is not None:
                await before()
            with metrics.timed_reply(self.name):  # until the replies were delivered (they are, inside handle)
                response = await self.engine.handle(conversation, incoming, user=user, deliver=deliver, message_id=message_id)
            metrics.turn(self.name, response.kind)
            return response

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """A place among the MAX_RUNNING turns that run at once, first come first served: for a channel that
        answers inside the request (the Telegram webhook). Without it every waiting update would run at once
        and, under full load, a few would starve behind the rest (at 1,000 Telegram chats on Redis some
        waited over 15 s while the median was 3 s)."""
        async with self._running:
            yield

    # -- accepted work, answered after the request --------------------------

    def accept(self, conversation: str, work: Callable[[], Awaitable[None]]) -> bool:
        """Run `work` after all work accepted earlier for this conversation; return at once.

        The order is the order of the calls (so of the requests), whatever each one awaits. Returns
        False, running nothing, when MAX_PENDING works are already waiting (the caller says 503)."""
        if len(self._pending) >= MAX_PENDING:
            return False
        previous = self._tails.get(conversation)

        async def run() -> None:
            if previous is not None:
                await asyncio.wait({previous})  # never raises: the previous work's failure is its own
            async with self._running:
                try:
                    await work()
                except Exception as exc:  # noqa: BLE001 — logged by type; one failed turn must not stop the next
                    log.error("%s: a turn failed: %s", self.name, type(exc).__name__)

        task = asyncio.get_running_loop().create_task(run())
        self._tails[conversation] = task
        self._pending.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._pending.discard(t)
            if self._tails.get(conversation) is t:
                del self._tails[conversation]

        task.add_done_callback(done)
        return True

    @property
    def pending(self) -> int:
        """Accepted works not yet finished."""
        return len(self._pending)

    async def idle(self) -> None:
        """Wait until every accepted work has finished (tests; and `drain`)."""
        while self._pending:
            await asyncio.wait(set(self._pending))

    async def drain(self, timeout: float) -> int:
        """Wait up to `timeout` seconds for accepted work; return how many were left unfinished."""
        if not self._pending:
            return 0
        log.warning("%s: stopping; finishing %d accepted turn(s), at most %.0f s", self.name, len(self._pending), timeout)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self.idle()
        left = len(self._pending)
        if left:
            log.error("%s: %d accepted turn(s) not finished within %.0f s", self.name, left, timeout)
        return left

    # -- life ---------------------------------------------------------------

    async def start(self) -> None:
        """Start reloading the knowledge on change or SIGHUP. Call inside the running loop."""
        self._reload_task = hotreload.start_reloading(self.engine)
        if not await self.engine.ready():  # the engine answers users with an error message meanwhile
            log.warning("the state store is not reachable; users get an error reply until it is")

    async def stop(self) -> None:
        """Stop reloading and close the store."""
        task, self._reload_task = self._reload_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(Exception):
            await self.engine.store.close()

    # -- HTTP ---------------------------------------------------------------

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(self, request: web.Request) -> web.Response:
        if await self.engine.ready():
            return web.json_response({"status": "ready", "knowledge": self.engine.knowledge.summary()})
        return web.json_response({"status": "unavailable"}, status=503)

    def http_app(self, *, client_max_size: int = 256 * 1024) -> web.Application:
        """An aiohttp app with GET /healthz, /readyz and /metrics whose start-up and clean-up run `start` and `stop`;
        the channel adds its own routes."""
        app = web.Application(client_max_size=client_max_size)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        metrics.add_route(app)

        async def on_startup(_app: web.Application) -> None:
            await self.start()

        async def on_shutdown(_app: web.Application) -> None:
            await self.drain(self.grace)  # the listening socket is closed by now: nothing new comes in

        async def on_cleanup(_app: web.Application) -> None:
            await self.stop()

        app.on_startup.append(on_startup)
        app.on_shutdown.append(on_shutdown)
        app.on_cleanup.append(on_cleanup)
        return app
