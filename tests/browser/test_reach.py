"""Reach (issue 22), in headless Chromium: both sandbox pages reflow at 375 px (WCAG 1.4.10)
and pass axe-core at WCAG 2.2 AA there; each card's buttons are a group named for its case
(WCAG 2.4.6); a form closed with Esc gives focus back to the button that opened it; the accept
form's worker picker offers the receiving team only; the Teams page shows the senior
management channel with the escalation."""

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
from tests.browser.test_sandbox import RECEIVING_MANAGER, be, card, go_to, raise_transfer

with contextlib.suppress(ImportError):  # without it the browser fixture skips (in CI: fails)
    from playwright.sync_api import Page, expect

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


def _sideways(page: Page) -> int:
    """How far the page scrolls sideways (0 when it reflows)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


@pytest.fixture
def phone(browser: Browser, sandbox: Sandbox) -> Iterator[Page]:
    """The Slack page on a 375 px wide phone, with browser errors turned into test failures."""
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="en-GB")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(sandbox.url + "/")
    tab.wait_for_selector("body[data-ready='true']")
    yield tab
    context.close()
    assert not errors, f"the page reported errors: {errors}"


def test_the_slack_page_reflows_at_375_px_and_passes_axe_there(phone: Page) -> None:
    """A phone reads the DM, the App Home and the raise form without scrolling sideways, and
    axe-core finds no WCAG 2.2 A or AA violation at that width."""
    page = phone
    raise_transfer(page)
    found: dict[str, list[dict[str, Any]]] = {}
    widths: dict[str, int] = {}
    be(page, RECEIVING_MANAGER)
    go_to(page, "Messages with Baton")
    expect(card(page)).to_be_visible()
    widths["dm"], found["dm"] = _sideways(page), axe(page)
    shot(page, "375-slack-dm")
    go_to(page, "Home")
    expect(page.locator("#conversation")).to_contain_text("Waiting on you (1)")
    widths["home"], found["home"] = _sideways(page), axe(page)
    go_to(page, "Messages with Baton")
    card(page).get_by_role("button", name="Accept", exact=True).click()
    form = page.get_by_role("dialog", name="Accept transfer")
    expect(form).to_be_visible()
    widths["accept form"], found["accept form"] = _sideways(page), axe(page)
    assert widths == {"dm": 0, "home": 0, "accept form": 0}
    assert {k: v for k, v in found.items() if v} == {}, json.dumps(found, indent=1)


def test_card_buttons_are_named_for_their_case_and_esc_returns_to_the_button(phone: Page) -> None:
    """Each card's buttons are a group "Actions for X123456"; the accept form's worker picker
    offers South PDU's people only; Esc closes it and focus is back on Accept."""
    page = phone
    raise_transfer(page)
    raise_transfer(page, "X654321")
    be(page, RECEIVING_MANAGER)
    go_to(page, "Messages with Baton")
    group = page.get_by_role("group", name="Actions for X654321")
    expect(group).to_have_count(1)
    expect(page.get_by_role("group", name="Actions for X123456")).to_have_count(1)
    accept = group.get_by_role("button", name="Accept", exact=True)
    accept.click()
    form = page.get_by_role("dialog", name="Accept transfer")
    expect(form).to_be_visible()
    options = form.get_by_label("Named worker (optional)").locator("option")
    assert [o for o in options.all_inner_texts() if "@" in o] == [
        "u0spp1@demo.example.gov.uk — South PDU", "u0smgr@demo.example.gov.uk — South PDU manager"]
    page.keyboard.press("Escape")
    expect(form).to_be_hidden()
    focused = page.evaluate("[document.activeElement.textContent, "
                            "document.activeElement.closest('[role=group]').getAttribute('aria-label')]")
    assert focused == ["Accept", "Actions for X654321"]


@pytest.fixture
def teams_phone(browser: Browser, sandbox: Sandbox) -> Iterator[Page]:
    """The Teams page on a 375 px wide phone."""
    if not RENDERER.exists():
        pytest.fail("the adaptivecards renderer is missing: run `make install`")
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="en-GB")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(sandbox.url + "/teams/")
    tab.wait_for_selector("#persona option", state="attached")
    yield tab
    context.close()
    assert not errors, f"the page reported errors: {errors}"


