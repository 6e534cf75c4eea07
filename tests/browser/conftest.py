"""The sandbox in-process on a free port, and headless Debian Chromium driven by Playwright.

Chromium comes from Debian's ``chromium`` package (no browser download works here): where it
or the ``playwright`` package is missing, CI fails and a laptop skips, loudly.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sandbox.server import Sandbox
from tests.conftest import NOW

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DOCS = Path(__file__).resolve().parents[2] / "docs"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh sandbox (stand-in, bot, page, SQLite) whose clock starts Monday 23 Nov 2026 10:00 UTC."""
    with Sandbox(port=0, start=NOW) as sb:
        yield sb


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (.venv/bin/pip install playwright)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the session; fails in CI and skips loudly elsewhere when unavailable."""
    missing = _missing()
    if missing:
        message = f"BROWSER TESTS NOT RUN: {missing}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI must run them.")
        warnings.warn(message, stacklevel=1)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, sandbox: Sandbox) -> Iterator[Page]:
    """A new tab on the sandbox page, laptop-sized, with browser errors turned into test failures."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.goto(sandbox.url + "/")
    tab.wait_for_selector("body[data-ready='true']")
    yield tab
    context.close()
    assert not errors, f"the page reported errors: {errors}"


def shot(page: Page, name: str) -> None:
    """With BATON_SCREENSHOTS=1, save a screenshot to docs/sandbox-<name>.png (the README shows
    them); otherwise take it in memory only, so a test run leaves the work tree as it was."""
    if os.environ.get("BATON_SCREENSHOTS") != "1":
        page.screenshot()
        return
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / f"sandbox-{name}.png"))


def axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.2 AA violations on the page as it is now (the Slack and Teams pages)."""
    if not AXE.exists():
        message = f"ACCESSIBILITY CHECK NOT RUN: {AXE} is missing (make install runs npm ci)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI must run it.")
        warnings.warn(message, stacklevel=1)
        pytest.skip(message)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Through DevTools, not a <script> tag: the page's Content-Security-Policy forbids inline
        # scripts, and the check must not loosen it.
        page.evaluate("() => {" + AXE.read_text(encoding="utf-8") + "\n}")
        assert page.evaluate("typeof window.axe") == "object"
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
                           ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, "
                           "help: v.help, nodes: v.nodes.map(n => n.target.join(' '))})))",
                           WCAG_22_AA)
    return list(result)
