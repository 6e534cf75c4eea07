"""The baseline: a bare Bolt app making the same Web API calls as Baton, and nothing else.

``/transfer help`` acks and answers through the response URL with the same static help Baton
gives (text and blocks, built once); any other ``/transfer`` and every button ack and open,
with ``views.open``, the very form Baton would open (its raise form, its Accept form), built
once at start: the same Web API calls with the same payloads. No database, no services.
Served by the same gunicorn setup as Baton: ``python -m bench.bare_app PORT [WORKERS THREADS]``.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from handlers.server import run_gunicorn, wsgi_app
from handlers.slack.blocks import help_blocks


def _forms() -> tuple[dict[str, Any], dict[str, Any]]:
    """Baton's raise form for North PDU and its Accept form for a probation transfer, as dicts."""
    from datetime import UTC, datetime

    from bot import actions, views
    from bot.calendar import calendar_for
    from bot.domain import new_transfer
    from bot.org import Actor, Role, load_org
    from handlers.slack.blocks import form_modal, raise_modal

    org = load_org()
    pack = org.pack_for("pdu-north")
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    t = new_transfer(case_ref="X123456", pack=pack, holding_team="pdu-north", receiving_team="pdu-south",
                     kind="permanent", actor=Actor("U0NPP1", frozenset({Role.holding_practitioner})), now=now)
    t.request(Actor("U0NPP1", frozenset({Role.holding_practitioner})), now, pack)
    t.id = 1
    manager = Actor("U0SMGR", frozenset({Role.receiving_manager}))
    accept = form_modal(views.form(actions.BY_NAME["accept"], t, pack, manager, cal=calendar_for("ENG"),
                                   now=now)).to_dict()
    return raise_modal(pack, org, "pdu-north").to_dict(), accept


def factory() -> Any:
    """The bare app: ack, then the one Web API call Baton makes for the same request."""
    app = App(client=WebClient(token="xoxb-test", base_url=os.environ["SLACK_API_URL"]),
              signing_secret=os.environ["SLACK_SIGNING_SECRET"], token_verification_enabled=False)
    help_text, help_body = "Here is what /transfer can do.", help_blocks()
    raise_form, accept_form = _forms()

    @app.command("/transfer")
    def cmd(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        if (body.get("text") or "").strip().lower() == "help":
            respond(response_type="ephemeral", text=help_text, blocks=help_body)
        else:
            client.views_open(trigger_id=body["trigger_id"], view=raise_form)

    @app.action(re.compile(".*"))
    def act(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=accept_form)

    return wsgi_app(app)


if __name__ == "__main__":
    from bot.logs import configure

    # run_gunicorn sends gunicorn's log (its "Booting worker" lines, which the bench waits for)
    # through Baton's log handler: without it they would go nowhere
    configure("json")
    workers, threads = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (2, 8)
    run_gunicorn(factory, host="127.0.0.1", port=int(sys.argv[1]), workers=workers, threads=threads)
