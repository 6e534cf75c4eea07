"""Cards people can live with, in headless Chromium on both sandbox pages: what happened and what
you must do by when, then the facts; three controls at most in sight, the rest in an overflow
menu whose every option works; the chosen date in words beside a date field (en-GB)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from sandbox.server import Sandbox
from tests.browser.conftest import axe, shot
from tests.browser.test_sandbox import RECEIVING_MANAGER, be, card, go_to, raise_transfer

with contextlib.suppress(ImportError):  # without it the browser fixture skips (in CI: fails)
    from playwright.sync_api import Page, expect

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


def test_the_card_says_what_to_do_and_keeps_the_rest_of_the_steps_in_its_overflow_menu(page: Page) -> None:
    """FAQ: "case transfers to be completed within 20 working days". The receiving manager's DM
    says what they must do and by when in one sentence, with no "day 1 is the next working day"
    explanation; Accept (primary) and Decline are in sight beside "…", whose Ask for work opens
    its form; its date field shows the date chosen in words."""
    raise_transfer(page)
    be(page, RECEIVING_MANAGER)
    go_to(page, "Messages with Baton")
    dm = card(page)
    expect(dm).to_contain_text("To do: Decide on X123456 (accept or decline) by Mon 21 Dec 2026.")
    expect(dm).to_contain_text("On track: Transfer to be completed by Mon 21 Dec 2026 (20 working days left)")
    assert "day 1 is the next working day" not in dm.inner_text()
    group = dm.get_by_role("group", name="Actions for X123456")
    assert group.get_by_role("button").all_inner_texts() == ["Accept", "Decline", "…"]
    expect(group.get_by_role("button", name="Ask for work")).to_have_count(0)  # in the menu, closed
    group.get_by_role("button", name="More actions for X123456").click()
    expect(group.get_by_role("button", name="Ask for work")).to_be_visible()
    assert axe(page) == []
    shot(page, "card-overflow")
    group.get_by_role("button", name="Ask for work").click()
    form = page.get_by_role("dialog", name="Ask for work")
    expect(form).to_be_visible()
    expect(form).to_contain_text("Date chosen: Mon 07 Dec 2026")  # ten working days on
    form.get_by_label("To be done by").fill("2027-01-20")
    expect(form).to_contain_text("Date chosen: Wed 20 Jan 2027")
    page.keyboard.press("Escape")
    expect(form).to_be_hidden()
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "More actions for X123456"


@pytest.fixture
def teams(browser: Browser, sandbox: Sandbox) -> Iterator[Page]:
    """The Teams page with a transfer raised for South PDU, as its receiving manager."""
    from bot import services
    from sandbox.teams.page import TeamsSandbox

    teams = sandbox.teams
    assert isinstance(teams, TeamsSandbox)
    with teams.runtime.delivery.uow() as u:
        services.raise_transfer(u, teams.org, "U0NPP1", services.RaiseRequest(
            case_ref="X123456", receiving_team="pdu-south"), sandbox.clock())
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(sandbox.url + "/teams/")
    tab.wait_for_selector("#persona option", state="attached")
    tab.select_option("#persona", RECEIVING_MANAGER)
    yield tab
    context.close()
    assert not errors, f"the page reported errors: {errors}"


def test_teams_card_keeps_secondary_steps_in_its_menu_and_each_works(teams: Page) -> None:
    """On Teams the card shows Accept and Decline (styled positive and destructive) and "More
    options": its Ask for work sends the same invoke as a button and opens the form, whose date
    field shows the date chosen in words; no person is shown by an e-mail."""
    page = teams
    page.wait_for_selector("#chat .ac-pushButton >> text=Accept")
    chat = page.locator("#chat")
    expect(chat).to_contain_text("To do: Decide on X123456 (accept or decline) by Mon 21 Dec 2026.")
    assert "@demo" not in chat.inner_text()
    expect(page.locator("#chat .ac-pushButton", has_text="Ask for work")).to_have_count(0)
    page.get_by_role("button", name="More options").click()
    page.get_by_role("menuitem", name="Ask for work").click()
    page.wait_for_selector("#chat .ac-adaptiveCard >> text=Ask for work")
    expect(chat).to_contain_text("Date chosen: Mon 07 Dec 2026")
    shot(page, "teams-overflow-form")
