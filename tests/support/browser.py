"""Drive the distribution's Chromium (chromium + chromium-driver) with selenium, for the web chat's browser tests
and the README screenshots. Nothing is downloaded: the browser and the driver are the system's, Selenium Manager
is kept offline, and each browser gets a fresh profile in a temporary folder.

The web app runs in a thread with its own event loop, because selenium's calls block.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiohttp import web

CHROMIUM = next(
    (p for p in (os.environ.get("REGELLOTS_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser") if p and Path(p).exists()), None
)
CHROMEDRIVER = next((p for p in (os.environ.get("REGELLOTS_CHROMEDRIVER"), "/usr/bin/chromedriver") if p and Path(p).exists()), None)
ROOT = Path(__file__).resolve().parents[2]
#: axe-core's axe.min.js: $REGELLOTS_AXE, or where `make axe` (and .ci/run) unpack the npm package.
AXE = Path(os.environ.get("REGELLOTS_AXE") or ROOT / ".cache" / "axe-core" / "package" / "axe.min.js")
WAIT = 20  # seconds: a generous bound for explicit waits; a passing test never waits for it


def browser_available() -> bool:
    if CHROMIUM is None or CHROMEDRIVER is None:
        return False
    try:
        import selenium  # noqa: F401
    except ImportError:
        return False
    return True


class ServerThread:
    """An aiohttp app on 127.0.0.1 (a free port) in a thread of its own."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._run, name="web-server", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._stop())
        self._loop.close()

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/"

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def __enter__(self) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the web server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)


@contextmanager
def chromium(width: int = 1280, height: int = 900, lang: str = "sv-SE", downloads: Path | None = None) -> Iterator[Any]:
    """A headless Chromium with a fresh profile, the given window size and browser language."""
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not look for drivers online
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert CHROMIUM is not None and CHROMEDRIVER is not None
    profile = tempfile.mkdtemp(prefix="regellots-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        f"--lang={lang}",
    ):
        options.add_argument(arg)
    prefs: dict[str, Any] = {"intl.accept_languages": lang}
    if downloads is not None:
        prefs.update({"download.default_directory": str(downloads), "download.prompt_for_download": False})
    options.add_experimental_option("prefs", prefs)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        driver.set_page_load_timeout(WAIT)
        driver.set_script_timeout(WAIT)
        if downloads is not None:
            driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
