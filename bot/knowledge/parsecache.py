"""Parsed knowledge files kept between starts, keyed by the file's exact text.

Parsing the YAML (libyaml, then our line-keeping constructor) is about half of a knowledge load, and a
restart or a reload reads the same files again. A successful parse is kept as JSON — never pickle: a cache
directory must not be a way to run code — and used again only for byte-identical text and the same cache
format. Anything wrong with the cache (missing, unreadable, foreign, stale) means a normal parse; a file
with problems is never kept, so every error and warning is still found by parsing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.knowledge.yamlfile import LineDict, LineList

#: Bump when the parsed form changes (the constructor in yamlfile, or this encoding).
FORMAT = 1


def _directory() -> Path | None:
    from bot.settings import load_settings

    try:
        return load_settings().cache_directory
    except Exception:  # noqa: BLE001 — a settings problem is reported where settings are used, not here
        return None


def _path(directory: Path, text: str) -> Path:
    digest = hashlib.sha256(f"{FORMAT}\0{text}".encode()).hexdigest()
    return directory / "knowledge" / f"{digest}.json"


def _encode(value: Any) -> Any:
    if isinstance(value, dict):
        return {"d": [[_encode(k), _encode(v)] for k, v in value.items()], "l": getattr(value, "line", 0), "k": [getattr(value, "key_lines", {}).get(k, 0) for k in value]}
    if isinstance(value, list):
        return {"s": [_encode(v) for v in value], "l": getattr(value, "line", 0), "i": list(getattr(value, "item_lines", []))}
    if isinstance(value, datetime):
        return {"T": value.isoformat()}
    if isinstance(value, date):
        return {"t": value.isoformat()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(type(value).__name__)  # a type this format does not keep: do not cache the file


def _decode(obj: dict[str, Any]) -> Any:
    if "d" in obj:
        d = LineDict((k, v) for k, v in obj["d"])
        d.line = obj["l"]
        d.key_lines = {k: line for (k, _), line in zip(obj["d"], obj["k"], strict=True)}
        return d
    if "s" in obj:
        seq = LineList(obj["s"])
        seq.line, seq.item_lines = obj["l"], obj["i"]
        return seq
    if "t" in obj:
        return date.fromisoformat(obj["t"])
    if "T" in obj:
        return datetime.fromisoformat(obj["T"])
    raise ValueError("not a cache entry")


def get(text: str) -> Any | None:
    """The parsed data of exactly this text, if it was kept; else None."""
    directory = _directory()
    if directory is None:
        return None
    try:
        raw = _path(directory, text).read_text(encoding="utf-8")
        return json.loads(raw, object_hook=_decode)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def put(text: str, data: Any) -> None:
    """Keep the parsed data of this text (written whole or not at all; failures are ignored)."""
    directory = _directory()
    if directory is None:
        return
    try:
        encoded = json.dumps(_encode(data), ensure_ascii=False, separators=(",", ":"))
        target = _path(directory, text)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(encoded)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except (OSError, TypeError, ValueError):
        return
