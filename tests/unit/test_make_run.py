"""`make run` sets itself up on a fresh clone: the sandbox's Teams page needs Microsoft's Adaptive
Cards renderer (sandbox/teams/web/node_modules), so the run target installs it as well as .venv."""

from __future__ import annotations

from pathlib import Path

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"


def _prerequisites(target: str) -> list[str]:
    for line in MAKEFILE.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{target}:"):
            return line.split(":", 1)[1].split("#", 1)[0].split()
    raise AssertionError(f"no {target} target in the Makefile")


def test_make_run_installs_the_teams_pages_card_renderer_on_a_fresh_clone() -> None:
    """Without it /teams/static/adaptivecards.js is a 404 and the Teams page stays at 'loading'."""
    assert "$(WEB)/node_modules/.installed" in _prerequisites("run")
    assert "$(VENV)/.installed" in _prerequisites("run")
