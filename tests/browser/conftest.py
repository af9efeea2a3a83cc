"""The console in a real browser: Debian's Chromium driven by Playwright for Python, against a real
kitchen (database, Kafka broker, `ck worker` processes, platform emulators) and the app served by
uvicorn on loopback. Never downloads a browser: `apt-get install chromium` (`.ci/run` does)."""

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from connectors.sandbox.server import ServerThread
from pipeline.config import get_settings
from pipeline.console.passwords import set_password
from pipeline.org.users import get_user
from pipeline.store.db import session_scope

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]
PASSWORD = "kitchen-browser-test"
PEOPLE = ("editor", "reviewer1", "reviewer2", "signer", "admin")
SCREENSHOTS = os.environ.get("CK_SCREENSHOT_DIR")  # set it to keep pictures of the pages (docs/screenshots)


@pytest.fixture(scope="module")
def chromium():
    """Module-scoped: Playwright's sync API keeps an event loop running in this thread, which must be
    gone before later tests call asyncio.run() (aiokafka, faust helpers)."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium (Debian's build; no browser is downloaded)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Console:
    url: str
    kitchen: object

    def shot(self, page, name: str, full_page: bool = True) -> None:
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=full_page)


@pytest.fixture
def console(kitchen):
    """The kitchen's app served on loopback, with console passwords for the newsroom's people."""
    from pipeline.api.app import create_app

    with session_scope() as session:
        for name in PEOPLE:
            set_password(session, None, get_user(session, name), PASSWORD)
    server = ServerThread(create_app(get_settings())).start()
    yield Console(server.url, kitchen)
    server.stop()


@pytest.fixture
def page(chromium, console):
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN",
                                   timezone_id="Asia/Shanghai", base_url=console.url)
    # upper bounds for waits on page state, generous for a loaded 2-core CI machine (never a sleep)
    context.set_default_timeout(30_000)
    context.set_default_navigation_timeout(60_000)
    expect.set_options(timeout=30_000)
    page = context.new_page()
    yield page
    context.close()
