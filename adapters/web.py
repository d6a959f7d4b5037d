"""The web chat: a page any region or agency can put on its site, and the JSON API it calls, in one aiohttp app.

Routes (all paths relative, so the app may sit under a path prefix behind a reverse proxy):

    GET  /                   the chat page (in the browser's language; the page switches without reloading)
    GET  /static/app.js|style.css        the page's script and style (shipped in adapters/web_static/, no build step)
    GET  /theme.css          the operator's theme colour    GET /logo   the operator's logo
    GET  /tillganglighet, /accessibility      the accessibility statement (a template the operator fills in)
    POST /api/chat           the JSON API (adapters/web_api.py)
    GET  /healthz, /readyz   liveness and readiness

Every response carries a strict Content-Security-Policy (nothing inline, nothing from elsewhere, framing only by
REGELLOTS_WEB_FRAME_ANCESTORS), nosniff and no-referrer. The only thing the page keeps is a random conversation id
(and a chosen language) in sessionStorage: no cookies. Message text is never logged.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from adapters.channel import Channel
from adapters.web_api import MAX_BODY, WebApi
from adapters.web_settings import LOGO_TYPES, WebSettings
from adapters.web_text import LANGS, accept_language, page_strings, text
from bot.conversation.engine import Engine

log = logging.getLogger("regellotsen.web")

STATIC = Path(__file__).resolve().parent / "web_static"
ASSETS = {"app.js": "text/javascript", "style.css": "text/css"}
STATEMENT_PATHS = {"sv": "tillganglighet", "en": "accessibility"}
_PLACEHOLDER = re.compile(r"\{\{([a-z_]+)\}\}")


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str
    etag: str

    @classmethod
    def of(cls, body: bytes, content_type: str) -> Asset:
        return cls(body, content_type, '"' + hashlib.sha256(body).hexdigest()[:16] + '"')


def fill(template: str, values: dict[str, str]) -> str:
    """Replace {{name}} with values[name] (already HTML); an unknown name is an error, not a silent blank."""

    def one(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return _PLACEHOLDER.sub(one, template)


def _blank(hint: str) -> str:
    """What an operator has not filled in yet: visible, marked, and saying which setting fills it."""
    return f'<mark class="fill">[{html.escape(hint)}]</mark>'


class WebPages:
    """The page, its assets and the accessibility statement, built once per server from the settings."""

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self.assets = {name: Asset.of((STATIC / name).read_bytes(), kind) for name, kind in ASSETS.items()}
        self.assets["theme.css"] = Asset.of(settings.theme_colours.css().encode(), "text/css")
        logo = settings.logo or STATIC / "logo.svg"
        self.assets["logo"] = Asset.of(logo.read_bytes(), LOGO_TYPES[logo.suffix.lower()])
        self.version = hashlib.sha256(b"".join(a.etag.encode() for a in self.assets.values())).hexdigest()[:10]
        template = (STATIC / "index.html").read_text(encoding="utf-8")
        self.pages = {lang: Asset.of(self._page(template, lang).encode(), "text/html; charset=utf-8") for lang in LANGS}
        self.statements = {lang: Asset.of(self._statement(lang).encode(), "text/html; charset=utf-8") for lang in LANGS}

    def _page(self, template: str, lang: str) -> str:
        strings = json.dumps(page_strings(), ensure_ascii=False, separators=(",", ":"))
        # A JSON data block is not run as script (so CSP allows it); only "</" could end it early.
        strings = strings.replace("</", "<\\/")
        keys = ("title", "skip", "tagline", "switch_to", "restart", "log_label", "thinking", "input_label", "input_hint", "send")
        values = {key: html.escape(text(key, lang)) for key in keys + ("disclaimer", "privacy", "accessibility")}
        organisation = self.settings.organisation
        values.update(
            lang=lang,
            other_lang=text("switch_to_lang", lang),
            brand=self.settings.theme_colours.brand,
            version=self.version,
            strings=strings,
            noscript_sv=html.escape(text("noscript", "sv")),
            noscript_en=html.escape(text("noscript", "en")),
            organisation=(" · " + html.escape(organisation)) if organisation else "",
            statement_href=STATEMENT_PATHS[lang],
        )
        return fill(template, values)

    def _statement(self, lang: str) -> str:
        s = self.settings
        directory = s.statement_dir or STATIC
        template = (directory / f"accessibility.{lang}.html").read_text(encoding="utf-8")
        if s.contact.startswith("https://"):
            contact = f'<a href="{html.escape(s.contact)}">{html.escape(s.contact)}</a>'
        elif s.contact:
            contact = f'<a href="mailto:{html.escape(s.contact)}">{html.escape(s.contact)}</a>'
        else:
            contact = _blank("REGELLOTS_WEB_CONTACT")
        values = {
            "version": self.version,
            "organisation": html.escape(s.organisation) if s.organisation else _blank("REGELLOTS_WEB_ORGANISATION"),
            "contact": contact,
            "statement_date": html.escape(s.statement_date) if s.statement_date else _blank("REGELLOTS_WEB_STATEMENT_DATE"),
        }
        return fill(template, values)

    @staticmethod
    def send(request: web.Request, asset: Asset, cache: str) -> web.Response:
        headers = {"ETag": asset.etag, "Cache-Control": cache, "Vary": "Accept-Encoding"}
        if request.headers.get("If-None-Match") == asset.etag:
            return web.Response(status=304, headers=headers)
        response = web.Response(body=asset.body, headers=headers)
        response.content_type, _, charset = asset.content_type.partition("; charset=")
        if charset:
            response.charset = charset
        if len(asset.body) > 1024:
            response.enable_compression()
        return response

    async def index(self, request: web.Request) -> web.Response:
        lang = accept_language(request.headers.get("Accept-Language"))
        response = self.send(request, self.pages[lang], "no-cache")
        response.headers["Vary"] = "Accept-Language, Accept-Encoding"
        response.headers["Content-Language"] = lang
        return response

    async def asset(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in ASSETS:
            raise web.HTTPNotFound()
        # The page asks for ?v=<version>, so a new release is fetched at once and the old one can be kept long.
        cache = "public, max-age=31536000, immutable" if request.query.get("v") == self.version else "no-cache"
        return self.send(request, self.assets[name], cache)

    async def theme(self, request: web.Request) -> web.Response:
        return self.send(request, self.assets["theme.css"], "no-cache")

    async def logo(self, request: web.Request) -> web.Response:
        return self.send(request, self.assets["logo"], "public, max-age=86400")

    def statement(self, lang: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            response = self.send(request, self.statements[lang], "no-cache")
            response.headers["Content-Language"] = lang
            return response

        return handler


def security_headers(settings: WebSettings) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    csp = settings.content_security_policy()
    frame_none = settings.frame_ancestors == ("'none'",)

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        h = response.headers
        h["Content-Security-Policy"] = csp
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "no-referrer"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
        h["Cross-Origin-Resource-Policy"] = "same-origin"
        if frame_none:
            h["X-Frame-Options"] = "DENY"  # for browsers older than frame-ancestors

    return on_prepare


class WebChannel(Channel):
    """The web channel: the page and POST /api/chat on the channel's HTTP app (with /healthz and /readyz)."""

    name = "web"

    def __init__(self, engine: Engine, settings: WebSettings | None = None) -> None:
        super().__init__(engine)
        self.settings = settings if settings is not None else WebSettings.from_env()
        self.settings.check()
        self.pages = WebPages(self.settings)
        self.api = WebApi(self, self.settings)

    def app(self) -> web.Application:
        app = self.http_app(client_max_size=MAX_BODY)
        app[CHANNEL] = self
        app.router.add_get("/", self.pages.index)
        app.router.add_get("/static/{name}", self.pages.asset)
        app.router.add_get("/theme.css", self.pages.theme)
        app.router.add_get("/logo", self.pages.logo)
        for lang, path in STATEMENT_PATHS.items():
            app.router.add_get("/" + path, self.pages.statement(lang))
        app.router.add_post("/api/chat", self.api.chat)
        app.on_response_prepare.append(security_headers(self.settings))
        return app


CHANNEL = web.AppKey("channel", WebChannel)


def create_app(engine: Engine, settings: WebSettings | None = None) -> web.Application:
    """The aiohttp app of the web chat; hot reload while it runs."""
    return WebChannel(engine, settings).app()


def run(channel: WebChannel, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve the web chat until stopped (SIGTERM or SIGINT)."""
    app = channel.app()
    log.warning("web chat on http://%s:%d/ (%s)", host, port, channel.engine.knowledge.summary())
    # No access log: it would hold every visitor's address; the channel logs turns without text or address.
    web.run_app(app, host=host, port=port, print=None, access_log=None, shutdown_timeout=5)  # turns drain in on_shutdown
