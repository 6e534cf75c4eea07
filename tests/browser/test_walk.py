"""Issue 22's walk, in headless Chromium on both sandbox pages, as a practitioner and a team
manager would: the case's one card holds its news as "N replies" under it, opened on demand; the
card's secondary steps sit in an overflow menu; at desktop width and at 375 px nothing scrolls
sideways and axe-core finds no WCAG 2.2 AA violation with threads and menus open.

One sandbox serves the module (each test its own case references), so the walk stays fast."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from bot import services
from sandbox.server import Sandbox
from sandbox.teams.page import RENDERER
from tests.browser.conftest import axe, shot
from tests.browser.test_sandbox import PRACTITIONER, RECEIVING_MANAGER, be, card, go_to, raise_transfer
from tests.conftest import NOW

with contextlib.suppress(ImportError):  # without it the browser fixture skips (in CI: fails)
    from playwright.sync_api import Page, expect

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser
DESKTOP, PHONE = {"width": 1280, "height": 860}, {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def world() -> Iterator[Sandbox]:
    """One sandbox for the module (stand-ins, bot, both pages); each test uses its own cases."""
    with Sandbox(port=0, start=NOW) as sb:
        yield sb


def _tab(browser: Browser, url: str) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")  # type: ignore[arg-type]
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.goto(url)
    yield tab
    context.close()
    assert not errors, f"the page reported errors: {errors}"


@pytest.fixture
def slack(browser: Browser, world: Sandbox) -> Iterator[Page]:
    """The Slack page of the module's sandbox, at desktop width."""
    for tab in _tab(browser, world.url + "/"):
        tab.wait_for_selector("body[data-ready='true']")
        yield tab


@pytest.fixture
def teams(browser: Browser, world: Sandbox) -> Iterator[Page]:
    """The Teams page of the module's sandbox, at desktop width."""
    if not RENDERER.exists():
        pytest.fail("the adaptivecards renderer is missing: run `make install`")
    for tab in _tab(browser, world.url + "/teams/"):
        tab.wait_for_selector("#persona option", state="attached")
        yield tab


