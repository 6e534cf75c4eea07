"""A dress rehearsal of going live on Microsoft Teams, on this machine: Entra ID, Microsoft
Graph and the Bot Connector as local stand-ins holding the people of your staff list, so the
README's going-live steps (org build, org check, doctor, serve) run against them exactly as they
will against your tenant, and then a first transfer is raised in Teams' own activities.

    python -m sandbox.teams.rehearsal staff.csv --org org.yml

1. starts the stand-ins (ports 4010 and 4011) with everyone in staff.csv in the directory, and
   writes ``rehearsal.env``: the settings that point Baton at them;
2. waits until ``baton serve`` (started with those settings) answers ``/readyz``;
3. plays Teams: the first team's practitioner and the second team's managers add the app, the
   practitioner types ``transfer new`` and raises a transfer of ``--case`` to the second team;
   it checks the receiving manager's card and the team channel's post arrived, and says so.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bot.org import load_org
from sandbox.teams.driver import TeamsDriver
from sandbox.teams.entra import EntraStandIn
from sandbox.teams.standin import APP_ID, APP_PASSWORD, TENANT, BotConnectorStandIn, card_of, card_text


def emails(staff: Path) -> list[str]:
    """The work e-mails of a staff list (its ``email`` or ``work e-mail`` column)."""
    rows = list(csv.reader(staff.read_text(encoding="utf-8-sig").splitlines()))
    keys = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in rows[0]]
    col = next(i for i, k in enumerate(keys) if k in ("email", "e_mail", "work_email", "work_e_mail"))
    return sorted({r[col].strip().lower() for r in rows[1:] if len(r) > col and "@" in r[col]})


def settings(entra: EntraStandIn, connector: BotConnectorStandIn) -> str:
    """The .env lines that point Baton at the stand-ins."""
    return "\n".join([
        "# Baton against the rehearsal's stand-ins (sandbox/teams/rehearsal.py); not for production",
        f"MICROSOFT_APP_ID={APP_ID}", f"MICROSOFT_APP_TENANT_ID={TENANT}",
        f"MICROSOFT_APP_PASSWORD={APP_PASSWORD}", "MICROSOFT_APP_SECRET_EXPIRES=2027-06-30",
        f"TEAMS_TOKEN_URL={entra.token_url}", f"MICROSOFT_GRAPH_URL={entra.graph_url}",
        f"TEAMS_OPENID_METADATA={connector.openid_metadata_url}",
        f"TEAMS_SERVICE_URL={connector.service_url}",
        ""])


def wait_ready(baton: str) -> None:
    """Until Baton's /readyz answers 200 (a tool's wait, on the wall clock)."""
    said = ""
    while True:
        try:
            r = httpx.get(f"{baton}/readyz", timeout=2)
            if r.status_code == 200:
                return
            why = r.text.strip()
        except httpx.HTTPError:
            why = "not answering yet"
        if why != said:
            print(f"  Baton at {baton}: {why}", flush=True)
            said = why
        time.sleep(1)


def first_transfer(driver: TeamsDriver, case: str) -> list[str]:
    """Raise ``case`` from the first team's practitioner to the second team, as Teams would; what happened."""
    org = driver.org
    holding, receiving = org.teams[0], org.teams[1]
    practitioner = (holding.members or holding.managers)[0]
    done = []
    for person in (practitioner, *receiving.managers):
        if driver.install(person) != 200:
            raise SystemExit(f"Baton refused {person}'s install: is the tenant under tenants: in the "
                             "org file?")
        done.append(f"{person} added Baton in Teams and got the home card")
    form = card_of(driver.ask(practitioner, "transfer new"))
    if form is None:
        raise SystemExit("Baton answered 'transfer new' without a form")
    button: dict[str, Any] = next(a for a in form["actions"] if a["type"] == "Action.Execute")
    pack = org.pack_for(holding.id)
    answer = driver.execute(practitioner, button["verb"], {
        **button["data"], "case_ref": case, "receiving_team": receiving.id, "kind": pack.kinds[0].id})
    errors = [b["text"] for b in answer.get("body") or [] if str(b.get("id", "")).endswith("__error")]
    if errors:
        raise SystemExit(f"the raise was refused: {'; '.join(errors)}")
    done.append(f"{practitioner} typed 'transfer new' and raised {case} to {receiving.name}")
    manager = receiving.managers[0]
    driver.connector.wait_for(lambda: any(case in card_text(card_of(a) or {}) for a in driver.chat(manager)),
                              timeout=30)
    done.append(f"{manager} (receiving manager) got the transfer's card with its buttons")
    if receiving.teams_channel:
        channel = receiving.teams_channel
        driver.connector.wait_for(lambda: any(case in card_text(card_of(a) or {})
                                              for a in driver.connector.sent(channel)), timeout=30)
        done.append(f"{receiving.name}'s Teams channel got the post")
    return done


def main(argv: list[str] | None = None) -> int:
    """Run the rehearsal (see the module's help)."""
    ap = argparse.ArgumentParser(prog="python -m sandbox.teams.rehearsal",
                                 description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("staff", type=Path, help="the staff list CSV (its e-mails go into the directory)")
    ap.add_argument("--org", type=Path, default=Path("org.yml"), help="the org file baton serve reads")
    ap.add_argument("--env", type=Path, default=Path("rehearsal.env"), help="where to write the settings")
    ap.add_argument("--baton", default="http://127.0.0.1:3000", help="baton serve's address")
    ap.add_argument("--port", type=int, default=4010, help="Entra's port (the Bot Connector's is the next)")
    ap.add_argument("--case", default="X123456", help="the case reference of the first transfer")
    args = ap.parse_args(argv)
    connector = BotConnectorStandIn(port=args.port + 1)
    with EntraStandIn(port=args.port, connector_tokens=connector.issued) as entra, connector:
        for email in emails(args.staff):
            entra.add_user(email)
        args.env.write_text(settings(entra, connector))
        print(f"Stand-ins up: Entra and Graph at {entra.url}, the Bot Connector at {connector.url}, "
              f"{len(entra.users)} people in the directory.\nSettings written to {args.env}; in another "
              f"terminal: set -a; . ./{args.env}; set +a; then build, check, doctor and serve (README: "
              "Going live). Waiting for Baton...", flush=True)
        wait_ready(args.baton)
        org = load_org(args.org)
        driver = TeamsDriver(args.baton, connector, org)
        start = time.monotonic()
        for line in first_transfer(driver, args.case):
            print(f"  ok: {line}", flush=True)
        print(f"First transfer on Teams done in {time.monotonic() - start:.1f} s.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
