"""The layering of src/ (README "Layout"): each folder imports only from the folders below it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src"
# Folder -> the folders (and top-level modules) its modules may import from.
ALLOWED = {
    "formats": {"formats"},
    "core": {"core", "formats"},
    "mapping": {"mapping", "core", "formats"},
    "upstream": {"upstream", "mapping", "core", "formats"},
    "handlers": {"upstream", "mapping", "core", "formats"},
    "bridge": {"app", "mapping", "core"},
}
PLATFORM = {"js", "pyodide", "workers", "_pyodide_entrypoint_helper"}  # only bridge/ uses them
INTERNAL = {*ALLOWED, "app", "routes", "entry", "handlers"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


MODULES = sorted(p for p in SRC.rglob("*.py") if p.parent != SRC)


@pytest.mark.parametrize("path", MODULES, ids=[p.relative_to(SRC).as_posix() for p in MODULES])
def test_each_folder_imports_only_from_the_layers_below(path):
    folder = path.relative_to(SRC).parts[0]
    imported = _imports(path)
    assert imported & INTERNAL <= ALLOWED[folder], path
    if folder != "bridge":
        assert not imported & PLATFORM, f"{path}: only bridge/ may touch JavaScript"


def test_no_handler_imports_another_handler():
    for path in (SRC / "handlers").glob("*.py"):
        assert "handlers" not in _imports(path), path


def test_settings_are_parsed_once_per_request_by_the_pipeline():
    # Handlers read `call.settings`; a second parse in a handler is how AI_GATEWAY_ID was lost.
    parsers = [p for p in SRC.rglob("*.py") if "config.load(" in p.read_text()]
    assert [p.relative_to(SRC).as_posix() for p in parsers] == ["app.py"]


def test_workers_ai_is_run_in_one_place():
    runners = [p for p in SRC.rglob("*.py") if ".ai.run(" in p.read_text()]
    assert [p.relative_to(SRC).as_posix() for p in runners] == ["upstream/ai.py"]


def test_every_setting_the_worker_reads_is_documented_for_the_local_runtime():
    # runtime/settings.mjs lets the process environment override these (`API_KEYS=k make dev`);
    # core.config.NAMES is what the Worker reads. One list each side, kept equal here.
    from core import config

    text = (SRC.parent / "runtime" / "settings.mjs").read_text()
    block = text.split("DOCUMENTED_SETTINGS = Object.freeze([", 1)[1].split("])", 1)[0]
    assert sorted(re.findall(r'"([A-Z0-9_]+)"', block)) == sorted(config.NAMES)
