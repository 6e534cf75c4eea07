"""refresh.userIds on a channel card: the Teams user ids of the people on the transfer whom Baton
can reach (however it reached them), never more than Microsoft's 60 ("User Specific Views":
"Maximum 60 different users can see a different version of the card")."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from bot import services
from bot.org import Org
from bot.ports import UnitOfWork
from handlers.teams.delivery import ConnectorClient, TeamsChat
from store import conversations
from store.conversations import ConversationRef
from tests.conftest import NOW

UoW = Callable[[], UnitOfWork]

TENANT = "00000000-0000-4000-8000-00000000b470"


def _chat(engine: sa.Engine, org: Org) -> TeamsChat:
    client = ConnectorClient(app_id="a", password="p", token_url="http://127.0.0.1:9/token")
    return TeamsChat(client, engine, org, service_url="http://127.0.0.1:9/", tenant_id=TENANT)


def test_a_channel_cards_refresh_names_at_most_sixty_people(
        uow: UoW, org: Org, engine: sa.Engine) -> None:
    with uow() as u:
        t = services.raise_transfer(u, org, "U0NPP1", services.RaiseRequest(
            case_ref="X123456", receiving_team="pdu-south"), NOW)
    managers = tuple(f"U0M{n:04d}" for n in range(70))
    south = org.team("pdu-south").model_copy(update={"managers": managers})
    big = org.model_copy(update={"teams": tuple(south if x.id == "pdu-south" else x for x in org.teams)})
    for n, person in enumerate(("U0NPP1", *managers)):
        conversations.save(engine, ConversationRef(person=person, conversation_id=f"a:1c{n}",
                                                   service_url="http://127.0.0.1:9/", tenant_id=TENANT,
                                                   user_id=f"29:1u{n}"), NOW)
    ids = _chat(engine, big).refresh_users("19:pdu-south@thread.tacv2", t.id)
    assert len(ids) == 60 and len(set(ids)) == 60
    assert ids[0] == "29:1u0"  # the practitioner who raised it first


def test_someone_whose_chat_baton_opened_is_named_once_their_user_id_is_known(
        uow: UoW, org: Org, engine: sa.Engine) -> None:
    with uow() as u:
        t = services.raise_transfer(u, org, "U0NPP1", services.RaiseRequest(
            case_ref="X123456", receiving_team="pdu-south"), NOW)
    conversations.save(engine, ConversationRef(person="U0SMGR", conversation_id="a:1opened",
                                               service_url="http://127.0.0.1:9/", tenant_id=TENANT,
                                               user_id=""), NOW)  # opened by Entra id, id unread
    assert _chat(engine, org).refresh_users("19:pdu-south@thread.tacv2", t.id) == []
    conversations.learn_user_id(engine, "U0SMGR", "29:1smgr")  # their first activity names them
    assert _chat(engine, org).refresh_users("19:pdu-south@thread.tacv2", t.id) == ["29:1smgr"]
