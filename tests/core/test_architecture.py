"""The shape of the tree (docs/architecture.md): one core, two programs that never meet.

``collector`` (the web service) and ``generator`` (the report) import the core,
``installdata``, and never each other; the core imports neither. The generator does not
read the collector's files either (it assembles the installation test from the core's
``installdata/installtest/``, which needs nothing but the standard library). The
collector's server never loads the report's heavy libraries, and no module grows past what
a newcomer can read in one sitting.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from support import REPO_ROOT
from support.collector_process import start, write_config
from support.commands import run_python
from support.files import write_submission
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
LONG_BY_DESIGN = {"installdata/installtest/client.py"}
INSTALL_TEST = "installdata.installtest"  # leaves the project: standard library only


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


def test_what_runs_on_learners_computers_needs_only_the_standard_library() -> None:
    folder = REPO_ROOT / INSTALL_TEST.replace(".", "/")
    outside = [
        f"{path.relative_to(REPO_ROOT)} imports {module}"
        for path in sorted(folder.glob("*.py"))
        for module in _modules_imported(path)
        if module.split(".")[0] not in sys.stdlib_module_names
        and not (module == INSTALL_TEST or module.startswith(INSTALL_TEST + "."))
    ]
    assert outside == []


def _modules_imported(path: Path) -> set[str]:
    """Full module names (``installdata.config``, not ``installdata``), unlike ``imported``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


WATCH_FILES = """\
import os, sys
root = sys.argv.pop(1)
def watch(event, args):
    if event in ("open", "os.listdir", "os.scandir") and isinstance(args[0], (str, bytes)):
        path = os.path.abspath(os.fsdecode(args[0]))
        if os.path.commonpath([root, path]) == root:
            os.write(2, ("TOUCHED " + os.path.relpath(path, root) + "\\n").encode())
    elif event == "import":
        os.write(2, ("IMPORTED " + args[0] + "\\n").encode())
sys.addaudithook(watch)
from generator.__main__ import main
sys.exit(main())
"""


def test_the_generator_never_reads_the_collectors_files(tmp_path: Path) -> None:
    """A real build that publishes the installation test, every file it opens listed."""
    write_submission(tmp_path / "submissions")
    config = tmp_path / "config.yaml"
    config.write_text(
        "generator:\n  install_test: {url: 'https://results.example.org', key: k}\n",
        encoding="utf-8",
    )
    done = run_python(
        "-c", WATCH_FILES, str(REPO_ROOT), "build", "--config", str(config),
        "--submissions", str(tmp_path / "submissions"), "--site", str(tmp_path / "site"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    touched = {line.split(" ", 1)[1] for line in lines if line.startswith("TOUCHED ")}
    imports = {line.split(" ", 1)[1] for line in lines if line.startswith("IMPORTED ")}
    assert "installdata/installtest/probe.py" in touched  # the listing is real
    assert (tmp_path / "site" / "install-test.py").is_file()
    assert sorted(path for path in touched if path.split("/")[0] == "collector") == []
    assert sorted(name for name in imports if name.split(".")[0] == "collector") == []


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
