"""The ``baton`` app, its command groups and the helpers every command shares."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from typing import Any

import typer

from bot.policy import PolicyError

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


def _period(start: str | None, end: str | None) -> tuple[date, date]:
    from datetime import timedelta

    to = parse_day(end, "--to") if end else now().date()
    frm = parse_day(start, "--from") if start else to - timedelta(days=6)
    if frm > to:
        raise fail(f"--from {frm.isoformat()} is after --to {to.isoformat()}.")
    return frm, to


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
