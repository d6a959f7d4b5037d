"""What an operator sets for the web chat (environment variables `REGELLOTS_WEB_*`), checked before the server starts.

| variable | meaning | default |
| --- | --- | --- |
| `REGELLOTS_WEB_FRAME_ANCESTORS` | who may show the chat in an iframe: origins separated by spaces, e.g. `https://www.region.se https://*.region.se`; `'self'`; or `'none'` | `'none'` |
| `REGELLOTS_WEB_THEME` | theme colour, `#rrggbb` (text on it is black or white, whichever contrasts more) | `#0b5394` |
| `REGELLOTS_WEB_LOGO` | a logo file (SVG, PNG, JPEG or WebP, at most 64 KB) shown in the header | the shipped mark |
| `REGELLOTS_WEB_ORGANISATION` | who runs this chat (page footer, accessibility statement) | none |
| `REGELLOTS_WEB_CONTACT` | where to report accessibility problems: an e-mail address or an https:// URL | none |
| `REGELLOTS_WEB_STATEMENT_DATE` | when the accessibility statement was last reviewed (YYYY-MM-DD) | none |
| `REGELLOTS_WEB_STATEMENT_DIR` | a folder with your own `accessibility.sv.html` and `accessibility.en.html` (copies of the shipped templates) | the templates |
| `REGELLOTS_WEB_RATE` | messages per minute one client (address) may send; `0` turns the limit off | `120` |
| `REGELLOTS_WEB_CONVERSATION_RATE` | messages per minute in one conversation; `0` turns the limit off | `40` |
| `REGELLOTS_WEB_TRUSTED_PROXIES` | how many reverse proxies in front add `X-Forwarded-For` (the client is the address they saw) | `0` |
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_THEME = "#0b5394"
MAX_LOGO_BYTES = 64 * 1024
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
# A CSP source expression for frame-ancestors: scheme://host[:port] with an optional leading *. label, no path.
_ORIGIN = re.compile(r"^https?://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:\d{1,5})?$")
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of #rrggbb."""

    def channel(hex2: str) -> float:
        c = int(hex2, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@dataclass(frozen=True)
class Theme:
    """The operator's colour, with what goes on it and how links look, all at least 4.5:1 (WCAG 1.4.3)."""

    brand: str
    on_brand: str  # text on the brand colour: black or white, whichever contrasts more
    link: str  # links and outlines on the white page: the brand colour when it reads well on white, else a dark blue

    @classmethod
    def of(cls, brand: str) -> Theme:
        brand = brand.lower()
        on_brand = "#ffffff" if contrast(brand, "#ffffff") >= contrast(brand, "#000000") else "#000000"
        link = brand if contrast(brand, "#ffffff") >= 4.5 else "#0b4f8a"
        return cls(brand, on_brand, link)

    def css(self) -> str:
        return f":root{{--brand:{self.brand};--on-brand:{self.on_brand};--link:{self.link}}}\n"


@dataclass(frozen=True)
class WebSettings:
    frame_ancestors: tuple[str, ...] = ("'none'",)
    theme: str = DEFAULT_THEME
    logo: Path | None = None
    organisation: str = ""
    contact: str = ""
    statement_date: str = ""
    statement_dir: Path | None = None
    rate_per_minute: float = 120.0
    conversation_rate_per_minute: float = 40.0
    trusted_proxies: int = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebSettings:
        """Raises ValueError naming the variable when a value cannot be used."""
        env = os.environ if env is None else env

        def number(name: str, default: float) -> float:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"{name} must be a number, not {raw!r}") from None
            if not (0 <= value < 1e9):
                raise ValueError(f"{name} must be 0 or more")
            return value

        ancestors = tuple(env.get("REGELLOTS_WEB_FRAME_ANCESTORS", "").split()) or cls.frame_ancestors
        logo = env.get("REGELLOTS_WEB_LOGO", "").strip()
        statement_dir = env.get("REGELLOTS_WEB_STATEMENT_DIR", "").strip()
        settings = cls(
            frame_ancestors=ancestors,
            theme=env.get("REGELLOTS_WEB_THEME", "").strip() or DEFAULT_THEME,
            logo=Path(logo) if logo else None,
            organisation=env.get("REGELLOTS_WEB_ORGANISATION", "").strip(),
            contact=env.get("REGELLOTS_WEB_CONTACT", "").strip(),
            statement_date=env.get("REGELLOTS_WEB_STATEMENT_DATE", "").strip(),
            statement_dir=Path(statement_dir) if statement_dir else None,
            rate_per_minute=number("REGELLOTS_WEB_RATE", cls.rate_per_minute),
            conversation_rate_per_minute=number("REGELLOTS_WEB_CONVERSATION_RATE", cls.conversation_rate_per_minute),
            trusted_proxies=int(number("REGELLOTS_WEB_TRUSTED_PROXIES", 0)),
        )
        settings.check()
        return settings

    def check(self) -> None:
        for source in self.frame_ancestors:
            if source in ("'none'", "'self'"):
                if source == "'none'" and len(self.frame_ancestors) > 1:
                    raise ValueError("REGELLOTS_WEB_FRAME_ANCESTORS: 'none' cannot be combined with other sources")
                continue
            if not _ORIGIN.match(source):
                raise ValueError(
                    f"REGELLOTS_WEB_FRAME_ANCESTORS: {source!r} is not an origin like https://www.region.se or https://*.region.se"
                )
        if not _HEX.match(self.theme):
            raise ValueError(f"REGELLOTS_WEB_THEME must be a colour like #0b5394, not {self.theme!r}")
        if self.logo is not None:
            if self.logo.suffix.lower() not in LOGO_TYPES:
                raise ValueError(f"REGELLOTS_WEB_LOGO must be one of {', '.join(LOGO_TYPES)}")
            if not self.logo.is_file():
                raise ValueError(f"REGELLOTS_WEB_LOGO: no file {self.logo}")
            if self.logo.stat().st_size > MAX_LOGO_BYTES:
                raise ValueError(f"REGELLOTS_WEB_LOGO is over {MAX_LOGO_BYTES // 1024} KB; the page must stay small")
        if self.statement_dir is not None:
            for lang in ("sv", "en"):
                if not (self.statement_dir / f"accessibility.{lang}.html").is_file():
                    raise ValueError(f"REGELLOTS_WEB_STATEMENT_DIR: no accessibility.{lang}.html in {self.statement_dir}")
        if self.contact and not (_EMAIL.match(self.contact) or self.contact.startswith("https://")):
            raise ValueError("REGELLOTS_WEB_CONTACT must be an e-mail address or an https:// URL")
        if self.statement_date and not _DATE.match(self.statement_date):
            raise ValueError("REGELLOTS_WEB_STATEMENT_DATE must be a date like 2026-01-31")

    @property
    def theme_colours(self) -> Theme:
        return Theme.of(self.theme)

    def content_security_policy(self) -> str:
        """Everything from this server only; nothing inline; framing only by the configured origins."""
        return "; ".join(
            [
                "default-src 'none'",
                "script-src 'self'",
                "style-src 'self'",
                "img-src 'self'",
                "connect-src 'self'",
                "form-action 'self'",
                "base-uri 'none'",
                "frame-ancestors " + " ".join(self.frame_ancestors),
            ]
        )
