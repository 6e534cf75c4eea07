"""The sandbox page in headless Chromium: a person raises, accepts, declines and watches the clock.

Every click goes from the page to the sandbox, which signs Slack's request and sends it to the
real bot over HTTP; what the bot sends back lands in the Web API stand-in and the page shows it.
"""

from __future__ import annotations

import contextlib

import pytest

from sandbox.server import Sandbox
from tests.browser.conftest import shot

with contextlib.suppress(ImportError):  # without it the browser fixture skips (in CI: fails), saying why
    from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

PRACTITIONER, RECEIVING_MANAGER, SMT = "U0NPP1", "U0SMGR", "U0SMT1"


def be(page: Page, user: str) -> None:
    """Choose who you are in the persona dropdown."""
    page.get_by_label("You are").select_option(user)


def go_to(page: Page, conversation: str) -> None:
    """Open a conversation (or Home) from the sidebar."""
    page.get_by_role("navigation", name="Conversations").get_by_role("button", name=conversation).click()


def type_command(page: Page, text: str) -> None:
    """Type a slash command in the composer and press Enter."""
    box = page.get_by_label("Message or command")
    box.fill(text)
    box.press("Enter")


def fill_raise_form(page: Page, case_ref: str = "X123456") -> Locator:
    """As North's practitioner, open /transfer new in the DM and fill in a permanent transfer to South."""
    be(page, PRACTITIONER)
    go_to(page, "Messages with Baton")
    type_command(page, "/transfer new")
    form = page.get_by_role("dialog", name="Raise a transfer")
    expect(form).to_be_visible()
    form.get_by_label("Case reference").fill(case_ref)
    form.get_by_label("Receiving team").select_option(label="South PDU")
    form.get_by_label("Kind of transfer").select_option("permanent")
    return form


def raise_transfer(page: Page, case_ref: str = "X123456") -> None:
    """Raise the transfer and wait until the form has closed and the confirmation has arrived."""
    form = fill_raise_form(page, case_ref)
    form.get_by_role("button", name="Raise").click()
    expect(form).to_be_hidden()
    expect(page.locator("#conversation")).to_contain_text(f"Case transfer: {case_ref}")


def card(page: Page, case_ref: str = "X123456") -> Locator:
    """The transfer's message in the open conversation."""
    return page.locator("#conversation article.message").filter(has_text=f"Case transfer: {case_ref}")


def test_practitioner_raises_and_receiving_manager_accepts_and_the_dm_updates(page: Page) -> None:
    """Raise as the practitioner; the receiving manager sees the DM and Home, accepts with a named
    worker and date, and the DM loses its buttons and says who accepted."""
    fill_raise_form(page)
    shot(page, "1-raise-form")
    page.get_by_role("dialog", name="Raise a transfer").get_by_role("button", name="Raise").click()
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(card(page)).to_be_visible()

    be(page, RECEIVING_MANAGER)
    go_to(page, "Home")
    home = page.locator("#conversation")
    expect(home).to_contain_text("X123456")
    expect(home.get_by_role("button", name="Accept", exact=True)).to_be_visible()
    go_to(page, "Messages with Baton")
    dm = card(page)
    expect(dm.get_by_role("button", name="Accept", exact=True)).to_be_visible()
    expect(dm.get_by_role("button", name="Decline", exact=True)).to_be_visible()
    shot(page, "2-receiving-manager-dm")

    dm.get_by_role("button", name="Accept", exact=True).click()
    form = page.get_by_role("dialog", name="Accept transfer")
    expect(form).to_be_visible()
    form.get_by_label("Named worker").select_option("U0SPP1")
    form.get_by_label("Agreed transfer date").fill("2026-12-07")
    form.get_by_role("button", name="Accept", exact=True).click()
    expect(form).to_be_hidden()

    expect(dm.get_by_role("button", name="Accept", exact=True)).to_have_count(0)  # decided
    expect(dm.get_by_role("button", name="Decline", exact=True)).to_have_count(0)
    expect(dm.get_by_role("button", name="Complete transfer", exact=True)).to_be_visible()  # next step
    expect(dm).to_contain_text("Accepted by @U0SMGR")  # the named worker is shown beside it
    expect(dm).to_contain_text("@U0SPP1")
    expect(dm).to_contain_text("07 Dec 2026")
    type_command(page, "/transfer history X123456")
    history = page.locator("#conversation article.message.ephemeral").filter(has_text="History of X123456")
    expect(history).to_contain_text("Accepted")
    expect(history).to_contain_text("Only visible to you")
    shot(page, "3-accepted-dm-updated")

    go_to(page, "Messages with Baton")  # ... and on to completion, in chat alone
    dm.get_by_role("button", name="Complete transfer", exact=True).click()
    form = page.get_by_role("dialog", name="Complete transfer")
    expect(form).to_contain_text("Responsibility for the case passes to the receiving team")
    form.get_by_role("button", name="Complete", exact=True).click()
    expect(form).to_be_hidden()
    expect(dm).to_contain_text("Completed by @U0SMGR")
    expect(dm.get_by_role("button")).to_have_count(0)  # nothing is left to do on it


