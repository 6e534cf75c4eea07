"""The baseline: a bare Bolt app making the same Web API calls as Baton, and nothing else.

``/transfer help`` acks and answers through the response URL with the same static help Baton
gives (text and blocks, built once); any other ``/transfer`` and every button ack and open a
small static modal with ``views.open``. No database, no services. Served by the same gunicorn
setup as Baton: ``python -m bench.bare_app PORT [WORKERS THREADS]``.
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

MODAL: dict[str, Any] = {
    "type": "modal", "callback_id": "bare_form",
    "title": {"type": "plain_text", "text": "Accept transfer"},
    "submit": {"type": "plain_text", "text": "Accept"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "blocks": [{"type": "input", "block_id": "rationale",
                "label": {"type": "plain_text", "text": "Rationale"},
                "element": {"type": "plain_text_input", "action_id": "rationale", "multiline": True}}],
}


def factory() -> Any:
    """The bare app: ack, then the one Web API call Baton makes for the same request."""
    app = App(client=WebClient(token="xoxb-test", base_url=os.environ["SLACK_API_URL"]),
              signing_secret=os.environ["SLACK_SIGNING_SECRET"], token_verification_enabled=False)
    help_text, help_body = "Here is what /transfer can do.", help_blocks()

    @app.command("/transfer")
    def cmd(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        if (body.get("text") or "").strip().lower() == "help":
            respond(response_type="ephemeral", text=help_text, blocks=help_body)
        else:
            client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @app.action(re.compile(".*"))
    def act(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    return wsgi_app(app)


if __name__ == "__main__":
    workers, threads = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (2, 8)
    run_gunicorn(factory, host="127.0.0.1", port=int(sys.argv[1]), workers=workers, threads=threads)
