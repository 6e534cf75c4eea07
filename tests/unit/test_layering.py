"""Which package may import which: Teams never leans on Slack, the core on no adapter, store or scheduler."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = ("handlers.slack", "handlers.teams")
ENTRY_POINTS = ("bootstrap.py", "cli")  # handlers/: they build and start the adapters, on demand
# (cli is a package: one module per command group)
OUTER = ("store", "scheduler", "handlers", "sandbox")  # the core knows none of them


def _imports(path: Path, *, top_level_only: bool = False) -> set[str]:
    """Every module ``path`` imports (``from X import Y`` gives X and X.Y)."""
    tree = ast.parse(path.read_text(), str(path))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def _entry_files(name: str) -> list[Path]:
    """An entry point's files: the module itself, or every module of the package."""
    path = ROOT / "handlers" / name
    return [path] if path.is_file() else sorted(path.glob("*.py"))


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_no_teams_module_imports_anything_from_the_slack_adapter() -> None:
    teams = sorted((ROOT / "handlers" / "teams").glob("*.py"))
    assert teams
    leaning = {p.name: sorted(m for m in _imports(p) if _under(m, "handlers.slack")) for p in teams}
    assert {k: v for k, v in leaning.items() if v} == {}


def test_the_core_imports_neither_chat_adapter() -> None:
    core = sorted((ROOT / "bot").rglob("*.py"))
    assert core
    leaning = {p.name: sorted(m for m in _imports(p) if any(_under(m, a) for a in ADAPTERS))
               for p in core}
    assert {k: v for k, v in leaning.items() if v} == {}


def test_entry_points_import_an_adapter_only_when_starting_it() -> None:
    files = [f for name in sorted(ENTRY_POINTS) for f in _entry_files(name)]
    assert len(files) > 2
    for path in files:
        top = _imports(path, top_level_only=True)
        assert not [m for m in top if any(_under(m, a) for a in ADAPTERS)], path.name


def test_no_core_module_imports_store_scheduler_handlers_or_sandbox() -> None:
    core = sorted((ROOT / "bot").rglob("*.py"))
    assert len(core) > 20
    leaning = {str(p.relative_to(ROOT)): sorted(m for m in _imports(p) if any(_under(m, o) for o in OUTER))
               for p in core}
    assert {k: v for k, v in leaning.items() if v} == {}


def test_the_composition_root_lives_outside_the_core() -> None:
    assert not [n for n in (*ENTRY_POINTS, "cli.py") if (ROOT / "bot" / n).exists()]
    assert all(_entry_files(n) for n in ENTRY_POINTS)


def test_shared_wording_lives_outside_both_adapters() -> None:
    shared = _imports(ROOT / "handlers" / "common.py")
    assert not [m for m in shared if any(_under(m, a) for a in ADAPTERS)]
