"""Teams ingress: every activity's Bot Connector token is checked against the keys the (local)
OpenID metadata names; a missing or bad token, or a tenant the org file does not name, is refused
and changes nothing. An installation keeps the person's conversation so Baton can write first."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from sandbox.teams.driver import TeamsDriver
from sandbox.teams.keys import SigningKey
from store import conversations

PERSON = "U0NPP1"


def _nothing_kept(engine: sa.Engine) -> bool:
    with engine.connect() as c:
        rows = c.execute(sa.text("SELECT count(*) FROM teams_conversation")).scalar()
        events = c.execute(sa.text("SELECT count(*) FROM processed_event")).scalar()
    return rows == 0 and events == 0


def test_an_installation_keeps_the_persons_conversation(teams: TeamsDriver, engine: sa.Engine) -> None:
    assert teams.install(PERSON) == 200
    ref = conversations.of_person(engine, PERSON)
    assert ref is not None and ref.user_id == teams.members[PERSON].id
    assert ref.service_url == teams.connector.service_url


@pytest.mark.parametrize(("why", "token"), [
    ("missing", None),
    ("not a JWT", "not-a-token"),
    ("signed by another key", lambda c: SigningKey().mint(audience=c.app_id, service_url=c.service_url)),
    ("for another audience", lambda c: c.token_for(audience="11111111-1111-4111-8111-111111111111")),
    ("expired", lambda c: c.token_for(now=time.time() - 7200, lifetime=600)),
    ("from another issuer", lambda c: c.token_for(issuer="https://evil.example.com")),
    ("for another serviceUrl", lambda c: c.token_for(service_url="https://elsewhere.example.com/")),
])
def test_a_missing_or_bad_token_is_refused_with_401_and_changes_nothing(
        teams: TeamsDriver, engine: sa.Engine, why: str, token: object) -> None:
    activity = teams.activity(PERSON, "installationUpdate", action="add")
    raw = token(teams.connector) if callable(token) else token
    status, body = teams.post(activity, token=raw)  # type: ignore[arg-type]
    assert status == 401, why
    assert body == {"error": "unauthorized"}
    assert _nothing_kept(engine)


def test_a_key_endorsed_for_another_channel_is_refused(teams: TeamsDriver, engine: sa.Engine) -> None:
    """Bot Framework: the signing key must be endorsed for the activity's channel ('msteams')."""
    teams.connector.key.endorsements = ("webchat", "directline")
    activity = teams.activity(PERSON, "installationUpdate", action="add")
    status, _ = teams.post(activity)
    assert status == 401
    assert _nothing_kept(engine)


def test_an_activity_from_web_chat_signed_by_a_key_endorsed_for_it_is_refused(
        teams: TeamsDriver, engine: sa.Engine) -> None:
    """Microsoft's keys are endorsed for many channels: the channel itself must be msteams."""
    activity = teams.activity(PERSON, "installationUpdate", action="add", channelId="webchat")
    status, body = teams.post(activity)
    assert status == 403 and body is not None and "msteams" in body["message"]
    assert _nothing_kept(engine)


def test_an_activity_from_a_tenant_the_org_does_not_name_is_refused(teams: TeamsDriver,
                                                                    engine: sa.Engine) -> None:
    activity = teams.activity(PERSON, "installationUpdate", action="add",
                              tenant="99999999-9999-4999-8999-999999999999")
    status, _ = teams.post(activity)
    assert status == 403
    assert _nothing_kept(engine)


def test_a_replayed_activity_is_acknowledged_and_not_handled_twice(teams: TeamsDriver,
                                                                   engine: sa.Engine) -> None:
    activity = teams.activity(PERSON, "installationUpdate", action="add")
    assert teams.post(activity)[0] == 200
    conversations.forget(engine, PERSON)
    assert teams.post(activity)[0] == 200  # same activity id: not handled again
    assert conversations.of_person(engine, PERSON) is None


def test_a_body_that_is_not_an_activity_is_refused_after_its_token(teams: TeamsDriver) -> None:
    assert teams.post({}, raw=b"[1, 2]")[0] == 400
    assert teams.post({}, raw=b"[1, 2]", token=None)[0] == 401


def test_removing_the_app_forgets_the_conversation(teams: TeamsDriver, engine: sa.Engine) -> None:
    assert teams.install(PERSON) == 200
    assert conversations.of_person(engine, PERSON) is not None
    assert teams.post(teams.activity(PERSON, "installationUpdate", action="remove"))[0] == 200
    assert conversations.of_person(engine, PERSON) is None
