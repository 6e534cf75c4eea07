"""Typed commands in the 1:1 chat with Baton on Teams, as /transfer is on Slack: status, history,
list, an action's form, home and help; people the org file does not name get the help only; a
stale card is redrawn as it stands, saying why the step cannot be taken."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from bot import services
from bot.org import Org
from bot.ports import UnitOfWork
from sandbox.driver import Clock
from sandbox.teams.driver import TeamsDriver
from sandbox.teams.standin import card_of, card_text, verbs_of

UoW = Callable[[], UnitOfWork]
PP, SPO = "U0NPP1", "U0SMGR"


def _reply(teams: TeamsDriver, person: str, text: str) -> dict[str, Any]:
    card = card_of(teams.ask(person, text))
    assert card is not None
    return card


def _raised(uow: UoW, org: Org, clock: Clock) -> int:
    with uow() as u:
        t = services.raise_transfer(u, org, PP, services.RaiseRequest(case_ref="X123456",
                                                                      receiving_team="pdu-south"), clock())
    return t.id or 0


def _mentioned(card: dict[str, Any]) -> dict[str, str]:
    """Each @mention's text and the Entra id Teams resolves it to."""
    return {m["text"]: m["mentioned"]["id"] for m in (card.get("msteams") or {}).get("entities") or []
            if m.get("type") == "mention"}


def test_status_history_and_list_answer_in_the_chat(teams: TeamsDriver, uow: UoW, teams_demo_org: Org,
                                                    clock: Clock) -> None:
    _raised(uow, teams_demo_org, clock)
    teams.install(SPO)
    status = _reply(teams, SPO, "transfer status X123456")
    assert "Case transfer: X123456" in card_text(status) and "open:accept" in verbs_of(status)
    history = _reply(teams, SPO, "<at>Baton</at> transfer history X123456")
    assert "History of X123456" in card_text(history) and "requested" in card_text(history)
    listed = _reply(teams, SPO, "transfer list team")
    assert "X123456" in card_text(listed)
    assert "North PDU → South PDU" in card_text(listed) and "pdu-south" not in card_text(listed)


def test_history_and_cover_name_people_as_teams_mentions_by_entra_id(
        teams: TeamsDriver, uow: UoW, teams_demo_org: Org, clock: Clock) -> None:
    """Who did what is an @mention Teams draws as the person (the entity carries their Entra
    object id), as Slack draws <@U...>; its text is their display name from the org file, else
    their role and team: never an e-mail after an @."""
    _raised(uow, teams_demo_org, clock)
    teams.install(SPO)
    pp = teams_demo_org.person(PP)
    history = _reply(teams, SPO, "transfer history X123456")
    tag = "<at>North PDU's Probation Practitioner</at>"
    assert tag in card_text(history) and "@demo" not in card_text(history)
    assert _mentioned(history) == {tag: pp.entra_id}
    cover = teams_demo_org.person("U0NMGR")
    said = _reply(teams, SPO, f"transfer cover {cover.email} until 2026-12-04")
    tag = "<at>North PDU's Senior Probation Officer</at>"
    assert _mentioned(said) == {tag: cover.entra_id}
    assert f"{tag} covers your transfers until 04 Dec 2026" in card_text(said)


def test_an_action_by_name_opens_its_form_and_a_bad_word_gets_the_help(
        teams: TeamsDriver, uow: UoW, teams_demo_org: Org, clock: Clock) -> None:
    _raised(uow, teams_demo_org, clock)
    teams.install(SPO)
    form = _reply(teams, SPO, "transfer decline X123456")
    assert verbs_of(form)[0] == "submit:decline"
    assert "I don't know 'frobnicate'" in card_text(_reply(teams, SPO, "transfer frobnicate"))
    assert "transfer new" in card_text(_reply(teams, SPO, "transfer home"))


def test_someone_the_org_file_does_not_name_gets_the_help_only(
        teams: TeamsDriver, uow: UoW, teams_demo_org: Org, clock: Clock, engine: sa.Engine) -> None:
    stranger = teams.connector.add_member("12345678-1234-4234-8234-123456789abc", "who@example.org")
    teams.members["stranger"] = stranger
    _raised(uow, teams_demo_org, clock)
    answer = _reply(teams, "stranger", "transfer status X123456")
    assert "does not know you" in card_text(answer) and "Case transfer" not in card_text(answer)
    # what the administrator must add: their Entra object id under people:, not "your work e-mail"
    said = card_text(answer).replace("\\", "")  # as Teams shows the card's escaped markdown
    assert "entra_id: 12345678-1234-4234-8234-123456789abc" in said and "under people:" in said
    assert "add your work e-mail" not in card_text(answer)


