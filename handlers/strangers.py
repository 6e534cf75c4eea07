"""What Baton answers someone it does not know, on either platform: what the administrator must
add to the org file for them, in the words of that platform (an Entra object id on Teams, a
Slack member id on Slack), rather than asking for an e-mail the org file may already hold."""

from __future__ import annotations

from bot.org import Org


def on_teams(org: Org, person: str | None, entra_id: str | None) -> str:
    """The answer to someone on Teams whom the org file does not name (``person`` None) or
    names in no team; ``entra_id`` is the ``from.aadObjectId`` Teams sent."""
    if person is not None:
        return (f"Baton knows you as {person} but you are in no team and at no escalation level: ask "
                f"your Baton administrator to name {person} under your team's managers: or members: "
                "in the org file.")
    oid = entra_id or "OBJECT-ID (Entra admin centre > Users > you > Object ID)"
    return ("Baton does not know you yet: on Teams it knows people by their Entra object id, not "
            f"their e-mail. Ask your Baton administrator to add it to the org file under "
            f"people: as {{id: your.work@e-mail, entra_id: {oid}}} (baton org build fills it from the "
            "staff list) and to name you in your team, then run baton org check.")


def on_slack(org: Org, user: str) -> str:
    """The answer to someone on Slack whom the org file does not name."""
    emailed = [p.id for p in org.people if "@" in p.id]
    also = (" If the org file names you by your work e-mail (for Teams), your Slack id has to go "
            "there instead, with the e-mail under people:." if emailed else "")
    return (f"Baton does not know you yet: on Slack it knows people by their member id ({user}). Ask "
            f"your Baton administrator to name {user} under your team's managers: or members: in the org "
            "file (baton org build fills it from the staff list), then run baton org check." + also)