def _sideways(page: Page) -> int:
    """How far the page scrolls sideways (0 when it reflows)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def _checked(page: Page, found: dict[str, list[dict[str, Any]]], widths: dict[str, int], name: str) -> None:
    found[name], widths[name] = axe(page), _sideways(page)


def test_slack_news_of_a_case_is_a_reply_under_its_one_card_and_the_menu_passes_axe_at_375_px(
        slack: Page) -> None:
    """The practitioner raises; the receiving manager accepts from the card's primary button: the
    practitioner still holds one card of the case, now saying it is accepted, with "1 reply"
    under it that opens to the news; the manager's card of another case opens its "…" menu. At
    desktop width and at 375 px, with the thread and the menu open: no sideways scroll, no axe
    violation."""
    page = slack
    raise_transfer(page, "X200001")
    raise_transfer(page, "X200002")
    be(page, RECEIVING_MANAGER)
    go_to(page, "Messages with Baton")
    card(page, "X200001").get_by_role("button", name="Accept", exact=True).click()
    form = page.get_by_role("dialog", name="Accept transfer")
    form.get_by_role("button", name="Accept", exact=True).click()
    expect(form).to_be_hidden()
    expect(card(page, "X200001")).to_contain_text("Accepted by")  # their own card, redrawn
    expect(card(page, "X200001")).to_have_count(1)

    be(page, PRACTITIONER)
    go_to(page, "Messages with Baton")
    mine = card(page, "X200001")
    expect(mine).to_have_count(1)  # one card of the case, redrawn in place
    expect(mine).to_contain_text("Accepted by")
    thread = mine.locator("details.thread")
    expect(thread.locator("summary")).to_have_text("1 reply")
    expect(thread.locator(".reply")).to_be_hidden()  # opened on demand
    thread.locator("summary").click()
    expect(thread.locator(".reply")).to_contain_text("X200001: South PDU accepted this transfer.")
    found: dict[str, list[dict[str, Any]]] = {}
    widths: dict[str, int] = {}
    _checked(page, found, widths, "thread")
    mine.scroll_into_view_if_needed()
    shot(page, "slack-thread")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    expect(thread.locator(".reply")).to_be_visible()
    _checked(page, found, widths, "thread 375")

    be(page, RECEIVING_MANAGER)
    go_to(page, "Messages with Baton")
    group = page.get_by_role("group", name="Actions for X200002")
    group.get_by_role("button", name="More actions for X200002").click()
    expect(group.get_by_role("button", name="Ask for work")).to_be_visible()
    _checked(page, found, widths, "overflow 375")
    assert widths == {"thread": 0, "thread 375": 0, "overflow 375": 0}
    assert {k: v for k, v in found.items() if v} == {}, json.dumps(found, indent=1)


def test_teams_news_of_a_case_is_a_reply_to_its_one_card_and_the_menu_passes_axe_at_375_px(
        teams: Page, world: Sandbox) -> None:
    """On Teams the same: after the accept, the practitioner's chat holds one card of the case
    with "1 reply" under it (Baton's reply to the card's activity); the receiving manager's card
    keeps Ask for work in "More options"; the card's deadline marker is green ("● On track").
    With the thread and the menu open, at desktop width and at 375 px: no sideways scroll, no
    axe violation."""
    from sandbox.teams.page import TeamsSandbox

    box = world.teams
    assert isinstance(box, TeamsSandbox)
    with box.runtime.delivery.uow() as u:
        for ref in ("X300001", "X300002"):
            services.raise_transfer(u, box.org, PRACTITIONER, services.RaiseRequest(
                case_ref=ref, receiving_team="pdu-south"), world.clock())
    page = teams
    page.select_option("#persona", RECEIVING_MANAGER)
    group = page.get_by_role("group", name="Actions for X300001").first
    group.locator(".ac-pushButton", has_text="Accept").first.click()
    form = page.locator("#chat .ac-adaptiveCard", has_text="Accept transfer").last
    form.wait_for()
    form.locator(".ac-pushButton", has_text="Accept").click()
    expect(page.locator("#chat .message", has_text="Case transfer: X300001")).to_contain_text("Accepted by")

    page.select_option("#persona", PRACTITIONER)
    mine = page.locator("#chat .message").filter(has_text="Case transfer: X300001")
    expect(mine).to_have_count(1)
    marker = mine.get_by_text("\u25cf On track")  # Slack's green dot, in Teams' Good colour
    expect(marker).to_be_visible()
    expect(marker).to_have_css("color", "rgb(14, 112, 14)")  # waits out a redraw in progress
    thread = mine.locator("details.thread")
    expect(thread.locator("summary")).to_have_text("1 reply")
    thread.locator("summary").click()
    expect(thread.locator(".reply")).to_contain_text("South PDU accepted this transfer.")
    found: dict[str, list[dict[str, Any]]] = {}
    widths: dict[str, int] = {}
    _checked(page, found, widths, "thread")
    mine.scroll_into_view_if_needed()
    shot(page, "teams-thread")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    _checked(page, found, widths, "thread 375")

    page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
    page.select_option("#persona", RECEIVING_MANAGER)
    other = page.locator("#chat .message").filter(has_text="Case transfer: X300002")
    other.get_by_role("button", name="More options").click()
    expect(page.get_by_role("menuitem", name="Ask for work")).to_be_visible()
    other.scroll_into_view_if_needed()
    shot(page, "teams-overflow-menu")
    _checked(page, found, widths, "overflow")
    page.keyboard.press("Escape")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    other.get_by_role("button", name="More options").click()
    expect(page.get_by_role("menuitem", name="Ask for work")).to_be_visible()
    _checked(page, found, widths, "overflow 375")
    assert widths == {"thread": 0, "thread 375": 0, "overflow": 0, "overflow 375": 0}
    assert {k: v for k, v in found.items() if v} == {}, json.dumps(found, indent=1)
