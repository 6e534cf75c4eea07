"""A Teams-only council that names its people by work e-mail (53 to 58 characters here, as
``u0npp1.practitioner.one@probation-service.example.gov.uk``): raise, accept, decline, history,
cover and the audit all work, and every person column keeps the whole address. Run with
DATABASE_URL set to PostgreSQL, which enforces column widths (SQLite does not): before migration
0012 a raise by such a person failed there with "Sorry, something went wrong"."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from bot import services
from bot.org import Org
from bot.ports import UnitOfWork
from sandbox.teams.driver import TeamsDriver, email_org, teams_org
from sandbox.teams.standin import card_of, card_text, verbs_of

PP = "u0npp1.practitioner.one@probation-service.example.gov.uk"
SPO = "u0smgr.practitioner.one@probation-service.example.gov.uk"
COVER = "u0nmgr.practitioner.one@probation-service.example.gov.uk"


@pytest.fixture(scope="module")
def teams_demo_org(org: Org) -> Org:
    """The demo org on Teams only, its people named by long work e-mails."""
    return teams_org(email_org(org))


def _last_card(teams: TeamsDriver, person: str, text: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        for a in reversed(teams.chat(person)):
            card = card_of(a)
            if card and text in card_text(card):
                return card
        return None

    got: dict[str, Any] = teams.connector.wait_for(found)
    return got


def _raise(teams: TeamsDriver, ref: str = "X123456") -> dict[str, Any]:
    assert teams.install(PP) == 200
    assert teams.say(PP, "transfer new") == 200
    form = _last_card(teams, PP, "Raise a transfer")
    token = next(a for a in form["actions"] if a["type"] == "Action.Execute")["data"]["token"]
    return teams.execute(PP, verbs_of(form)[0], {"token": token, "case_ref": ref,
                                                 "receiving_team": "pdu-south", "kind": "permanent"})


def _row(engine: sa.Engine, sql: str) -> Any:
    with engine.connect() as c:
        return c.execute(sa.text(sql)).first()


def test_people_named_by_long_work_emails_raise_accept_and_are_audited(
        teams: TeamsDriver, engine: sa.Engine, uow: Any) -> None:
    assert 40 <= len(PP) <= 60 and 40 <= len(SPO) <= 60
    answer = _raise(teams)
    assert "X123456" in card_text(answer) and "went wrong" not in card_text(answer)
    row = _row(engine, "SELECT id, requested_by, state FROM transfer WHERE case_ref = 'X123456'")
    assert row is not None and row[1] == PP and row[2] == "requested"
    tid = int(row[0])
    _last_card(teams, SPO, "X123456")  # the manager's chat, opened by Entra id
    form = teams.execute(SPO, "open:accept", {"transfer_id": tid})
    token = form["actions"][0]["data"]["token"]
    after = teams.execute(SPO, "submit:accept", {"transfer_id": tid, "token": token})
    assert "open:accept" not in verbs_of(after)
    with engine.connect() as c:  # closed at once: an open read would hold up the next wipe
        actors = {r[0] for r in c.execute(sa.text(
            "SELECT actor FROM timeline_event WHERE transfer_id = :t"), {"t": tid})}
    assert {PP, SPO} <= actors
    history = card_text(card_of(teams.ask(SPO, "transfer history X123456")) or {})
    assert "accept" in history.lower()
    u: UnitOfWork
    with uow() as u:
        audit = services.audit(u, "X123456")
    assert audit is not None and {ev.actor for _, ev in audit.changes} >= {PP, SPO}
    assert {r.reader for r in audit.reads} >= {SPO}


def test_a_long_email_person_declines_and_hands_their_transfers_to_cover(
        teams: TeamsDriver, engine: sa.Engine) -> None:
    _raise(teams)
    tid = int(_row(engine, "SELECT id FROM transfer WHERE case_ref = 'X123456'")[0])
    _last_card(teams, SPO, "X123456")
    form = teams.execute(SPO, "open:decline", {"transfer_id": tid})
    token = form["actions"][0]["data"]["token"]
    teams.execute(SPO, "submit:decline", {"transfer_id": tid, "token": token,
                                          "rationale": "Victim lives on the same street",
                                          "reason_category": "heightened_risk"})
    assert _row(engine, f"SELECT state FROM transfer WHERE id = {tid}")[0] == "declined"
    said = card_text(card_of(teams.ask(SPO, f"transfer cover {COVER} until 2026-12-04")) or {})
    assert "covers your transfers" in said
    cover = _row(engine, "SELECT manager, cover FROM cover")
    assert cover is not None and tuple(cover) == (SPO, COVER)
