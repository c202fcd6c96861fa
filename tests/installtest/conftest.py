"""The published installation test, assembled once and run as learners run it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.install_test import assemble


@pytest.fixture(scope="session")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``install-test.py`` exactly as the site publishes it, here with no collector in it."""
    path = tmp_path_factory.mktemp("published") / "install-test.py"
    path.write_text(assemble(None, None), encoding="utf-8")
    return path


@dataclass
class Ran:
    status: int
    out: str
    seconds: float


class Machine:
    """A learner's machine: a PATH of fake tools, fake packages, a config folder of its own."""

    def __init__(self, root: Path) -> None:
        self.root, self.bin, self.packages = root, root / "bin", root / "packages"
        self.bin.mkdir()
        self.packages.mkdir()

    def tool(self, name: str, script: str) -> None:
        """A fake executable: a shell script (print a version, nothing, hang, fail...)."""
        path = self.bin / name
        path.write_text("#!/bin/sh\n" + script + "\n", encoding="utf-8")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)

    def package(self, name: str, init: str) -> None:
        (self.packages / name).mkdir()
        (self.packages / name / "__init__.py").write_text(init, encoding="utf-8")

    def run(self, script: Path, *args: str, python: str = sys.executable, **env: str) -> Ran:
        environ = {
            "PATH": str(self.bin),
            "PYTHONPATH": str(self.packages),
            "XDG_CONFIG_HOME": str(self.root / "config"),
            "HOME": str(self.root),
            "NO_COLOR": "1",
            "INSTALL_TEST_TIMEOUT": "2",
            **env,
        }
        if "SYSTEMROOT" in os.environ:
            environ["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
        started = time.monotonic()
        done = subprocess.run(
            [python, str(script), *args],
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
            cwd=self.root,
        )
        return Ran(done.returncode, done.stdout, time.monotonic() - started)


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    return Machine(tmp_path)
