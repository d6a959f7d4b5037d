"""The web chat in a real browser: the distribution's Chromium, driven by selenium, against the real server on
127.0.0.1 with the shipped knowledge. Every wait is an explicit wait for an element or a state, bounded by
web_browser.WAIT; nothing sleeps.

Skipped only on a developer machine without chromium and chromium-driver (apt-get install chromium
chromium-driver); under CI (CI set) a missing browser or axe-core fails instead, so the tests cannot silently vanish.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.web import create_app
from adapters.web_settings import WebSettings
from bot.conversation.engine import Engine
from bot.knowledge import Knowledge
from bot.state import MemoryStore

from .support.browser import AXE, WAIT, ServerThread, browser_available, chromium

if not browser_available():
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the browser tests: .ci/run installs chromium and chromium-driver")
    pytest.skip("no chromium and chromium-driver here (apt-get install chromium chromium-driver)", allow_module_level=True)

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

MDR_FLOW_SV = [
    "▶ Är det en medicinteknisk produkt?",
    "Fysisk produkt",
    "Ja, medicinskt syfte",
    "Nej",
    "Ett företag som ska sälja eller tillhandahålla den",
    "Nej",  # no AI
]
MDR_VERDICT_SV = "Produkten är troligen en medicinteknisk produkt enligt MDR"


@pytest.fixture(scope="module")
def server(shipped: Knowledge) -> Iterator[str]:
    # No rate limit here: every test talks from 127.0.0.1 (the limit itself is tested in test_web_api.py).
    settings = WebSettings(rate_per_minute=0, conversation_rate_per_minute=0, frame_ancestors=("'self'",))
    with ServerThread(create_app(Engine(shipped, MemoryStore(), channel="web"), settings)) as running:
        yield running.url


@pytest.fixture
def browser() -> Callable[..., Any]:
    """chromium(...) as a context manager factory; the test picks size and language."""
    return chromium


# -- helpers -------------------------------------------------------------------


def wait(driver: WebDriver, condition: Callable[[WebDriver], Any], what: str) -> Any:
    return WebDriverWait(driver, WAIT).until(condition, message=f"waited {WAIT} s for {what}")


def turns(driver: WebDriver) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, "#log > .turn")


def open_chat(driver: WebDriver, url: str) -> WebElement:
    driver.get(url)
    return wait(driver, lambda d: (turns(d) or [None])[-1], "the greeting")


def wait_turn(driver: WebDriver, count: int) -> WebElement:
    """The newest reply once there are `count` replies."""
    return wait(driver, lambda d: len(turns(d)) >= count and turns(d)[count - 1], f"reply number {count}")


def live_options(driver: WebDriver) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, "#log button.opt:not([disabled])")


def click(driver: WebDriver, label: str) -> WebElement:
    before = len(turns(driver))
    button = next((b for b in live_options(driver) if b.text == label), None)
    assert button is not None, f"no button {label!r} among {[b.text for b in live_options(driver)]}"
    button.click()
    return wait_turn(driver, before + 1)


def kind(turn: WebElement) -> str:
    return turn.get_attribute("data-kind") or ""


def active(driver: WebDriver) -> WebElement:
    return driver.switch_to.active_element


def tab_to(driver: WebDriver, label: str, limit: int = 80) -> WebElement:
    """Press Tab until the focus is on the control with this text (as a keyboard user would)."""
    for _ in range(limit):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        element = active(driver)
        if element.text == label:
            return element
    raise AssertionError(f"{label!r} was not reached with {limit} presses of Tab")


def phone(driver: WebDriver, width: int = 390, height: int = 844) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})


def axe_violations(driver: WebDriver) -> list[dict[str, Any]]:
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    return driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ['violations']})
          .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                                  nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))))
          .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
        """
    )


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def severe_console(driver: WebDriver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


# -- tests -----------------------------------------------------------------------


def test_a_whole_flow_to_its_conclusion_by_clicking(server: str, browser: Callable[..., Any]) -> None:
    with browser(lang="sv-SE") as driver:
        greeting = open_chat(driver, server)
        assert kind(greeting) == "greeting" and greeting.get_attribute("lang") == "sv"
        turn = greeting
        for label in MDR_FLOW_SV:
            turn = click(driver, label)
            # The pressed choice shows as the user's message, and older buttons stop acting.
            assert driver.find_elements(By.CSS_SELECTOR, "#log .msg.user")[-1].text.endswith(label)
        assert kind(turn) == "conclusion"
        assert MDR_VERDICT_SV in turn.text
        # Verdict first: what applies and whom to contact as a list of facts, the rest behind buttons.
        facts = [
            (dt.text, dd.text)
            for dt, dd in zip(
                turn.find_elements(By.CSS_SELECTOR, "dl.facts dt"), turn.find_elements(By.CSS_SELECTOR, "dl.facts dd"), strict=True
            )
        ]
        assert ("Gäller", "MDR, CE-märkning") in facts and ("Kontakta först", "Läkemedelsverket") in facts
        # Only the newest reply's buttons act; the earlier ones are disabled, not gone.
        assert all(b.get_attribute("disabled") for b in greeting.find_elements(By.CSS_SELECTOR, "button.opt"))
        sources = click(driver, "Källor")
        links = sources.find_elements(By.CSS_SELECTOR, "ul.sources a")
        assert links, "the sources come as links"
        assert all(a.get_attribute("href").startswith("https://") and a.get_attribute("target") == "_blank" for a in links)
        assert severe_console(driver) == []


def test_a_typed_question_gets_an_answer_with_sources(server: str, browser: Callable[..., Any]) -> None:
    with browser(lang="sv-SE") as driver:
        open_chat(driver, server)
        field = driver.find_element(By.ID, "q")
        field.send_keys("får vi prata med leverantörer före upphandlingen?", Keys.ENTER)
        answer = wait_turn(driver, 2)
        assert kind(answer) == "answer"
        assert answer.find_element(By.CSS_SELECTOR, "h3.title").text == "Får vi prata med leverantörer före upphandlingen?"
        assert "Upphandlingsmyndigheten" in answer.text
        sources = answer.find_elements(By.CSS_SELECTOR, "ul.sources a")
        assert len(sources) >= 2 and all(a.get_attribute("href").startswith("https://") for a in sources)
        # The link says it opens a new window, to screen readers too.
        assert "(öppnas i nytt fönster)" in sources[0].get_attribute("textContent")
        assert driver.find_elements(By.CSS_SELECTOR, "#log .msg.user")[-1].text.endswith(
            "får vi prata med leverantörer före upphandlingen?"
        )
        # A typed question keeps the focus in the field, and the reply is inside the live region.
        assert active(driver) == field and field.get_attribute("value") == ""
        log = driver.find_element(By.ID, "log")
        assert log.get_attribute("role") == "log" and log.get_attribute("aria-live") == "polite"
        assert answer.find_element(By.XPATH, "..") == log


def test_the_page_follows_the_browser_language_until_the_user_chooses(server: str, browser: Callable[..., Any]) -> None:
    with browser(lang="en-GB") as driver:
        greeting = open_chat(driver, server)
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
        assert driver.find_element(By.CSS_SELECTOR, "label[for=q]").text == "Your question"
        assert greeting.get_attribute("lang") == "en"
        assert "Hi! I'm Regellotsen." in greeting.text

    with browser(lang="sv-SE") as driver:
        greeting = open_chat(driver, server)
        html = driver.find_element(By.TAG_NAME, "html")
        assert html.get_attribute("lang") == "sv" and "Hej! Jag är Regellotsen." in greeting.text
        switch = driver.find_element(By.ID, "lang")
        assert switch.text == "In English" and switch.get_attribute("lang") == "en"
        switch.click()
        reply = wait_turn(driver, 2)
        assert html.get_attribute("lang") == "en"
        assert reply.get_attribute("lang") == "en" and "OK, I'll answer in English." in reply.text
        assert driver.find_element(By.CSS_SELECTOR, "label[for=q]").text == "Your question"
        assert driver.find_element(By.ID, "send").text == "Send"
        assert switch.text == "På svenska" and switch.get_attribute("lang") == "sv"
        assert driver.find_element(By.ID, "a11y").get_attribute("href").endswith("/accessibility")
        # The choice outlives a reload of the tab, although the browser still prefers Swedish.
        driver.refresh()
        greeting = wait_turn(driver, 1)
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
        assert "Hi! I'm Regellotsen." in greeting.text
        # And back.
        driver.find_element(By.ID, "lang").click()
        reply = wait_turn(driver, 2)
        assert "Okej, jag svarar på svenska." in reply.text and driver.find_element(By.ID, "send").text == "Skicka"


def test_keyboard_only_the_same_flow(server: str, browser: Callable[..., Any]) -> None:
    with browser(lang="sv-SE") as driver:
        open_chat(driver, server)
        # The first Tab reaches the skip link, which takes the focus to the question field.
        ActionChains(driver).send_keys(Keys.TAB).perform()
        skip = active(driver)
        assert skip.get_attribute("class") == "skip" and skip.text == "Hoppa till frågefältet"
        assert skip.rect["y"] >= 0, "the skip link is visible when focused"
        skip.send_keys(Keys.ENTER)
        wait(driver, lambda d: active(d).get_attribute("id") == "q", "the focus in the question field")
        driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")

        turn = None
        for number, label in enumerate(MDR_FLOW_SV, start=2):
            button = tab_to(driver, label)
            style = driver.execute_script(
                "const s = getComputedStyle(arguments[0]); return [s.outlineStyle, parseFloat(s.outlineWidth)]", button
            )
            assert style[0] != "none" and style[1] >= 2, f"no visible focus on {label!r}: {style}"
            ActionChains(driver).send_keys(Keys.ENTER).perform()
            turn = wait_turn(driver, number)
            # The focus moves to the new reply, so reading and Tab go on from there.
            wait(driver, lambda d, t=turn: active(d) == t, "the focus on the new reply")
        assert turn is not None and kind(turn) == "conclusion" and MDR_VERDICT_SV in turn.text
        # From the conclusion, Tab goes on through its buttons: the sources, and from them Tab reaches the links.
        tab_to(driver, "Källor").send_keys(Keys.ENTER)
        sources = wait_turn(driver, len(MDR_FLOW_SV) + 2)
        wait(driver, lambda d: active(d) == sources, "the focus on the sources")
        ActionChains(driver).send_keys(Keys.TAB).perform()
        assert active(driver).tag_name == "a" and active(driver).get_attribute("href").startswith("https://")


def test_the_checklist_downloads_as_a_file(server: str, browser: Callable[..., Any], tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with browser(lang="sv-SE", downloads=downloads) as driver:
        open_chat(driver, server)
        for label in MDR_FLOW_SV:
            click(driver, label)
        saved = click(driver, "Spara checklista")
        links = saved.find_elements(By.CSS_SELECTOR, "a.download")
        assert [a.get_attribute("download").rsplit(".", 1)[1] for a in links] == ["md", "html"]
        html = links[1]
        assert html.text == "Ladda ner: Checklista – Är det en medicinteknisk produkt? (HTML)"
        name = html.get_attribute("download")
        html.click()
        path = downloads / name
        wait(driver, lambda d: path.is_file() and not list(downloads.glob("*.crdownload")), f"the download {name}")
        page = path.read_text(encoding="utf-8")
        assert page.lstrip().lower().startswith("<!doctype html") and MDR_VERDICT_SV in page
        # Keyboard too: Enter on the Markdown link saves the other file.
        links[0].send_keys(Keys.ENTER)
        markdown = downloads / links[0].get_attribute("download")
        wait(driver, lambda d: markdown.is_file() and not list(downloads.glob("*.crdownload")), "the Markdown download")
        assert MDR_VERDICT_SV in markdown.read_text(encoding="utf-8")


def test_no_serious_accessibility_violations(server: str, browser: Callable[..., Any]) -> None:
    # Not skipped: where Chromium is, the scan runs (`make test` fetches axe-core; it needs npm).
    assert AXE.is_file(), f"axe-core is missing at {AXE}: run `make axe` (needs npm)"
    found: dict[str, list[dict[str, Any]]] = {}
    with browser(lang="sv-SE") as driver:
        open_chat(driver, server)
        found["start page (sv, desktop)"] = axe_violations(driver)
        click(driver, MDR_FLOW_SV[0])
        click(driver, MDR_FLOW_SV[1])
        found["flow question (sv)"] = axe_violations(driver)
        for label in MDR_FLOW_SV[2:]:
            click(driver, label)
        found["conclusion (sv)"] = axe_violations(driver)
        click(driver, "Spara checklista")
        found["checklist download (sv)"] = axe_violations(driver)
        driver.find_element(By.ID, "q").send_keys("får vi prata med leverantörer före upphandlingen?", Keys.ENTER)
        wait_turn(driver, len(MDR_FLOW_SV) + 3)
        found["typed answer (sv)"] = axe_violations(driver)
        driver.get(server + "tillganglighet")
        found["accessibility statement (sv)"] = axe_violations(driver)
    with browser(lang="en-GB") as driver:
        phone(driver)
        open_chat(driver, server)
        found["start page (en, phone)"] = axe_violations(driver)
        driver.find_element(By.ID, "lang").click()
        wait_turn(driver, 2)
        found["after switching to Swedish (phone)"] = axe_violations(driver)
        driver.get(server + "accessibility")
        found["accessibility statement (en)"] = axe_violations(driver)
    problems = {page: serious(v) for page, v in found.items() if serious(v)}
    assert problems == {}, problems


def test_small_first_load_from_this_server_only(server: str, browser: Callable[..., Any]) -> None:
    with browser(lang="sv-SE") as driver:
        open_chat(driver, server)
        entries = driver.execute_script(
            "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
            ".map(e => [e.name, e.transferSize])"
        )
        assert all(name.startswith(server) for name, _ in entries), entries
        total = sum(size for _, size in entries)
        assert 0 < total <= 100_000, entries
        assert severe_console(driver) == [], "no CSP or script errors"


def test_reflows_at_320_css_pixels_and_honours_reduced_motion(server: str, browser: Callable[..., Any]) -> None:
    with browser(lang="sv-SE") as driver:
        # 320 CSS pixels is a 1280-pixel window at 400 % zoom (WCAG 1.4.10); 200 % is wider still.
        phone(driver, 320, 640)
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
        open_chat(driver, server)
        for label in MDR_FLOW_SV[:3]:
            click(driver, label)
        widths = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"horizontal scrolling at 320 px: {widths}"
        assert driver.execute_script("return matchMedia('(prefers-reduced-motion: reduce)').matches")
        behaviour = driver.execute_script("return getComputedStyle(document.documentElement).scrollBehavior")
        assert behaviour == "auto"


def test_over_the_rate_limit_the_page_says_so_and_the_buttons_come_back(shipped: Knowledge, browser: Callable[..., Any]) -> None:
    # One message per conversation, then one every 100 seconds: the greeting passes, the first press does not.
    settings = WebSettings(rate_per_minute=0, conversation_rate_per_minute=0.6)
    with ServerThread(create_app(Engine(shipped, MemoryStore(), channel="web"), settings)) as limited, browser(lang="sv-SE") as driver:
        open_chat(driver, limited.url)
        button = next(b for b in live_options(driver) if b.text == MDR_FLOW_SV[0])
        button.click()
        error = wait_turn(driver, 2)
        assert kind(error) == "error" and "Vänta en halv minut" in error.text
        assert [b.text for b in live_options(driver)][:1] == ["▶ Min innovation – vilka regler gäller?"], "the buttons act again"
        assert active(driver) == button
