"""The ``baton`` command line (typer)."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.calendar import REGIONS, CalendarError, calendar_for
from bot.clocks import plan
from bot.policy import PACK_NAMES, PolicyError, builtin_pack, load_pack

app = typer.Typer(help="Baton: case transfers run by their policy, in Slack.", no_args_is_help=True,
                  add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
transfers_app = typer.Typer(help="Transfers in the store.", no_args_is_help=True)
org_app = typer.Typer(help="Org files.", no_args_is_help=True)
policy_app = typer.Typer(help="Policy packs.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(transfers_app, name="transfers")
app.add_typer(org_app, name="org")
app.add_typer(policy_app, name="policy")
teams_app = typer.Typer(help="Microsoft Teams.", no_args_is_help=True)
app.add_typer(teams_app, name="teams")


@app.callback()
def _logging() -> None:
    """Baton: case transfers run by their policy, in Slack."""
    from bot.logs import configure
    from bot.settings import get_settings

    s = get_settings()
    try:
        configure(s.log_format, s.log_level)
    except ValueError as exc:
        raise fail(str(exc)) from None


def now() -> datetime:
    """The current moment: BATON_NOW (ISO date-time, for trials and tests) or the wall clock."""
    fixed = os.environ.get("BATON_NOW")
    if fixed:
        dt = datetime.fromisoformat(fixed)
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return datetime.now(UTC)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a message to stderr and return the exit to raise."""
    typer.echo(message, err=True)
    return typer.Exit(code)


def parse_day(value: str, option: str) -> date:
    """A YYYY-MM-DD date, or exit naming the option."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}: {value!r} is not a date; use YYYY-MM-DD (e.g. 2026-11-23)") from None


def _baton() -> Any:
    from handlers.bootstrap import build

    try:
        return build()
    except PolicyError as exc:
        raise fail(f"org file: {exc}") from None


@app.command()
def deadlines(
    policy: Annotated[str, typer.Option(help=f"Pack name: {', '.join(PACK_NAMES)}")],
    start: Annotated[str, typer.Option(help="The day the clocks start (YYYY-MM-DD)")],
    region: Annotated[str | None, typer.Option(
        help=f"Bank holidays of: {', '.join(REGIONS)} (default: the org file's region, else ENG)")] = None,
    org: Annotated[Path | None, typer.Option(
        help="Org file whose closure days count too (default: BATON_ORG when set)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Every clock of a pack started on a date, with its due date and reminder dates; the org
    file's closure days count beside the region's bank holidays, and those that moved a date
    are listed."""
    from bot.org import load_org
    from bot.settings import get_settings

    day = parse_day(start, "--start")
    org_file = org or get_settings().org_file
    closures: dict[date, str] = {}
    if org_file is not None:
        try:
            loaded = load_org(org_file)
        except PolicyError as exc:  # an unreadable closure calendar, too: named, nothing printed
            raise fail(f"org file: {exc}") from None
        closures = loaded.closure_days()
        region = region or get_settings().region or loaded.region
    try:
        pack = builtin_pack(policy)
        cal = calendar_for(region or "ENG", closures)
    except (PolicyError, CalendarError) as exc:
        raise fail(str(exc)) from None
    rows = plan(pack, day, cal)
    if as_json:
        typer.echo(json.dumps([
            {"clock": d.clock, "label": d.label, "start": d.starts_on.isoformat(),
             "due": d.due_on.isoformat(), "reminders": [r.isoformat() for r in d.remind_on],
             "working_days": cal.working_days_between(d.starts_on, d.due_on),
             "closure_days": [{"date": c.isoformat(), "name": n}
                              for c, n in cal.closed_between(d.starts_on, d.due_on).items()]}
            for d in rows
        ], indent=2))
        return
    typer.echo(f"{pack.title}: clocks started {day:%a %d %b %Y} ({cal.region}"
               f"{', with the org file' + chr(39) + 's closure days' if cal.closures else ''})")
    for d in rows:
        reminders = ", ".join(f"{r:%a %d %b}" for r in d.remind_on) or "-"
        typer.echo(f"  {d.clock:<20} due {d.due_on:%a %d %b %Y}   reminders: {reminders}")
    last = max((d.due_on for d in rows), default=day)
    closed = cal.closed_between(day, last)
    if closed:
        typer.echo("  closure days counted as non-working: " + ", ".join(
            f"{c:%a %d %b %Y} ({n})" for c, n in closed.items()))


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV: case_ref,holding_team,receiving_team,"
                                              "requested_on,kind[,transfer_point,transfer_point_date,state,"
                                              "restricted,excluded,closed_on]")],
) -> None:
    """Adopt open transfers from an existing tracker: every row is checked; all or nothing."""
    from bot.services import import_csv

    try:
        text = file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise fail(f"{file}: cannot read: {exc.strerror}") from None
    b = _baton()
    with b.uow() as uow:
        result = import_csv(uow, b.org, text, now())
    if result.errors:
        for e in result.errors:
            typer.echo(f"{file}: {e}", err=True)
        raise fail(f"Nothing imported: {len(result.errors)} row(s) need fixing.")
    typer.echo(f"Imported {result.imported} transfer(s)"
               + (f" and {result.closures} case closure(s)." if result.closures else "."))


