"""The Teams app package: manifest.json (Swedish, with an English localization file) and two icons.

Everything is generated in pure Python and deterministically: the same options
give a byte-identical zip (fixed timestamps and order; PNGs written with zlib).
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MANIFEST_VERSION = "1.19"
SCHEMA = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
LOCALIZATION_SCHEMA = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.Localization.schema.json"
DEFAULT_LANGUAGE = "sv-SE"
EN_FILE = "en-US.json"
SCOPES = ["personal", "team", "groupChat"]
PLACEHOLDER_SITE = "https://example.org/regellotsen"

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")

# (Swedish title, Swedish description, English title, English description). Every title is a command the engine knows.
COMMANDS = [
    ("meny", "Visa vad jag kan hjälpa till med", "menu", "Show what I can help with"),
    ("hjälp", "Så ställer du frågor, och alla kommandon", "help", "How to ask, and all commands"),
    ("börja om", "Avbryt och börja från början", "restart", "Cancel and start over"),
    ("tillbaka", "Ändra ditt förra svar", "back", "Change your previous answer"),
    ("varför", "Förklara frågan eller slutsatsen", "why", "Explain the question or the conclusion"),
    ("källor", "Källorna till det senaste svaret", "sources", "The sources of the last answer"),
    ("english", "Svara på engelska", "svenska", "Answer in Swedish"),
]

TEXTS = {
    "sv": {
        "name.full": "Regellotsen – regler för innovation i vård och omsorg",
        "description.short": "Vilka regler gäller i vård och omsorg – och vilken myndighet ska du fråga?",
        "description.full": (
            "Regellotsen hjälper dig att hitta vilka regler som gäller för det du gör i vård, omsorg och tandvård – "
            "till exempel medicintekniska produkter, upphandling, patientdata och dataskydd – och vilken myndighet du ska fråga. "
            "Ställ en fråga med egna ord eller låt Regellotsen guida dig med några frågor. Varje svar anger sina källor. "
            "I gruppchattar och kanaler svarar Regellotsen när du nämner den med @. "
            "Vägledning, inte juridisk rådgivning: ett bindande besked kan bara ansvarig myndighet eller domstol ge."
        ),
    },
    "en": {
        "name.full": "Regellotsen – rules for innovation in health and social care",
        "description.short": "Which rules apply in Swedish health and social care – and whom to ask?",
        "description.full": (
            "Regellotsen helps you find which rules apply to what you do in Swedish health care, social care and dental care – "
            "for example medical devices, public procurement, patient data and data protection – and which agency to ask. "
            "Ask in your own words, or let Regellotsen guide you with a few questions. Every answer names its sources. "
            "In group chats and channels, Regellotsen answers when you @mention it. "
            "Guidance, not legal advice: only the responsible agency or a court can give a binding answer."
        ),
    },
}


@dataclass(frozen=True)
class PackageOptions:
    app_id: str
    version: str = "1.0.0"
    short_name: str = "Regellotsen"
    developer_name: str = "Regellotsen"
    website_url: str = PLACEHOLDER_SITE
    privacy_url: str = PLACEHOLDER_SITE + "/privacy"
    terms_url: str = PLACEHOLDER_SITE + "/terms"
    accent_color: str = "#1F5F8B"

    def problems(self) -> list[str]:
        out = []
        if not _GUID.match(self.app_id):
            out.append("--app-id must be the bot's Microsoft App ID (a GUID)")
        if not _SEMVER.match(self.version):
            out.append("--version must look like 1.2.3")
        if not 0 < len(self.short_name) <= 30:
            out.append("--name must be 1–30 characters")
        if not 0 < len(self.developer_name) <= 32:
            out.append("--developer-name must be 1–32 characters")
        for flag, url in (("--website-url", self.website_url), ("--privacy-url", self.privacy_url), ("--terms-url", self.terms_url)):
            if not url.startswith("https://") or len(url) > 2048:
                out.append(f"{flag} must be an https:// URL")
        if not _HEX.match(self.accent_color):
            out.append("--accent-color must look like #1F5F8B")
        return out

    @property
    def placeholders(self) -> bool:
        return PLACEHOLDER_SITE in (self.website_url + self.privacy_url + self.terms_url)


def manifest(options: PackageOptions) -> dict[str, Any]:
    sv = TEXTS["sv"]
    app_id = options.app_id.lower()
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": options.version,
        "id": app_id,
        "localizationInfo": {
            "defaultLanguageTag": DEFAULT_LANGUAGE,
            "additionalLanguages": [{"languageTag": "en-US", "file": EN_FILE}],
        },
        "developer": {
            "name": options.developer_name,
            "websiteUrl": options.website_url,
            "privacyUrl": options.privacy_url,
            "termsOfUseUrl": options.terms_url,
        },
        "name": {"short": options.short_name, "full": sv["name.full"]},
        "description": {"short": sv["description.short"], "full": sv["description.full"]},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": options.accent_color.upper(),
        "bots": [
            {
                "botId": app_id,
                "scopes": SCOPES,
                "isNotificationOnly": False,
                "supportsFiles": False,
                "supportsCalling": False,
                "supportsVideo": False,
                "commandLists": [{"scopes": SCOPES, "commands": [{"title": c[0], "description": c[1]} for c in COMMANDS]}],
            }
        ],
        "validDomains": [],
    }


def english(options: PackageOptions) -> dict[str, Any]:
    """The en-US localization file: replaces the Swedish strings of the manifest for English clients."""
    en = TEXTS["en"]
    out: dict[str, Any] = {
        "$schema": LOCALIZATION_SCHEMA,
        "name.short": options.short_name,
        "name.full": en["name.full"],
        "description.short": en["description.short"],
        "description.full": en["description.full"],
    }
    for i, command in enumerate(COMMANDS):
        out[f"bots[0].commandLists[0].commands[{i}].title"] = command[2]
        out[f"bots[0].commandLists[0].commands[{i}].description"] = command[3]
    return out


# -- icons -------------------------------------------------------------------


def png(width: int, height: int, pixels: list[bytes]) -> bytes:
    """An 8-bit RGBA PNG from rows of width*4 bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + row for row in pixels)  # filter type 0 (None) on every row
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _compass(u: float, v: float) -> bool:
    """A compass rose in [-1, 1]²: a ring around a four-pointed star (a pilot's mark)."""
    r = math.hypot(u, v)
    if 0.70 <= r <= 0.86:
        return True
    au, av = abs(u), abs(v)
    return au / 0.22 + av / 0.62 <= 1 or au / 0.62 + av / 0.22 <= 1


