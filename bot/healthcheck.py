"""The container health check: `python -m bot.healthcheck [--path /healthz] [--port N]`.

Every long-running mode of the image serves `/healthz` on `$PORT` (default 3978): the Teams
endpoint, the Telegram webhook, and Telegram long polling (which serves health on that port
alongside). So one HEALTHCHECK fits every mode; it needs nothing but the standard library and
exits 0 when the endpoint answers 200, else 1 with one line saying why.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request

DEFAULT_PORT = 3978


def probe(url: str, timeout: float) -> str | None:
    """None when the URL answers 200, else why not."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - a loopback URL we build
            return None if response.status == 200 else f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except urllib.error.URLError as exc:  # connection refused, timed out, …: name the cause
        return type(exc.reason).__name__ if isinstance(exc.reason, BaseException) else str(exc.reason)
    except (OSError, ValueError) as exc:
        return type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.healthcheck", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=None, help="default $PORT, else 3978")
    parser.add_argument("--path", default="/healthz", help="/healthz (liveness, default) or /readyz (readiness)")
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args(argv)
    port = args.port or int(os.environ.get("PORT") or DEFAULT_PORT)
    url = f"http://127.0.0.1:{port}{args.path}"
    problem = probe(url, args.timeout)
    if problem is not None:
        print(f"unhealthy: {url}: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