def test_a_stale_card_is_redrawn_as_it_stands_and_says_why(
        teams: TeamsDriver, uow: UoW, teams_demo_org: Org, clock: Clock, engine: sa.Engine) -> None:
    tid = _raised(uow, teams_demo_org, clock)
    with uow() as u:
        services.act(u, teams_demo_org, SPO, tid, "accept", clock())
    answer = teams.execute(SPO, "open:decline", {"transfer_id": tid})
    assert "submit:decline" not in verbs_of(answer)
    assert "Accepted" in card_text(answer)
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT state FROM transfer")).scalar() in ("accepted", "allocated")


def test_a_form_sent_twice_is_applied_once(teams: TeamsDriver, uow: UoW, teams_demo_org: Org,
                                           clock: Clock, engine: sa.Engine) -> None:
    tid = _raised(uow, teams_demo_org, clock)
    form = teams.execute(SPO, "open:complete", {"transfer_id": tid})
    assert "submit:complete" not in verbs_of(form)  # not yet accepted: complete is not offered
    form = teams.execute(SPO, "open:accept", {"transfer_id": tid})
    token = form["actions"][0]["data"]["token"]
    teams.execute(SPO, "submit:accept", {"transfer_id": tid, "token": token})
    teams.execute(SPO, "submit:accept", {"transfer_id": tid, "token": token})
    with engine.connect() as c:
        accepted = c.execute(sa.text("SELECT count(*) FROM timeline_event WHERE kind = 'accepted'")).scalar()
    assert accepted == 1
    done = teams.execute(SPO, "open:complete", {"transfer_id": tid})
    token = done["actions"][0]["data"]["token"]
    teams.execute(SPO, "submit:complete", {"transfer_id": tid, "token": token})
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT state FROM transfer")).scalar() == "completed"


def test_adding_the_app_is_answered_with_the_home_card(teams: TeamsDriver, uow: UoW, teams_demo_org: Org,
                                                       clock: Clock) -> None:
    _raised(uow, teams_demo_org, clock)
    teams.install(SPO)
    home = card_of(teams.chat(SPO)[0])
    assert home is not None
    assert "Waiting on you (1)" in card_text(home) and "X123456" in card_text(home)
    assert "open:accept" in verbs_of(home)  # the buttons they may press, as on Slack's App Home
    assert not any(s in card_text(home) for s in ("(0)", "Inbound"))  # no empty sections


def test_cover_closed_and_lastteam_answer_in_the_chat(teams: TeamsDriver, engine: sa.Engine) -> None:
    teams.install(SPO)
    said = card_text(_reply(teams, SPO, "transfer cover u0nmgr@demo.example.gov.uk until 2026-12-04"))
    assert "covers your transfers until 04 Dec 2026" in said
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT cover FROM cover")).scalar() == "U0NMGR"
    assert "does not know that colleague" in card_text(
        _reply(teams, SPO, "transfer cover who@example.org until 2026-12-04"))
    closed = card_text(_reply(teams, SPO, "transfer closed X777777"))
    assert "X777777 closed with South PDU" in closed and "(transfer lastteam X777777)" in closed
    last = card_text(_reply(teams, SPO, "transfer lastteam X777777"))
    assert "was last held by South PDU" in last and "/transfer" not in last and "`" not in last
    bad = card_text(_reply(teams, "U0REPORT", "transfer export 1st-Nov"))
    assert "transfer export 2026-11-01 2026-11-30" in bad and "/transfer" not in bad
    assert "agenda" in card_text(_reply(teams, SPO, "transfer agenda")).lower()


def test_an_export_comes_as_a_file_once_its_reader_accepts_it(
        teams: TeamsDriver, uow: UoW, teams_demo_org: Org, clock: Clock, engine: sa.Engine) -> None:
    """`transfer export` for a report reader: a file consent card in their chat; accepted, the CSV
    is uploaded to the address Teams gave and shown in the chat; taken once, and only by them."""
    _raised(uow, teams_demo_org, clock)
    reader = "U0REPORT"
    teams.install(reader)
    said = card_text(_reply(teams, reader, "transfer export 2026-11-01 2026-11-30"))
    assert "on its way to this chat" in said
    consent = teams.connector.wait_for(lambda: [
        a for a in teams.chat(reader) for x in a.get("attachments") or []
        if x["contentType"].endswith("file.consent")])[-1]
    attachment = consent["attachments"][0]
    token = attachment["content"]["acceptContext"]
    value = {"type": "fileUpload", "action": "accept", "context": token,
             "uploadInfo": {"name": attachment["name"], "uploadUrl": f"{teams.connector.url}/upload/s1",
                            "contentUrl": "https://onedrive.example/x.csv", "uniqueId": "u1",
                            "fileType": "csv"}}
    stranger = teams.post(teams.activity("U0SMGR", "invoke", name="fileConsent/invoke", value=value))
    assert stranger[0] == 200 and "s1" not in teams.connector.uploads  # not theirs to take
    assert teams.post(teams.activity(reader, "invoke", name="fileConsent/invoke", value=value))[0] == 200
    assert teams.connector.uploads["s1"].decode().startswith("id,case_ref,")
    assert "X123456" in teams.connector.uploads["s1"].decode()
    shown = teams.connector.wait_for(lambda: [
        x for a in teams.chat(reader) for x in a.get("attachments") or []
        if x["contentType"].endswith("file.info")])
    assert shown[0]["contentUrl"] == "https://onedrive.example/x.csv"
    teams.connector.uploads.clear()
    assert teams.post(teams.activity(reader, "invoke", name="fileConsent/invoke", value=value))[0] == 200
    assert not teams.connector.uploads  # taken once


