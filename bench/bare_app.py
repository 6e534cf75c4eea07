"""A bare Bolt app that only acks, served by the same gunicorn setup as Baton: the baseline."""

from __future__ import annotations

import os
import re
import sys
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from handlers.server import run_gunicorn, wsgi_app


def factory() -> Any:
    """The bare app: ack every command and action, nothing else."""
    app = App(client=WebClient(token="xoxb-test", base_url=os.environ["SLACK_API_URL"]),
              signing_secret=os.environ["SLACK_SIGNING_SECRET"], token_verification_enabled=False)

    @app.command("/transfer")
    def cmd(ack: Ack) -> None:
        ack()

    @app.action(re.compile(".*"))
    def act(ack: Ack) -> None:
        ack()

    return wsgi_app(app)


if __name__ == "__main__":
    run_gunicorn(factory, host="127.0.0.1", port=int(sys.argv[1]), workers=2, threads=8)
