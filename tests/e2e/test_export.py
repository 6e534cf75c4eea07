"""/transfer export in chat: a report reader gets a CSV file in their DM (restricted cases left
out unless an auditor), each row recorded as a read; anyone else is refused and nothing is read."""

from __future__ import annotations

from collections.abc import Callable

from bot import services
from bot.org import load_org
from bot.ports import UnitOfWork
from tests.conftest import NOW
from tests.e2e.slack import SlackDriver, wait

UoW = Callable[[], UnitOfWork]
READER, AUDITOR = "U0REPORT", "U0AUDIT"


def _raise(uow: UoW, ref: str, **kw: object) -> int:
    with uow() as u:
        t = services.raise_transfer(u, load_org(), "U0NPP1", services.RaiseRequest(
            case_ref=ref, receiving_team="pdu-south", **kw), NOW)  # type: ignore[arg-type]
    assert t.id is not None
    return t.id


def _csv_for(slack: SlackDriver) -> str:
    """The one CSV file Baton uploaded."""
    files = wait(slack.api, lambda: [f for f in slack.api.files.values() if f.completed])
    assert len(files) == 1 and files[0].filename.endswith(".csv")
    assert files[0].content is not None
    return files[0].content.decode()


def test_report_reader_gets_the_periods_csv_in_their_dm_without_restricted_cases(
        slack: SlackDriver, uow: UoW) -> None:
    """A report reader's /transfer export answers privately, then a CSV arrives in their DM
    with the ordinary case and not the restricted one; each exported row is recorded as a read."""
    plain = _raise(uow, "X123456")
    hidden = _raise(uow, "X222222", restricted=True)
    slack.command(READER, "export 2026-11-01 2026-11-30")
    answer = wait(slack.api, lambda: slack.api.responses)[0]
    assert answer.payload["text"].startswith("Your export of transfers from 01 Nov 2026 to 30 Nov 2026")
    text = _csv_for(slack)
    assert text.splitlines()[0].startswith("id,case_ref,policy")
    assert "X123456" in text and "X222222" not in text
    dm = wait(slack.api, lambda: slack.api.calls_to("files.completeUploadExternal"))[0]
    assert str(dm.params.get("channel_id", "")).startswith("D")
    with uow() as u:
        assert [(r.reader, r.surface) for r in u.reads.of_transfer(plain)] == [(READER, "export")]
        assert not [r for r in u.reads.of_transfer(hidden) if r.reader == READER]


def test_auditor_export_includes_restricted_cases(slack: SlackDriver, uow: UoW) -> None:
    """An auditor's export from chat carries the restricted case too, and its read is recorded."""
    hidden = _raise(uow, "X222222", restricted=True)
    slack.command(AUDITOR, "export 2026-11-01 2026-11-30")
    assert "X222222" in _csv_for(slack)
    with uow() as u:
        assert [(r.reader, r.surface, r.restricted) for r in u.reads.of_transfer(hidden)
                if r.surface == "export"] == [(AUDITOR, "export", True)]


def test_export_by_someone_who_is_not_a_report_reader_is_refused_and_reads_nothing(
        slack: SlackDriver, uow: UoW) -> None:
    """A team manager's /transfer export is refused privately; no file, no read recorded."""
    tid = _raise(uow, "X123456")
    slack.command("U0SMGR", "export")
    answer = wait(slack.api, lambda: slack.api.responses)[0]
    assert answer.payload["text"] == "Only the people the org file names as report readers can export."
    assert not slack.api.calls_to("files.getUploadURLExternal")
    with uow() as u:
        assert u.reads.of_transfer(tid) == []


def test_export_with_a_day_that_is_not_a_date_says_how_to_write_it(slack: SlackDriver, uow: UoW) -> None:
    """`/transfer export yesterday` answers with the expected form of the days."""
    slack.command(READER, "export yesterday")
    answer = wait(slack.api, lambda: slack.api.responses)[0]
    assert "YYYY-MM-DD" in answer.payload["text"]