def test_the_teams_page_reflows_names_its_button_groups_and_shows_the_senior_channel(
        teams_phone: Page, sandbox: Sandbox) -> None:
    """On a phone the Teams page fits with a transfer card and its form open, axe-core finds
    nothing; the card's buttons are "Actions for X123456"; 21 working days on, the escalation
    is in the Senior management team channel, said in plain words on the clock line."""
    from sandbox.teams.page import TeamsSandbox

    teams = sandbox.teams
    assert isinstance(teams, TeamsSandbox)
    with teams.runtime.delivery.uow() as u:
        services.raise_transfer(u, teams.org, "U0NPP1", services.RaiseRequest(
            case_ref="X123456", receiving_team="pdu-south"), sandbox.clock())
    page = teams_phone
    page.select_option("#persona", RECEIVING_MANAGER)
    group = page.get_by_role("group", name="Actions for X123456").first
    expect(group).to_be_visible()
    found: dict[str, list[dict[str, Any]]] = {"card": axe(page)}
    widths = {"card": _sideways(page)}
    group.locator(".ac-pushButton", has_text="Accept").first.click()
    page.wait_for_selector("#chat .ac-adaptiveCard >> text=Accept transfer")
    found["accept form"], widths["accept form"] = axe(page), _sideways(page)
    shot(page, "375-teams-accept-form")
    assert widths == {"card": 0, "accept form": 0}
    assert {k: v for k, v in found.items() if v} == {}, json.dumps(found, indent=1)

    page.click("[data-advance='20']")  # both worlds sweep, charts drawn: slow on a busy machine
    expect(page.locator("#clock-now")).to_contain_text("Mon 21 Dec 2026", timeout=30_000)
    digest = page.locator("#channels .message", has_text="Senior management team").filter(
        has_text="Transfers 14 Dec to 20 Dec 2026")  # Monday: last week's digest
    expect(digest.first).to_be_visible(timeout=15_000)
    expect(page.locator("#channels .message", has_text="Head of service").filter(
        has_text="Transfers 14 Dec to 20 Dec 2026").first).to_be_visible()
    page.click("[data-advance='next']")
    expect(page.locator("#sweep-status")).to_contain_text("to a senior manager", timeout=30_000)
    smt = page.locator("#channels .message", has_text="Senior management team").filter(has_text="X123456")
    expect(smt.first).to_be_visible()
    smt.first.scroll_into_view_if_needed()
    shot(page, "teams-smt-channel")


def test_choosing_the_kind_redraws_the_checklist_and_keeps_what_was_typed(phone: Page) -> None:
    """Bury's manager types the case reference, then chooses "Transfer between teams": the form
    is redrawn without the CYPiC line, the reference still there, focus still on the kind."""
    page = phone
    be(page, "U0BAMGR")
    go_to(page, "Messages with Baton")
    box = page.get_by_label("Message or command")
    box.fill("/transfer new")
    box.press("Enter")
    form = page.get_by_role("dialog", name="Raise a transfer")
    expect(form).to_contain_text("transfers to CYPiC")
    form.get_by_label("Case reference", exact=True).fill("1234567")
    form.get_by_label("Kind of transfer").focus()  # as a person choosing from it has it
    form.get_by_label("Kind of transfer").select_option("permanent")
    expect(form).not_to_contain_text("transfers to CYPiC")
    expect(form.get_by_label("Case reference", exact=True)).to_have_value("1234567")
    expect(form.get_by_label("Assessments completed")).to_be_visible()
    assert page.evaluate("document.activeElement.closest('.field').dataset.blockId") == "kind"
    assert _sideways(page) == 0


def test_teams_help_shows_the_readers_own_lines_and_more_opens_in_place(teams_phone: Page) -> None:
    """`transfer help` on the Teams page: who Baton takes you to be and your own commands; More
    opens the rest in the card; on a phone, nothing scrolls sideways and axe-core finds nothing."""
    page = teams_phone
    page.select_option("#persona", "U0NPP1")
    page.fill("#text", "transfer help")
    page.click("#say button")
    help_card = page.locator("#chat .ac-adaptiveCard",
                             has_text="For you: Probation Practitioner in North PDU").last
    expect(help_card).to_be_visible()
    expect(help_card).to_contain_text("transfer record-delay CASE")
    expect(help_card).not_to_contain_text("transfer agenda")
    help_card.locator(".ac-pushButton", has_text="More").click()
    expect(help_card).to_contain_text("transfer agenda: cases ready for the transfer meeting")
    shot(page, "375-teams-help")
    assert _sideways(page) == 0
    assert axe(page) == []