@app.command()
def closed(
    case_ref: Annotated[str, typer.Argument(help="The case reference")],
    team: Annotated[str, typer.Option(help="The team that held the case when it closed")],
    on: Annotated[str | None, typer.Option(help="The day it closed (default: today)")] = None,
) -> None:
    """Record that a case closed with a team: re-referral windows run from that day (Bury 12
    weeks, Leicestershire 3 months, the last day counting)."""
    from bot.errors import DomainError
    from bot.org import UnknownTeam
    from bot.services import record_closure

    day = parse_day(on, "--on") if on else None
    b = _baton()
    try:
        with b.uow() as uow:
            c = record_closure(uow, b.org, _operator(), case_ref, now(), team=team, on=day, cli=True)
    except (DomainError, UnknownTeam) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{c.case_ref} closed with {c.team} on {c.closed_on.isoformat()}.")


@transfers_app.command("list")
def transfers_list(
    overdue: Annotated[bool, typer.Option("--overdue", help="Only transfers past a deadline")] = False,
    team: Annotated[list[str] | None, typer.Option(help="Only this team (repeatable)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Open transfers, first due first."""
    from bot.services import list_transfers

    b = _baton()
    today = now().date()
    if team:
        for t in team:
            if not b.org.has_team(t):
                raise fail(f"unknown team {t!r}; teams are: {', '.join(x.id for x in b.org.teams)}")
    with b.uow() as uow:
        rows = list_transfers(uow, today=today, overdue=overdue, teams=team or None)
    cal = b.calendar
    if as_json:
        typer.echo(json.dumps([
            {"id": r.id, "case_ref": r.case_ref, "state": r.state, "policy": r.policy,
             "holding_team": r.holding_team, "receiving_team": r.receiving_team, "kind": r.kind,
             "requested_on": r.requested_on.isoformat() if r.requested_on else None,
             "clock": r.due_clock, "due": r.due_on.isoformat() if r.due_on else None,
             "overdue": bool(r.due_on and r.due_on < today),
             "working_days_left": cal.working_days_between(today, r.due_on) if r.due_on else None}
            for r in rows
        ], indent=2))
        return
    if not rows:
        typer.echo("No overdue transfers." if overdue else "No open transfers.")
        return
    typer.echo(f"{'case':<12}{'state':<18}{'from':<18}{'to':<18}{'next deadline':<32}working days left")
    for r in rows:
        due = f"{r.due_clock} {r.due_on:%d %b %Y}" if r.due_on else "-"
        left = str(cal.working_days_between(today, r.due_on)) if r.due_on else "-"
        typer.echo(f"{r.case_ref:<12}{r.state:<18}{r.holding_team:<18}{r.receiving_team:<18}"
                   f"{due:<32}{left}")


@org_app.command("check")
def org_check(file: Annotated[Path, typer.Argument(help="The org YAML file")]) -> None:
    """Validate an org file: teams, buddies, policies, escalation contacts and closure days; say
    who and which channels cannot be reached on Slack or on Teams, and which choice lists and
    messages meet a platform's limits at this org's size."""
    from bot.org import load_org
    from bot.settings import get_settings

    try:
        org = load_org(file)
    except PolicyError as exc:
        raise fail(str(exc)) from None
    for p in org.problems():
        typer.echo(f"warning: {p}", err=True)
    s = get_settings()
    platforms = tuple(n for n, on in (("Slack", bool(s.slack_bot_token or s.slack_signing_secret)),
                                      ("Teams", bool(s.microsoft_app_id))) if on) or ("Slack", "Teams")
    gaps = org.unreachable(platforms)
    for p in gaps:
        typer.echo(f"unreachable: {p}", err=True)
    from handlers.limits import check as platform_limits

    for p in platform_limits(org):  # choice lists and messages against Slack's and Teams' limits
        typer.echo(f"warning: limits: {p}", err=True)
    closed = org.closure_days()
    span = f" ({min(closed):%d %b %Y} to {max(closed):%d %b %Y})" if closed else ""
    typer.echo(f"{file}: OK: {len(org.teams)} teams, default policy {org.policy}, region {org.region}, "
               f"{len(closed)} closure day(s){span}")
    import re

    from bot.org import SLACK_USER

    people = list(org.named_people())
    reach = {"Slack": sum(1 for p in people if re.match(SLACK_USER, p)),
             "Teams": sum(1 for p in people if org.person(p).entra_id)}
    for name in platforms:
        tenants = (f"; tenants: {', '.join(org.tenants) or 'none (add tenants: [...])'}"
                   if name == "Teams" else "")
        typer.echo(f"{name}: {reach[name]} of {len(people)} people reachable{tenants}")


@policy_app.command("obligations")
def policy_obligations() -> None:
    """Print every pack's obligations, state by state, as the README's Markdown tables."""
    from bot.obligation_table import obligation_tables
    from bot.policy import all_builtin_packs

    typer.echo(obligation_tables(all_builtin_packs()), nl=False)


@policy_app.command("tables")
def policy_tables() -> None:
    """Print every pack's clocks and ladders as the README's Markdown tables."""
    from bot.pack_tables import pack_tables
    from bot.policy import all_builtin_packs

    typer.echo(pack_tables(all_builtin_packs()))

@app.command()
def doctor() -> None:
    """Check the settings, the org file and the database before go-live, on the platforms the
    settings configure: the live Slack workspace (SLACK_BOT_TOKEN) and Microsoft Teams
    (MICROSOFT_APP_ID: a token from Entra, the tenant, each person, the channels). Prints what is
    wrong and how to fix it; exit status 1 if anything blocks go-live."""
    from bot.doctor import Finding, escalation_reach, table
    from bot.org import load_org
    from bot.settings import get_settings
    from store.db import make_engine, readiness

    s = get_settings()
    findings: list[Finding] = []
    org = None
    try:
        org = load_org(s.org_file)
    except PolicyError as exc:
        findings.append(Finding("org file", str(s.org_file or "BATON_ORG"), str(exc),
                                "fix the org file (baton org check FILE names each problem)"))
    on_slack = bool(s.slack_bot_token or s.slack_signing_secret)
    on_teams = bool(s.microsoft_app_id)
    if not on_slack and not on_teams:
        findings.append(Finding("settings", "SLACK_BOT_TOKEN / MICROSOFT_APP_ID", "neither Slack nor "
                                "Microsoft Teams is configured", "set MICROSOFT_APP_ID, "
                                "MICROSOFT_APP_TENANT_ID and MICROSOFT_APP_PASSWORD for Teams (README: "
                                "Run on Microsoft Teams), or SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET "
                                "for Slack, or both"))
    slack_users: set[str] = set()  # what Slack refused
    slack_channels: set[str] = set()
    if on_slack:
        findings += _doctor_slack(s, org, (slack_users, slack_channels))
    engine = make_engine(s.database_url)
    try:
        why = readiness(engine)
        teams_found = None
        if on_teams:
            from handlers.teams.checks import check_teams

            teams_found = check_teams(s, org, engine if why is None else None, slack=on_slack, now=now())
            findings += teams_found.findings
    finally:
        engine.dispose()
    if org is not None:
        import re

        from bot.org import SLACK_USER

        def unreachable(who: str) -> bool:
            by_slack = on_slack and re.match(SLACK_USER, who) is not None and who not in slack_users
            by_teams = on_teams and teams_found is not None and who not in teams_found.bad_users
            return not (by_slack or by_teams)

        bad_channels = slack_channels | (teams_found.bad_channels if teams_found else set())
        if not on_teams:
            bad_channels |= {t.teams_channel for t in org.teams if t.teams_channel}
        findings += escalation_reach(org, {u for u in org.named_people() if unreachable(u)}, bad_channels)
    if why is not None:
        fix = ("check DATABASE_URL and that the server is up and accepts this host"
               if "unreachable" in why else "run baton db upgrade (every command also does it on start)")
        findings.append(Finding("database", _redact(s.database_url), why, fix))
    if not findings:
        assert org is not None
        where = " and ".join(n for n, on in (("Slack", on_slack), ("Microsoft Teams", on_teams)) if on)
        contacts = [*org.escalation.values(), *(c for t in org.teams for c in t.escalation.values())]
        places = set(org.channels()) | {p for p in (*(t.teams_channel for t in org.teams),
                                                    *(c.teams_channel for c in contacts)) if p}
        typer.echo(f"Ready for go-live: {len(org.teams)} teams, {len(org.named_people())} people and "
                   f"{len(places)} channels checked in {where}; the database is migrated.")
        return
    typer.echo(table(findings))
    blocking = sum(f.blocking for f in findings)
    typer.echo(f"\n{blocking} problem(s) block go-live; {len(findings) - blocking} warning(s).")
    if blocking:
        raise typer.Exit(1)


def _doctor_slack(s: Any, org: Any, bad: tuple[set[str], set[str]]) -> list[Any]:
    """The Slack half of ``baton doctor``; fills ``bad`` with the people and channels Slack refused."""
    from bot.doctor import Finding

    findings: list[Finding] = []
    if not s.slack_signing_secret:
        findings.append(Finding("settings", "SLACK_SIGNING_SECRET", "not set",
                                "copy the Signing Secret from api.slack.com/apps > your app > Basic "
                                "Information into SLACK_SIGNING_SECRET"))
    if not s.slack_bot_token:
        findings.append(Finding("token", "SLACK_BOT_TOKEN", "not set, so nothing in Slack was checked",
                                "copy the Bot User OAuth Token (xoxb-...) from OAuth & Permissions "
                                "into SLACK_BOT_TOKEN"))
        return findings
    from handlers.slack.workspace import TokenRefused, check_token, check_workspace, lookup_client

    client = lookup_client(s.slack_bot_token, s.slack_api_url)
    if org is not None:
        found = check_workspace(client, org)
        findings += found.findings
        bad[0].update(found.bad_users)
        bad[1].update(found.bad_channels)
    else:  # people and channels cannot be checked without the org file; the token can
        try:
            findings += check_token(client)
        except TokenRefused as refused:
            findings.append(refused.finding)
    return findings


@org_app.command("build")
def org_build(
    file: Annotated[Path, typer.Argument(help="Staff list CSV: team, team_name, role, email, channel "
                                              "[, policy, buddy, front_door]")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the org file here "
                                                "(only once every row is good); default: stdout")] = None,
    name: Annotated[str, typer.Option(help="The organisation's name")] = "Organisation",
    policy: Annotated[str, typer.Option(help=f"Default pack: {', '.join(PACK_NAMES)}")] = "probation",
    region: Annotated[str, typer.Option(help=f"Bank holidays of: {', '.join(REGIONS)}")] = "ENG",
    token: Annotated[str | None, typer.Option(help="A Slack token with users:read.email "
                                              "(default: SLACK_BOT_TOKEN)")] = None,
) -> None:
    """Turn a staff list into an org file, resolving work e-mails to Slack user ids
    (users.lookupByEmail, when Slack is configured) and to Entra object ids (Microsoft Graph,
    when MICROSOFT_APP_ID is); unknown e-mails are named by line and nothing is written."""
    from bot.orgbuild import build_org
    from bot.settings import get_settings
    from handlers.slack.workspace import TokenRefused
    from handlers.teams.directory import GraphRefused

    try:
        text = file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise fail(f"{file}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise fail(f"{file}: not UTF-8 text; save the spreadsheet as CSV UTF-8") from None
    s = get_settings()
    token = token or s.slack_bot_token
    if not token and not s.microsoft_app_id:
        raise fail("Set SLACK_BOT_TOKEN (or pass --token) to a Slack token with users:read.email, or "
                   "MICROSOFT_APP_ID, MICROSOFT_APP_TENANT_ID and MICROSOFT_APP_PASSWORD (or "
                   "MICROSOFT_APP_CERTIFICATE) for Microsoft Teams, or both.")
    from handlers.people import lookup_for

    try:
        lookup, tenants, where = lookup_for(s, token)
        built = build_org(text, lookup, name=name, policy=policy, region=region.upper(), source=str(file),
                          tenants=tenants)
    except GraphRefused as refused:
        raise fail(f"{refused.problem}. To fix: {refused.fix}. Nothing was written.") from None
    except TokenRefused as refused:
        raise fail(f"{refused.finding.subject}: {refused.finding.problem}. To fix: {refused.finding.fix}."
                   " Nothing was written.") from None
    for w in built.warnings:
        typer.echo(f"warning: {w}", err=True)
    if built.yaml is None:
        for e in built.errors:
            typer.echo(e, err=True)
        raise fail(f"No org file written: {len(built.errors)} problem(s) to fix in {file}.")
    if output is None:
        sys.stdout.write(built.yaml)
        return
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text(built.yaml, encoding="utf-8")
    os.replace(tmp, output)
    typer.echo(f"{output}: written, people resolved in {where}; next: `baton org check {output}`, "
               "then `baton doctor`.", err=True)


@policy_app.command("check")
def policy_check(file: Annotated[Path, typer.Argument(help="A policy pack YAML file")]) -> None:
    """Validate a policy pack file."""
    try:
        pack = load_pack(file)
    except PolicyError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{file}: OK: {pack.name}: {len(pack.clocks)} clocks "
               f"({', '.join(c.name for c in pack.clocks)}), "
               f"ladder {' -> '.join(lv.name for lv in pack.escalation.levels)}")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply schema migrations to DATABASE_URL."""
    from bot.settings import get_settings
    from store.db import upgrade

    url = get_settings().database_url
    upgrade(url, revision)
    typer.echo(f"Database at {_redact(url)} is at {revision}.")


@app.command()
def purge(
    closed_before: Annotated[str | None, typer.Option(
        help="Remove transfers closed before this date (default: the org's retention period ago)")] = None,
) -> None:
    """Remove closed transfers past retention, with everything about them: Baton's chat messages
    about them (deleted first), timeline, clocks, notifications, message references and the
    audit of reads."""
    from bot.services import closed_cutoff, retention_cutoff
    from bot.services import purge as do_purge

    b = _baton()
    if closed_before is None:
        cutoff = retention_cutoff(b.org, now())
    else:
        day = parse_day(closed_before, "--closed-before")
        if day > now().date():
            raise fail("--closed-before is in the future; purge only removes what has closed.")
        cutoff = closed_cutoff(day)
    from handlers.bootstrap import delivery_for

    delivery = delivery_for(b, now)  # Slack's, Teams' or both: messages are deleted where posted
    chat = delivery.chat if delivery is not None else None
    with b.uow() as uow:
        done = do_purge(uow, cutoff, chat)
    typer.echo(f"Purged {done.transfers} closed transfer(s) closed before {cutoff.date().isoformat()}"
               f" and removed {done.messages} of Baton's chat message(s) about them.")
    if done.kept:
        why = ("the chat platform did not remove their messages; run purge again later" if chat is not None
               else "Baton's messages about them are still in chat; set SLACK_BOT_TOKEN or "
                    "MICROSOFT_APP_ID and run again")
        typer.echo(f"Kept {done.kept} transfer(s): {why}.", err=True)


@app.command()
def audit(
    case_ref: Annotated[str | None, typer.Argument(help="The case reference")] = None,
    restricted: Annotated[bool, typer.Option("--restricted", help="Who looked at restricted cases")] = False,
    start: Annotated[str | None, typer.Option("--from", help="First day (default: --to less 6 days)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (default: today)")] = None,
) -> None:
    """A case's changes and every read of it (who, when, where); or, with --restricted, who
    looked at restricted cases in a period."""
    from bot import services
    from bot.views import when

    b = _baton()
    if restricted:
        frm, to = _period(start, end)
        with b.uow() as uow:
            reads = services.restricted_reads(uow, start=frm, end=to)
        typer.echo(f"Views of restricted cases, {frm.isoformat()} to {to.isoformat()}: {len(reads)}")
        for r in reads:
            typer.echo(f"{when(r.at)}  {r.case_ref}  #{r.transfer_id}  {r.reader}  {r.surface}"
                       + ("" if r.granted else "  REFUSED"))
        return
    if not case_ref:
        raise fail("Give a case reference, or --restricted for the report.")
    with b.uow() as uow:
        found = services.audit(uow, case_ref)
    if found is None:
        raise fail(f"Baton holds nothing about {case_ref.strip().upper()}.")
    typer.echo(f"Audit of {found.case_ref}")
    typer.echo(f"Changes ({len(found.changes)}):")
    for tid, ev in found.changes:
        step = ev.kind + (f" -> {ev.to_state}" if ev.to_state and ev.to_state != ev.from_state else "")
        typer.echo(f"  {when(ev.at)}  #{tid}  {ev.actor}  {step}")
    typer.echo(f"Reads ({len(found.reads)}):")
    for r in found.reads:
        typer.echo(f"  {when(r.at)}  #{r.transfer_id}  {r.reader}  {r.surface}"
                   + ("" if r.granted else "  REFUSED"))


@app.command("actions")
def actions_table() -> None:
    """Every step of a transfer: who may take it, from which states, under which packs (Markdown)."""
    from bot.actions import catalogue_table
    from bot.policy import all_builtin_packs

    typer.echo(catalogue_table(all_builtin_packs()))


@teams_app.command("package")
def teams_package(
    out: Annotated[Path, typer.Option("--out", help="Where to write the zip")] = Path("baton-teams.zip"),
    version: Annotated[str, typer.Option(help="The app's version")] = "1.0.0",
    website: Annotated[str, typer.Option(help="Your organisation's page about Baton")] = "https://example.org/baton",
) -> None:
    """Write the Teams app package (manifest and icons) for the bot in MICROSOFT_APP_ID."""
    from bot.settings import get_settings
    from handlers.teams.package import package

    app_id = get_settings().microsoft_app_id
    if not app_id:
        raise fail("Set MICROSOFT_APP_ID to the Azure Bot's app id (see README: Run on Microsoft Teams).")
    out.write_bytes(package(app_id=app_id, version=version, website=website))
    typer.echo(f"{out}: Teams app package for bot {app_id}; upload it in the Teams admin centre.")


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="TCP port")] = 3000,
    host: Annotated[str, typer.Option(help="Interface to bind")] = "0.0.0.0",
    workers: Annotated[int, typer.Option(help="gunicorn worker processes")] = 2,
    threads: Annotated[int, typer.Option(help="Threads per worker")] = 8,
    scheduler: Annotated[bool, typer.Option(help="Run the sweep in this process (off: use cron "
                                                 "and `baton sweep`)")] = True,
) -> None:
    """Serve Slack (/slack/events), Microsoft Teams (/api/messages) or both, with /healthz and
    /readyz, over HTTP with gunicorn; run several behind a balancer."""
    import threading

    from bot.liveorg import LiveOrg, on_sighup
    from handlers.bootstrap import build, serve_platforms
    from handlers.server import parse_bind, run_gunicorn, wsgi_app

    first = _baton()  # migrate once and read the org file, before the workers fork
    metrics_bind = first.settings.metrics_bind
    try:
        metrics_port = parse_bind(metrics_bind)[1] if metrics_bind else None
    except ValueError as exc:
        raise fail(str(exc)) from None
    live = first.live
    first.engine.dispose()

    def factory() -> Any:
        # in the worker: start from the master's last good org; the watcher reloads at once if
        # the file changed since the master read it
        mine = LiveOrg(live.current, first.settings.org_file, region=first.settings.region, seen=live.seen)
        b = build(first.settings, migrate=False, live=mine)
        from handlers.metrics import metrics_for

        served = serve_platforms(b, now)
        if scheduler:
            _start_scheduler(b, served.delivery)
        mine.watch(b.settings.org_poll_seconds, threading.Event())
        on_sighup(mine)
        from handlers.teams.credentials import probes
        from store.db import readiness

        ready, figures = probes(lambda: readiness(b.engine), metrics_for(b.engine),
                                served.teams.chat.client.source if served.teams else None)
        return wsgi_app(served.slack.bolt if served.slack else None, metrics=figures, readiness=ready,
                        teams=served.teams.app if served.teams else None, metrics_port=metrics_port)

    run_gunicorn(factory, host=host, port=port, workers=workers, threads=threads,
                 on_hup=lambda: live.reload().problem is None, also_bind=metrics_bind)


@app.command("run")
def run_socket_mode() -> None:
    """Connect to Slack in Socket Mode (needs SLACK_APP_TOKEN; no public URL needed)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from handlers.bootstrap import slack

    b = _baton()
    if not b.settings.slack_app_token:
        raise fail("Set SLACK_APP_TOKEN (an xapp- token with connections:write) for Socket Mode.")
    runtime = slack(b, now)
    _start_scheduler(b, runtime.delivery)
    import threading

    from bot.liveorg import on_sighup

    b.live.watch(b.settings.org_poll_seconds, threading.Event())
    on_sighup(b.live)
    SocketModeHandler(runtime.bolt, b.settings.slack_app_token).start()


def _start_scheduler(b: Any, delivery: Any) -> Any:
    from scheduler.jobs import start
    from scheduler.sweep import WorkingHours, parse_weekly

    return start(b.engine, b.live, delivery, now, seconds=b.settings.sweep_seconds,
                 hours=WorkingHours.parse(b.settings.working_hours, b.settings.timezone),
                 weekly=parse_weekly(b.settings.weekly_digest))


@app.command()
def sweep(
    at: Annotated[str | None, typer.Option("--now", help="Sweep as if it were this ISO date-time")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run",
                                          help="List what would be sent; change nothing")] = False,
) -> None:
    """One sweep of reminders and escalations, then delivery; for cron and for trying things out."""
    from handlers.bootstrap import delivery_for
    from scheduler.sweep import WorkingHours, tick
    from scheduler.sweep import sweep as do_sweep

    moment = now()
    if at:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise fail(f"--now: {at!r} is not an ISO date-time (e.g. 2026-12-22T09:30)") from None
        if moment.tzinfo is None:
            from bot.domain import UK_TIME

            moment = moment.replace(tzinfo=UK_TIME)
    b = _baton()
    hours = WorkingHours.parse(b.settings.working_hours, b.settings.timezone)
    if dry_run:
        result = do_sweep(b.engine, b.org, moment, hours=hours, dry_run=True)
        for line in result.lines:
            typer.echo(line)
        typer.echo(f"Would send {len(result.lines)} notification(s); nothing was changed.")
        return
    from scheduler.jobs import housekeeping

    housekeeping(b.engine, moment)
    delivery = delivery_for(b, now)
    if delivery is None:
        result = do_sweep(b.engine, b.org, moment, hours=hours)
        typer.echo(f"Wrote {result.notifications} notification(s); neither SLACK_BOT_TOKEN nor "
                   "MICROSOFT_APP_ID is set, so none was delivered.")
        return
    from scheduler.sweep import parse_weekly

    counts = tick(b.engine, b.org, delivery, moment, hours=hours,
                  weekly=parse_weekly(b.settings.weekly_digest))
    typer.echo(json.dumps(counts))


@app.command()
def sandbox(
    port: Annotated[int, typer.Option(help="TCP port of the page")] = 3000,
    host: Annotated[str, typer.Option(help="Interface to bind (keep it local)")] = "127.0.0.1",
    database: Annotated[str | None, typer.Option(help="SQLite file or URL (default: a new temporary "
                                                     "file; DATABASE_URL is never used)")] = None,
    at: Annotated[str | None, typer.Option("--now", help="ISO date-time the sandbox clock starts at "
                                                        "(default: BATON_NOW or the wall clock)")] = None,
) -> None:
    """Try Baton without Slack: a local Slack stand-in, the bot, the demo org and a page to drive them."""
    from sandbox.server import run

    try:
        start = datetime.fromisoformat(at) if at else now()
    except ValueError:
        raise fail(f"--now: {at!r} is not an ISO date-time (e.g. 2026-11-23T10:00:00+00:00)") from None
    try:
        run(host=host, port=port, database=database, start=start)
    except OSError as exc:
        raise fail(f"cannot start the sandbox on {host}:{port}: {exc.strerror or exc}") from None


def _period(start: str | None, end: str | None) -> tuple[date, date]:
    from datetime import timedelta

    to = parse_day(end, "--to") if end else now().date()
    frm = parse_day(start, "--from") if start else to - timedelta(days=6)
    if frm > to:
        raise fail(f"--from {frm.isoformat()} is after --to {to.isoformat()}.")
    return frm, to


@app.command()
def report(
    start: Annotated[str | None, typer.Option("--from", help="First day (default: --to less 6 days)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (default: today)")] = None,
) -> None:
    """The period's summary as a table: opened, resolved, breached, medians, by team."""
    from bot.reports import table
    from bot.services import report as summary

    frm, to = _period(start, end)
    b = _baton()
    with b.uow() as uow:
        typer.echo(table(summary(uow, b.org, start=frm, end=to)))


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    start: Annotated[str | None, typer.Option("--from", help="First day (default: --to less 6 days)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (default: today)")] = None,
) -> None:
    """Transfers for your own performance reporting, to standard output (case references only)."""
    from bot.services import export_csv, export_rows

    if fmt not in ("csv", "json"):
        raise fail(f"--format {fmt!r}: choose csv or json")
    frm, to = _period(start, end)
    b = _baton()
    with b.uow() as uow:
        rows = export_rows(uow, b.org, start=frm, end=to, reader=_operator(), now=now())
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2))
        return
    sys.stdout.write(export_csv(rows))


def _operator() -> str:
    """Who ran a command, for the audit of reads: 'cli:' and the login name."""
    import getpass

    try:
        name = getpass.getuser()
    except Exception:  # no login name in some containers
        name = "unknown"
    return f"cli:{name}"[:32]


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url


def main() -> None:
    """Entry point for ``python -m handlers.cli``."""
    app()


if __name__ == "__main__":
    main()
