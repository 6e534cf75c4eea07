"""The ``baton`` command line: org files and go-live checks (org check, org build, doctor)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.calendar import REGIONS
from bot.policy import PACK_NAMES, PolicyError
from handlers.cli.base import (
    _redact,
    app,
    fail,
    now,
    org_app,
)


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
