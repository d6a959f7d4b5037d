"""Screenshots of the web chat for the README and docs/web.md: the start page, a flow question and a conclusion,
in Swedish and English, at phone and desktop widths, with the shipped knowledge, taken with the system's Chromium.

    .venv/bin/python -m tests.support.screenshots [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from adapters.web import create_app
from adapters.web_settings import WebSettings
from bot.conversation.engine import load_engine
from bot.state import MemoryStore
from tests.support.browser import ROOT, WAIT, ServerThread, browser_available, chromium

SIZES = {"phone": (390, 844), "desktop": (1100, 800)}
LOCALES = {"sv": "sv-SE", "en": "en-GB"}
# "Is it a medical device?": a physical product with a medical purpose, not in vitro, made to be sold, no AI.
FLOW = [
    "go:flow:mdr-check",
    "ans:mdr-check:product_type:physical",
    "ans:mdr-check:hw_purpose:medical",
    "ans:mdr-check:hw_ivd:ivd_no",
    "ans:mdr-check:maker:market",
    "ans:mdr-check:uses_ai:ai_no",
]
QUESTION_AFTER = 2  # the screenshot of a flow question: after this many presses


def take(out: Path) -> list[Path]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    settings = WebSettings(rate_per_minute=0, conversation_rate_per_minute=0)
    with ServerThread(create_app(load_engine(None, MemoryStore(), channel="web"), settings)) as server:
        for lang, locale in LOCALES.items():
            for size, (width, height) in SIZES.items():
                with chromium(width=max(width, 800), height=height, lang=locale) as driver:
                    driver.execute_cdp_cmd(
                        "Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": size == "phone"},
                    )

                    def turns(count: int) -> bool:
                        return len(driver.find_elements(By.CSS_SELECTOR, "#log > .turn")) >= count

                    driver.get(server.url)
                    WebDriverWait(driver, WAIT).until(lambda _d: turns(1))

                    def shot(name: str, lang: str = lang, size: str = size) -> None:
                        path = out / f"web-{lang}-{size}-{name}.png"
                        driver.save_screenshot(str(path))
                        written.append(path)

                    shot("start")
                    for n, value in enumerate(FLOW, start=1):
                        driver.find_element(By.CSS_SELECTOR, f'#log button.opt[data-value="{value}"]:not([disabled])').click()
                        WebDriverWait(driver, WAIT).until(lambda _d, n=n: turns(n + 1))
                        if n == QUESTION_AFTER:
                            shot("question")
                    shot("conclusion")
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    if not browser_available():
        raise SystemExit("needs chromium and chromium-driver (apt-get install chromium chromium-driver) and selenium")
    for path in take(args.out):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