def _raster(size: int, scale: float, samples: int, inside: Callable[[float, float], bool]) -> list[list[float]]:
    """Coverage 0..1 of each pixel, by supersampling (anti-aliased edges)."""
    grid = []
    for y in range(size):
        row = []
        for x in range(size):
            hits = 0
            for sy in range(samples):
                for sx in range(samples):
                    u = ((x + (sx + 0.5) / samples) / size * 2 - 1) / scale
                    v = ((y + (sy + 0.5) / samples) / size * 2 - 1) / scale
                    hits += inside(u, v)
            row.append(hits / (samples * samples))
        grid.append(row)
    return grid


@lru_cache(maxsize=8)
def color_icon(accent: str = "#1F5F8B", size: int = 192) -> bytes:
    """Full-colour icon: white compass on the accent colour, opaque."""
    r0, g0, b0 = (int(accent[i : i + 2], 16) for i in (1, 3, 5))
    rows = []
    for line in _raster(size, 0.62, 3, _compass):
        row = bytearray()
        for c in line:
            row += bytes((round(r0 + (255 - r0) * c), round(g0 + (255 - g0) * c), round(b0 + (255 - b0) * c), 255))
        rows.append(bytes(row))
    return png(size, size, rows)


@lru_cache(maxsize=2)
def outline_icon(size: int = 32) -> bytes:
    """Outline icon: white compass on a transparent background, as Teams requires."""
    rows = [b"".join(bytes((255, 255, 255, round(255 * c))) for c in line) for line in _raster(size, 0.94, 4, _compass)]
    return png(size, size, rows)


# -- the package ---------------------------------------------------------------


def _json(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def build_package(options: PackageOptions) -> bytes:
    """The app package zip, byte-identical for identical options."""
    problems = options.problems()
    if problems:
        raise ValueError("; ".join(problems))
    files = [
        ("manifest.json", _json(manifest(options))),
        (EN_FILE, _json(english(options))),
        ("color.png", color_icon(options.accent_color)),
        ("outline.png", outline_icon()),
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()
