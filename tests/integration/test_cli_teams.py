"""The CLI on Teams: `baton org check` says who and which channels cannot be reached on which
platform; `baton teams package` writes the app package for MICROSOFT_APP_ID (and refuses without it)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import yaml

from tests.integration.test_cli import env, run  # noqa: F401  (env is a fixture)

DEMO = Path(__file__).parents[2] / "policies" / "demo-org.yml"


def test_org_check_names_who_and_which_channels_cannot_be_reached(env: dict[str, str],  # noqa: F811
                                                                   tmp_path: Path) -> None:
    data = yaml.safe_load(DEMO.read_text())
    data["people"] = [p for p in data["people"] if p["id"] != "U0SMGR"]
    data["teams"][0]["teams_channel"] = "19:pdu-north@thread.tacv2"
    org = tmp_path / "org.yml"
    org.write_text(yaml.safe_dump(data))
    code, out, err = run(env, "org", "check", str(org))
    assert code == 0 and "10 teams" in out
    assert "unreachable: person U0SMGR: not reachable on Teams" in err
    assert "unreachable: team pdu-south: no channel on Teams" in err
    assert "team pdu-north:" not in err


def test_teams_package_writes_the_zip_for_the_app_id(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "baton.zip"
    code, _, err = run(env, "teams", "package", "--out", str(out))
    assert code == 1 and "MICROSOFT_APP_ID" in err and not out.exists()
    code, said, _ = run({**env, "MICROSOFT_APP_ID": "00000000-0000-4000-8000-0000000ba701"},
                        "teams", "package", "--out", str(out))
    assert code == 0 and "00000000-0000-4000-8000-0000000ba701" in said
    assert sorted(zipfile.ZipFile(out).namelist()) == ["color.png", "manifest.json", "outline.png"]
