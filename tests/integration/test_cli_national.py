"""`baton org check` at national size (issue 24): before go-live it warns of every choice list
or message that would meet a platform's limit for this org."""

from __future__ import annotations

from pathlib import Path

import yaml

from sandbox.national import national_data
from tests.integration.test_cli import env, run  # noqa: F401  (env is a fixture)


def test_org_check_warns_of_the_type_ahead_long_names_and_a_cut_weekly_digest(
        env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    data = national_data(teams=600, people=1200)
    data["teams"][3]["name"] = "Greater Manchester Integrated Offender Management and Approved Premises Unit"
    org = tmp_path / "national.yml"
    org.write_text(yaml.safe_dump(data, sort_keys=False))
    code, out, err = run(env, "org", "check", str(org))
    assert code == 0 and "600 teams" in out
    assert "warning: limits: raise form: up to 599 teams can take a transfer" in err
    assert "message_menu_options_url" in err
    assert "over Slack's 75 characters an option are cut in its pickers (the id then shown under them): " \
           "pdu-004" in err
    assert "weekly digest on Slack: 460 of 600 teams' lines fit one message" in err
    assert "weekly digest on Teams:" in err


def test_org_check_is_quiet_about_limits_for_the_demo_org(env: dict[str, str]) -> None:  # noqa: F811
    demo = Path(__file__).parents[2] / "policies" / "demo-org.yml"
    code, _, err = run(env, "org", "check", str(demo))
    assert code == 0 and "limits:" not in err