def test_an_export_whose_upload_fails_stays_and_its_reader_is_told(
        teams: TeamsDriver, uow: UoW, teams_demo_org: Org, clock: Clock, engine: sa.Engine) -> None:
    """OneDrive refuses the upload (a 500 from the upload session): the CSV stays in the database
    (it leaves only after an upload succeeded), the reader reads that it has not reached them,
    and accepting again uploads it."""
    _raised(uow, teams_demo_org, clock)
    reader = "U0REPORT"
    teams.install(reader)
    _reply(teams, reader, "transfer export 2026-11-01 2026-11-30")
    consent = teams.connector.wait_for(lambda: [
        a for a in teams.chat(reader) for x in a.get("attachments") or []
        if x["contentType"].endswith("file.consent")])[-1]
    attachment = consent["attachments"][0]
    value = {"type": "fileUpload", "action": "accept", "context": attachment["content"]["acceptContext"],
             "uploadInfo": {"name": attachment["name"], "uploadUrl": f"{teams.connector.url}/upload/s2",
                            "contentUrl": "https://onedrive.example/y.csv", "uniqueId": "u2",
                            "fileType": "csv"}}
    teams.connector.fail_next(500, path="/upload/")
    assert teams.post(teams.activity(reader, "invoke", name="fileConsent/invoke", value=value))[0] == 200
    assert "s2" not in teams.connector.uploads
    told = teams.connector.wait_for(lambda: [a for a in teams.chat(reader)
                                             if "could not be saved to your OneDrive" in str(a.get("text"))])
    assert told
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM teams_pending_file")).scalar() == 1
    assert teams.post(teams.activity(reader, "invoke", name="fileConsent/invoke", value=value))[0] == 200
    assert "X123456" in teams.connector.uploads["s2"].decode()
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM teams_pending_file")).scalar() == 0
def test_a_raise_card_once_used_is_greyed_out_and_cannot_raise_again(teams: TeamsDriver, engine: sa.Engine
                                                                      ) -> None:
    """Pressing Raise answers with the used form: what it sent, its button disabled; the
    transfer's own card arrives in the chat. Receiving teams read by their names, not ids."""
    teams.install(PP)
    form = card_of(teams.ask(PP, "transfer new"))
    assert form is not None
    teams_choice = next(el for el in form["body"] if el.get("id") == "receiving_team")
    assert [c["title"] for c in teams_choice["choices"]] == ["South PDU"]
    button = form["actions"][0]
    used = teams.execute(PP, button["verb"], {**button["data"], "case_ref": "X123456",
                                              "receiving_team": "pdu-south", "kind": "permanent",
                                              "excluded": "U0NPP2"})  # kept from the case
    assert "Transfer raised: **X123456**, North PDU → South PDU" in card_text(used)
    assert used["actions"][0]["isEnabled"] is False
    assert not any(str(a.get("verb", "")).startswith("raise:") for a in used["actions"])
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM transfer")).scalar() == 1
        assert c.execute(sa.text("SELECT restricted FROM transfer")).scalar()  # an exclusion restricts it


def test_help_for_a_practitioner_lists_their_own_steps_and_the_rest_behind_more(teams: TeamsDriver) -> None:
    """transfer help: the reader's own commands first (cover and home among them), the rest
    (agenda, lastteam, closed, export) behind More."""
    teams.install(PP)
    card = _reply(teams, PP, "transfer help")
    shown = card_text({"body": card["body"]})
    assert "transfer cover" in shown and "transfer home" in shown and "transfer record-delay" in shown
    assert "capacity-concern" not in shown
    more = card["actions"][0]["card"]
    assert all(f"transfer {sub}" in card_text(more) for sub in ("agenda", "lastteam", "closed", "export"))