def test_decline_without_a_rationale_is_refused_on_the_form(page: Page) -> None:
    """An empty form is stopped as Slack stops it; a blank rationale reaches the bot, which refuses
    it with a field error; the form stays open and the DM keeps its buttons."""
    raise_transfer(page)
    be(page, RECEIVING_MANAGER)
    go_to(page, "Messages with Baton")
    card(page).get_by_role("button", name="Decline", exact=True).click()
    form = page.get_by_role("dialog", name="Decline transfer")
    expect(form).to_be_visible()

    form.get_by_role("button", name="Decline", exact=True).click()
    expect(form.get_by_text("Please complete this required field.")).to_have_count(2)

    form.get_by_label("Reason for declining").select_option(index=1)
    form.get_by_label("Rationale").fill("   ")
    form.get_by_role("button", name="Decline", exact=True).click()
    rationale = form.locator('.field[data-block-id="rationale"]')
    expect(rationale.locator(".field-error")).to_have_text("Give the rationale.")
    expect(form.locator('.field[data-block-id="decline_reason"] .field-error')).to_be_hidden()
    expect(form).to_be_visible()
    shot(page, "4-decline-refused")

    form.get_by_role("button", name="Cancel").click()
    expect(form).to_be_hidden()
    expect(card(page).get_by_role("button", name="Accept", exact=True)).to_be_visible()


def test_twenty_one_working_days_later_the_escalation_reaches_the_smt_channel(page: Page,
                                                                                sandbox: Sandbox) -> None:
    """Nobody decides; the clock moves +20 working days, then one more: the resolution deadline
    (day 20) has passed and the SMT channel hears of it."""
    raise_transfer(page)
    page.get_by_role("button", name="+20 working days").click()
    expect(page.locator("#clock-now")).to_contain_text("Mon 21 Dec 2026, 10:00")
    page.get_by_role("button", name="Next working day").click()
    expect(page.locator("#clock-now")).to_contain_text("Tue 22 Dec 2026, 10:00")
    expect(page.locator("#sweep-status")).to_contain_text("to a senior manager")  # plain words

    be(page, SMT)
    go_to(page, "# smt")
    message = page.locator("#conversation article.message").filter(has_text="X123456")
    expect(message.first).to_be_visible()
    expect(message.first).to_contain_text("Escalated")
    assert sandbox.api.messages("C0SMT"), "the escalation is in the stand-in's SMT channel"
    message.first.scroll_into_view_if_needed()
    shot(page, "5-escalation-in-smt")


def test_monday_digest_with_its_chart_and_the_managers_app_home(page: Page, sandbox: Sandbox) -> None:
    """Two transfers raised; a week on, Monday's digest and chart are in the SMT channel, and the
    receiving manager's App Home shows what waits on them, overdue first."""
    raise_transfer(page, "X123456")
    raise_transfer(page, "Y654321")
    page.get_by_role("button", name="+5 working days").click()
    expect(page.locator("#clock-now")).to_contain_text("Mon 30 Nov 2026, 10:00")

    be(page, SMT)
    go_to(page, "# smt")
    digest = page.locator("#conversation article.message").filter(has_text="Transfers 23 Nov to 29 Nov 2026")
    expect(digest).to_be_visible()
    expect(digest).to_contain_text("Opened")
    chart = page.locator("#conversation figure.file img").first
    expect(chart).to_be_visible()
    assert chart.evaluate("img => img.complete && img.naturalWidth") == 800
    shot(page, "6-weekly-digest")

    be(page, RECEIVING_MANAGER)
    go_to(page, "Home")
    home = page.locator("#conversation")
    expect(home).to_contain_text("Waiting on you (2)")
    expect(home.get_by_role("button", name="Accept", exact=True)).to_have_count(2)
    shot(page, "7-app-home")
