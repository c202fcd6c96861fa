"""The shape of the tree (docs/architecture.md): one core, two programs that never meet.

``collector`` (the web service) and ``generator`` (the report) import the core,
``installdata``, and never each other; the core imports neither. The collector's server
never loads the report's heavy libraries, and no module grows past what a newcomer can
read in one sitting.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support import REPO_ROOT
from support.collector_process import start, write_config
from support.imports import imported
from support.web import post_json

PACKAGES = ("installdata", "collector", "generator")
FORBIDDEN = {
    "installdata": {"collector", "generator"},
    "collector": {"generator"},
    "generator": {"collector"},
}
HEAVY = ("pandas", "numpy", "matplotlib", "jinja2")
MAX_LINES = 400
# The vendorable client is one file on purpose: installer scripts copy it whole.
LONG_BY_DESIGN = {"collector/client.py"}


def modules() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (REPO_ROOT / package).rglob("*.py"))


def test_the_walk_sees_every_kind_of_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os.path\nfrom collector.app import x\ndef f():\n    import generator.build\n"
    )
    assert imported(sample) == {"os", "collector", "generator"}


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_edge_between_the_programs(package: str) -> None:
    edges = [
        f"{path.relative_to(REPO_ROOT)} imports {name}"
        for path in modules()
        if path.is_relative_to(REPO_ROOT / package)
        for name in sorted(imported(path) & FORBIDDEN[package])
    ]
    assert edges == []


def test_no_module_is_too_long_to_read() -> None:
    long = {
        str(path.relative_to(REPO_ROOT)): lines
        for path in modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert set(long) <= LONG_BY_DESIGN, long


def test_serving_never_loads_the_reports_libraries(tmp_path: Path) -> None:
    """The real ``python -m collector serve``, one submission stored, its imports listed."""
    write_config(tmp_path)
    running = start(tmp_path, env={"PYTHONPROFILEIMPORTTIME": "1"})
    try:
        status, _, _ = post_json(
            running.url + "/api/v1/submissions",
            {"successful_installs": [{"name": "git", "version": "2.39.2"}]},
            key=running.key,
        )
        assert status == 200
    finally:
        running.stop()
    lines = running.stderr_path.read_text(encoding="utf-8").splitlines()
    loaded = {line.split("|")[-1].strip() for line in lines if line.startswith("import time:")}
    assert {"bottle", "waitress", "installdata.config"} <= loaded  # the listing is real
    assert sorted(name for name in loaded if name.split(".")[0] in HEAVY) == []
