"""The ``baton`` command line: data in and out (import, report, export), audit and purge."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from handlers.cli.base import (
    _baton,
    _operator,
    _period,
    app,
    fail,
    now,
    parse_day,
)


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
