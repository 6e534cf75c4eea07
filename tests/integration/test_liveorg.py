"""A changed org file picked up without a restart: swapped whole when good, refused with `baton
org check`'s messages when bad, the last good org kept running."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.liveorg import LiveOrg, Reloaded, on_sighup
from bot.org import DEMO_ORG, load_org
from handlers.cli import app

GOOD = DEMO_ORG.read_text()
BAD = GOOD.replace("    managers: [U0NMGR]\n", "    managers: [U0NMGR]\n    managers: [U0NPP1]\n", 1)


def touch(path: Path, text: str, bump: int) -> None:
    """Write ``text`` and move the mtime on by ``bump`` seconds (no waiting for the clock)."""
    path.write_text(text)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump * 1_000_000_000))


@pytest.fixture
def org_file(tmp_path: Path) -> Path:
    """A copy of the demo org to change."""
    f = tmp_path / "org.yml"
    f.write_text(GOOD)
    return f


def live(path: Path) -> LiveOrg:
    """The org of ``path``, live."""
    return LiveOrg(load_org(path), path)


def test_an_unchanged_file_is_not_read_again(org_file: Path) -> None:
    """The poll is one stat: nothing changed, nothing reloaded."""
    org = live(org_file)
    assert org.check() is None and org.generation == 0


def test_a_good_change_is_swapped_in_whole(org_file: Path) -> None:
    """A new member in North PDU: the next check uses the new org, generation goes up."""
    org = live(org_file)
    before = org.current
    touch(org_file, GOOD.replace("members: [U0NPP1, U0NPP2]", "members: [U0NPP1, U0NPP2, U0NEW]"), 1)
    result = org.check()
    assert result is not None and result.changed and result.problem is None
    assert "U0NEW" in org.current.team("pdu-north").members and org.current is not before
    assert org.generation == 1
    assert org.check() is None  # read once per change


def test_a_bad_change_is_refused_with_org_checks_message_and_the_old_org_kept(org_file: Path) -> None:
    """A duplicate key: the same message `baton org check` prints; the running org is unchanged,
    and the refused file is not read again until it changes."""
    org = live(org_file)
    before = org.current
    touch(org_file, BAD, 1)
    result = org.check()
    assert result is not None and not result.changed
    checked = CliRunner().invoke(app, ["org", "check", str(org_file)])
    assert checked.exit_code == 1 and result.problem == checked.stderr.strip()
    assert "duplicate key 'managers'" in result.problem
    assert org.current is before and org.generation == 0
    assert org.check() is None
    touch(org_file, GOOD.replace("name: North PDU", "name: North PDU (Probation)"), 2)
    assert org.check() == type(result)(True)
    assert org.current.team("pdu-north").name == "North PDU (Probation)"


def test_a_deleted_file_is_refused_and_the_old_org_kept(org_file: Path) -> None:
    """A file gone mid-deploy: refused (cannot read), still running on the old org."""
    org = live(org_file)
    before = org.current
    org_file.unlink()
    result = org.check()
    assert result is not None and result.problem and "org.yml" in result.problem
    assert org.current is before


def test_sighup_reloads_through_the_watcher(org_file: Path) -> None:
    """SIGHUP only sets a flag; the watcher thread reloads at once (no poll: seconds=0)."""
    org = live(org_file)
    done = threading.Event()

    def told(result: Reloaded) -> None:
        if result.changed:  # (a read of the file half-written is refused; the next one is whole)
            done.set()

    org.listeners.append(told)
    stop = threading.Event()
    org.watch(0, stop)
    previous = signal.getsignal(signal.SIGHUP)
    try:
        on_sighup(org)
        touch(org_file, GOOD.replace("name: South PDU", "name: South PDU (Probation)"), 1)
        os.kill(os.getpid(), signal.SIGHUP)
        assert done.wait(10)
    finally:
        signal.signal(signal.SIGHUP, previous)
        stop.set()
        org.request()
    assert org.current.team("pdu-south").name == "South PDU (Probation)"


def test_the_watcher_picks_up_a_change_without_a_signal(org_file: Path) -> None:
    """What `baton serve` does every BATON_ORG_POLL_SECONDS: a changed file is seen by the poll."""
    org = live(org_file)
    done = threading.Event()

    def told(result: Reloaded) -> None:
        if result.changed:
            done.set()

    org.listeners.append(told)
    stop = threading.Event()
    org.watch(0.01, stop)
    try:
        touch(org_file, GOOD.replace("name: Bury Assessment Team", "name: Bury Front Door"), 1)
        assert done.wait(10)
    finally:
        stop.set()
        org.request()
    assert org.current.team("bury-assessment").name == "Bury Front Door"
