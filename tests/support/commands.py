"""The project's command lines run as subprocesses of the checkout, as a person runs them.

    done = run_python("-m", "collector", "forget", "--config", str(config), "--user-id", uid)
    assert done.returncode == 0, done.stderr

Output is captured as text and the exit code is left to the test to judge: a refusal is as
much a result as a success. The long-running server has its own helper (collector_process).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from support import REPO_ROOT


def run_python(
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    cwd: Path = REPO_ROOT,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``python *args`` in the checkout; ``env`` replaces the environment when given."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=None if env is None else dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def build_with(root: Path, generator_config: str = "") -> Path:
    """``generator build`` of ``root/submissions`` into ``root/site`` (returned), with a
    config of a title and ``generator_config`` (YAML lines of the generator section)."""
    config = root / "config.yaml"
    config.write_text(f"generator:\n  title: T\n{generator_config}", encoding="utf-8")
    site = root / "site"
    done = run_python("-m", "generator", "build", "--config", str(config),
                      "--submissions", str(root / "submissions"), "--site", str(site))  # fmt: skip
    assert done.returncode == 0, done.stderr
    return site
