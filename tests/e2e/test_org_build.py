"""``baton org build``: a staff list to an org file, e-mails resolved through the Web API stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.org import load_org
from handlers.cli import app
from sandbox.slack_api import DEFAULT_SCOPES, SlackStandIn

runner = CliRunner()
TOKEN = "xoxb-build"
STAFF = """Team,Team name,Role,Work e-mail,Channel
pdu-north,North PDU,manager,north.manager@probation.example,C0NORTH
pdu-north,,member,north.pp@probation.example,
pdu-south,South PDU,manager,south.manager@probation.example,C0SOUTH
pdu-south,South PDU,practitioner,south.pp@probation.example,
,,smt,smt.lead@probation.example,C0SMT
,,auditor,auditor@probation.example,
"""
PEOPLE = {"U0NMGR": "north.manager@probation.example", "U0NPP1": "north.pp@probation.example",
          "U0SMGR": "south.manager@probation.example", "U0SPP1": "south.pp@probation.example",
          "U0SMT1": "smt.lead@probation.example", "U0AUD": "auditor@probation.example"}


@pytest.fixture
def api() -> Iterator[SlackStandIn]:
    """A workspace holding the staff list's people, the token allowed to look up e-mails."""
    with SlackStandIn(tokens={TOKEN}) as stand_in:
        stand_in.set_scopes([*DEFAULT_SCOPES, "users:read.email"])
        for user, email in PEOPLE.items():
            stand_in.add_user(user, email=email)
        yield stand_in


def build(api: SlackStandIn, tmp_path: Path, staff: str, *args: str,
          token: str = TOKEN) -> tuple[int, str, str]:
    """Run baton org build on ``staff``; exit code, stdout, stderr."""
    f = tmp_path / "staff.csv"
    f.write_text(staff, encoding="utf-8")
    r = runner.invoke(app, ["org", "build", str(f), *args],
                      env={"SLACK_BOT_TOKEN": token, "SLACK_API_URL": api.api_url})
    return r.exit_code, r.stdout, r.stderr


def test_a_staff_list_becomes_an_org_file_with_slack_user_ids(api: SlackStandIn, tmp_path: Path) -> None:
    """Each e-mail is looked up once; teams, managers, members, an org-wide escalation contact and
    an auditor come out as an org file that loads."""
    code, out, err = build(api, tmp_path, STAFF, "--name", "Demo Probation")
    assert code == 0, err
    org_file = tmp_path / "org.yml"
    org_file.write_text(out)
    org = load_org(org_file)
    north, south = org.team("pdu-north"), org.team("pdu-south")
    assert (north.name, north.managers, north.members, north.channel) == (
        "North PDU", ("U0NMGR",), ("U0NPP1",), "C0NORTH")
    assert (south.managers, south.members) == (("U0SMGR",), ("U0SPP1",))
    assert org.escalation["smt"].users == ("U0SMT1",) and org.escalation["smt"].channel == "C0SMT"
    assert org.auditors == ("U0AUD",) and org.name == "Demo Probation"
    assert len(api.calls_to("users.lookupByEmail")) == len(PEOPLE)
    assert "@" not in out  # the org file holds ids, never e-mails


def test_unknown_and_deactivated_e_mails_are_named_by_line_and_nothing_is_written(
        api: SlackStandIn, tmp_path: Path) -> None:
    """Line 3 unknown, line 4 deactivated: both named; no YAML on stdout; -o leaves the old file."""
    api.add_user("U0LEFT", email="left@probation.example", deleted=True)
    staff = STAFF.replace("north.pp@", "typo.pp@").replace("south.manager@", "left@")
    old = tmp_path / "org.yml"
    old.write_text("# the running org file\n")
    code, out, err = build(api, tmp_path, staff, "-o", str(old))
    assert code == 1 and out == ""
    assert "staff.csv: line 3: typo.pp@probation.example: no Slack account has this e-mail" in err
    assert ("staff.csv: line 4: left@probation.example: the Slack account with this e-mail is "
            "deactivated") in err
    assert "No org file written: 2 problem(s)" in err
    assert old.read_text() == "# the running org file\n"
    assert {p.name for p in tmp_path.iterdir()} == {"org.yml", "staff.csv"}  # no temporary left


def test_with_output_the_file_is_written_whole_once_every_row_is_good(api: SlackStandIn,
                                                                      tmp_path: Path) -> None:
    """-o writes the org file (replacing the old one) and says to run the doctor."""
    target = tmp_path / "org.yml"
    target.write_text("# old\n")
    code, out, err = build(api, tmp_path, STAFF, "-o", str(target))
    assert code == 0 and out == ""
    assert load_org(target).team("pdu-north").managers == ("U0NMGR",)
    assert "baton doctor" in err


def test_a_token_that_cannot_read_e_mails_is_named_with_the_scope_to_add(
        api: SlackStandIn, tmp_path: Path) -> None:
    """Baton's own scopes do not include users:read.email: say so plainly, write nothing."""
    api.set_scopes(DEFAULT_SCOPES)
    code, out, err = build(api, tmp_path, STAFF)
    assert code == 1 and out == ""
    assert "users:read.email" in err and "Nothing was written" in err


def test_a_wrong_token_is_named(api: SlackStandIn, tmp_path: Path) -> None:
    """invalid_auth stops the build at the first lookup, with where to find the right token."""
    code, out, err = build(api, tmp_path, STAFF, token="xoxb-wrong")
    assert code == 1 and out == "" and "invalid_auth" in err and "Bot User OAuth Token" in err


@pytest.mark.parametrize(("staff", "message"), [
    ("team,role,email\n", "line 1: missing column(s) team_name, channel"),
    (STAFF.replace("manager,north.manager", "boss,north.manager"), "line 2: role 'boss' is not one of"),
    (STAFF.replace("pdu-north,North PDU", "North PDU,North PDU"), "line 2: team 'North PDU' is not an id"),
    (STAFF.replace("C0NORTH", "#north"), "line 2: channel '#north' is not a channel id"),
    (STAFF.replace("pdu-south,South PDU,practitioner", "pdu-south,Southern PDU,practitioner"),
     "line 5: team_name 'Southern PDU' differs from 'South PDU' on line 4"),
    (STAFF.replace("pdu-south,South PDU,manager", "pdu-south,South PDU,member"),
     "line 4: team pdu-south has no manager"),
])
def test_bad_rows_are_named_by_line(api: SlackStandIn, tmp_path: Path, staff: str, message: str) -> None:
    """A missing column, an unknown role, a display name as team id, a channel name for an id,
    names that disagree, a team with no manager: each named, nothing written."""
    code, out, err = build(api, tmp_path, staff)
    assert code == 1 and out == ""
    assert message in err
