"""The sandbox page in Teams mode, in headless Chromium: Baton's cards rendered by Microsoft's
Adaptive Cards renderer (the adaptivecards npm package); a practitioner raises by typing
`transfer new` and pressing Raise, the receiving manager presses Accept and submits the form;
the page passes axe-core at WCAG 2.2 AA."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from sandbox.server import Sandbox
from sandbox.teams.page import RENDERER
from tests.browser.conftest import axe, shot

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture
def teams_page(browser: Browser, sandbox: Sandbox) -> Iterator[Page]:
    """The Teams mode of the sandbox page, with browser errors turned into test failures."""
    if not RENDERER.exists():
        pytest.fail("the adaptivecards renderer is missing: run `make install`")
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.goto(sandbox.url + "/teams/")
    tab.wait_for_selector("#persona option", state="attached")
    yield tab
    context.close()
    assert not errors, f"the page reported errors: {errors}"


def test_raise_and_accept_in_teams_mode_with_microsofts_renderer(teams_page: Page, sandbox: Sandbox) -> None:
    page = teams_page
    page.select_option("#persona", "U0NPP1")
    page.fill("#text", "transfer new")
    page.click("#say button")
    page.wait_for_selector(".ac-adaptiveCard >> text=Raise a transfer")
    page.fill("input[aria-label='Case reference'], .ac-input.ac-textInput", "X123456")
    page.locator("select").nth(1).select_option("pdu-south")  # receiving team (after the persona picker)
    page.locator("select").nth(2).select_option("permanent")
    page.click(".ac-pushButton >> text=Raise")
    page.wait_for_selector(".ac-adaptiveCard >> text=Case transfer: X123456")
    shot(page, "teams-raised")
    page.select_option("#persona", "U0SMGR")
    page.wait_for_selector("#chat .ac-pushButton >> text=Accept")
    page.click("#chat .ac-pushButton >> text=Accept")
    page.wait_for_selector("#chat .ac-adaptiveCard >> text=Accept transfer")  # the form, for them only
    page.click("#chat .ac-pushButton >> text=Accept")
    page.wait_for_selector("#chat >> text=Accepted by")
    shot(page, "teams-accepted")
    with sandbox.teams.engine.connect() as c:  # type: ignore[union-attr]
        import sqlalchemy as sa

        assert c.execute(sa.text("SELECT state FROM transfer")).scalar() in ("accepted", "allocated")


def test_twenty_working_days_later_the_practitioner_gets_a_digest_card(teams_page: Page,
                                                                       sandbox: Sandbox) -> None:
    """The shared clock moves on to day 20; the sweep runs in the Teams world too: the
    practitioner's digest card says the transfer is due today, with no Record delay reason yet;
    the next working day (the breach) their transfer card, redrawn, offers it; the renderer draws
    the cards' markdown (bold case reference)."""
    from bot import services
    from sandbox.teams.page import TeamsSandbox

    teams = sandbox.teams
    assert isinstance(teams, TeamsSandbox)
    with teams.runtime.delivery.uow() as u:
        services.raise_transfer(u, teams.org, "U0NPP1", services.RaiseRequest(
            case_ref="X123456", receiving_team="pdu-south"), sandbox.clock())
    page = teams_page
    page.select_option("#persona", "U0NPP1")
    page.click("[data-advance='20']")
    page.wait_for_selector("#chat .ac-adaptiveCard >> text=Transfers that need your attention", timeout=15000)
    page.wait_for_selector("#chat .ac-adaptiveCard >> text=due today")  # day 20 itself
    assert page.locator("#chat .ac-pushButton >> text=Record delay reason").count() == 0
    page.click("[data-advance='next']")
    page.wait_for_selector("#chat .ac-pushButton >> text=Record delay reason", timeout=15000)
    assert page.locator("#chat strong >> text=X123456").count() >= 1
    shot(page, "teams-digest")


def test_the_teams_page_passes_axe_core_at_wcag_2_2_aa_on_its_cards_and_an_open_form(
        teams_page: Page) -> None:
    """As the Slack page does: the raise form card open, the practitioner's chat with the
    transfer's card and the channel post, the receiving manager's card with its buttons and the
    Accept form open in it: no WCAG 2.2 A or AA violation that axe-core finds."""
    page = teams_page
    found: dict[str, list[dict[str, Any]]] = {"empty": axe(page)}
    page.select_option("#persona", "U0NPP1")
    page.fill("#text", "transfer new")
    page.click("#say button")
    page.wait_for_selector(".ac-adaptiveCard >> text=Raise a transfer")
    found["raise form"] = axe(page)
    page.fill("input[aria-label='Case reference'], .ac-input.ac-textInput", "X123456")
    page.locator("select").nth(1).select_option("pdu-south")
    page.locator("select").nth(2).select_option("permanent")
    page.click(".ac-pushButton >> text=Raise")
    page.wait_for_selector("#channels .ac-adaptiveCard >> text=Case transfer: X123456")
    found["raised"] = axe(page)
    page.select_option("#persona", "U0SMGR")
    page.wait_for_selector("#chat .ac-pushButton >> text=Accept")
    found["receiving manager"] = axe(page)
    page.click("#chat .ac-pushButton >> text=Accept")
    page.wait_for_selector("#chat .ac-adaptiveCard >> text=Accept transfer")
    found["accept form"] = axe(page)
    page.select_option("#persona", "U0NPP1")
    page.click("[data-advance='20']")
    page.wait_for_selector("#chat .ac-adaptiveCard >> text=Transfers that need your attention",
                           timeout=15000)
    found["digest"] = axe(page)
    assert {k: v for k, v in found.items() if v} == {}, json.dumps(found, indent=1)
    page.evaluate("document.getElementById('chat').append(document.createElement('button'))")
    assert "button-name" in [v["id"] for v in axe(page)]  # the check does catch a violation


def test_the_home_card_lists_what_waits_and_its_button_takes_the_step(teams_page: Page,
                                                                      sandbox: Sandbox) -> None:
    """`transfer home` in the receiving manager's chat: the home card (drawn by Microsoft's
    renderer) lists the transfer waiting for them in Slack's words, with its Accept button;
    pressing it and submitting the form accepts the transfer."""
    from bot import services
    from sandbox.teams.page import TeamsSandbox

    teams = sandbox.teams
    assert isinstance(teams, TeamsSandbox)
    with teams.runtime.delivery.uow() as u:
        services.raise_transfer(u, teams.org, "U0NPP1", services.RaiseRequest(
            case_ref="X123456", receiving_team="pdu-south"), sandbox.clock())
    page = teams_page
    page.select_option("#persona", "U0SMGR")
    page.fill("#text", "transfer home")
    page.click("#say button")
    home = page.locator("#chat .ac-adaptiveCard", has_text="Waiting on you (1)").last
    home.wait_for()
    assert home.locator("text=North PDU → South PDU").count() >= 1
    home.locator(".ac-pushButton >> text=Accept").click()
    page.wait_for_selector("#chat .ac-adaptiveCard >> text=Accept transfer")
    page.locator("#chat .ac-adaptiveCard", has_text="Accept transfer").last.locator(
        ".ac-pushButton >> text=Accept").click()
    page.wait_for_selector("#chat >> text=Accepted by")
    with teams.engine.connect() as c:
        import sqlalchemy as sa

        assert c.execute(sa.text("SELECT state FROM transfer")).scalar() in ("accepted", "allocated")
