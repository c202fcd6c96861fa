"""The published file itself: standard library only, compiles on every Python from 3.8,
its macOS and Windows paths (platform functions replaced), and the site that publishes it."""

from __future__ import annotations

import glob
import importlib.util
import plistlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from generator.build import build_site
from generator.install_test import assemble
from installdata.config import GeneratorConfig, InstallTestConfig
from support.files import write_submission
from support.imports import imported

MINORS = range(8, 14)  # Python 3.8 to 3.13, as many as are installed here
PLACES = ("/root/.pyenv/versions/3.{minor}*/bin/python3.{minor}", "/usr/bin/python3.{minor}")


def test_it_imports_only_the_standard_library(script: Path) -> None:
    names = imported(script)
    assert names <= sys.stdlib_module_names  # __future__ is one of them
    assert {"urllib", "subprocess", "plistlib"} <= names  # the walk saw the real imports


def _interpreter(minor: int) -> str | None:
    for place in PLACES:
        found = sorted(glob.glob(place.format(minor=minor)))
        if found:
            return found[-1]
    return None


@pytest.mark.parametrize("minor", MINORS, ids=[f"python3.{minor}" for minor in MINORS])
def test_it_compiles_and_runs_under_each_python(minor: int, script: Path, tmp_path: Path) -> None:
    python = _interpreter(minor)
    if python is None:
        pytest.skip(f"no Python 3.{minor} installed here (looked at {', '.join(PLACES)})")
    print(f"compiled with {python}")
    subprocess.run([python, "-m", "py_compile", str(script)], check=True, timeout=60)
    ran = subprocess.run(
        [python, str(script), "--only", "python", "--no-submit", "--json", "out.json"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "check Python version (python)...".ljust(48) + f" pass  3.{minor}." in ran.stdout


@pytest.fixture
def published(script: Path) -> ModuleType:
    """The published file loaded as a module, to replace what it asks the platform."""
    spec = importlib.util.spec_from_file_location("published_install_test", script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_macos_app_bundles_give_their_version(
    published: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(published.platform, "system", lambda: "Darwin")
    app = tmp_path / "Safari.app"
    (app / "Contents").mkdir(parents=True)
    with (app / "Contents" / "Info.plist").open("wb") as handle:
        plistlib.dump({"CFBundleShortVersionString": "17.1"}, handle, fmt=plistlib.FMT_BINARY)
    safari = {"name": "safari", "long_name": "Safari", "kind": "command", "commands": [],
              "apps": [str(app), "C:\\\\not\\\\on\\\\macOS.exe"]}  # fmt: skip
    found = published.run_check(safari, {}, {})
    assert (found.version, found.where, found.error) == ("17.1", str(app), None)
    make = next(check for check in published.KNOWN_CHECKS if check["name"] == "make")
    assert published.fix_url(make, "Darwin") == "https://developer.apple.com/xcode/resources/"
    missing = published.run_check({**safari, "apps": [str(tmp_path / "No.app")]}, {}, {})
    assert f"could not find '{tmp_path / 'No.app'}'" in missing.error.text()


class FakeRegistry(SimpleNamespace):
    """What ``winreg`` answers for one value."""

    HKEY_LOCAL_MACHINE = "HKLM"

    def __init__(self, values: dict[tuple[str, str, str], str]) -> None:
        super().__init__(values=values, opened=None)

    def OpenKey(self, root: str, key: str) -> Any:
        if not any(found[:2] == (root, key) for found in self.values):
            raise FileNotFoundError(key)
        self.opened = (root, key)
        return self

    def QueryValueEx(self, handle: Any, name: str) -> tuple[str, int]:
        return self.values[(*self.opened, name)], 1

    def __enter__(self) -> FakeRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def test_windows_program_files_and_registry(
    published: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(published.platform, "system", lambda: "Windows")
    monkeypatch.setattr(published.shutil, "which", lambda name: None)  # not on PATH
    monkeypatch.setenv("ProgramFiles", str(tmp_path / "PF"))
    monkeypatch.delenv("LOCALAPPDATA", raising=False)
    registry = {("HKLM", "SOFTWARE\\Mozilla\\Mozilla Firefox", "CurrentVersion"): "128.0 (x64)"}
    monkeypatch.setitem(sys.modules, "winreg", FakeRegistry(registry))
    firefox = next(check for check in published.KNOWN_CHECKS if check["name"] == "firefox")
    found = published.run_check(firefox, {}, {})
    assert (found.version, found.error) == ("128.0", None)  # from the registry
    exe = tmp_path / "PF\\Mozilla Firefox\\firefox.exe"  # one file name here, a path there
    exe.write_text("")
    found = published.run_check(firefox, {}, {})
    assert (found.version, found.where, found.error) == (None, str(exe), None)
    monkeypatch.setitem(sys.modules, "winreg", FakeRegistry({}))
    exe.unlink()
    failed = published.run_check(firefox, {}, {}).error.text()
    assert f"could not find '{exe}'" in failed and "Firefox.app" not in failed
    monkeypatch.setattr(published.platform, "win32_ver", lambda: ("10", "10.0.22631", "", ""))
    assert published.system_info()["distribution_name"] == "Windows"
    assert published.system_info()["distribution_version"] == "11"


def test_colour_only_on_a_terminal_without_no_color(published: Any) -> None:
    terminal = SimpleNamespace(isatty=lambda: True)
    assert published.colour_enabled(terminal, {"TERM": "xterm"})
    assert not published.colour_enabled(terminal, {"TERM": "xterm", "NO_COLOR": ""})
    assert not published.colour_enabled(terminal, {"TERM": "dumb"})
    assert not published.colour_enabled(SimpleNamespace(isatty=lambda: False), {})


def test_the_site_publishes_it_only_when_configured(tmp_path: Path) -> None:
    write_submission(tmp_path / "submissions", workshop_id="2026-11-room-7")
    with_it = InstallTestConfig(url="https://results.example.org", key="spring-2026")
    for name, install_test in (("with", with_it), ("without", None)):
        site = tmp_path / name
        config = GeneratorConfig(
            submissions_dir=tmp_path / "submissions", site_dir=site, install_test=install_test
        )
        assert build_site(config) == 0
        published = site / "install-test.py"
        assert published.exists() == (install_test is not None)
        submit = (site / "submit.html").read_text(encoding="utf-8")
        (workshop,) = (site / "workshops").glob("2026-*.html")
        assert ('href="install-test.py"' in submit) == (install_test is not None), name
        shown = "<code>python install-test.py --workshop 2026-11-room-7</code>"
        assert (shown in workshop.read_text(encoding="utf-8")) == (install_test is not None)
    text = (tmp_path / "with" / "install-test.py").read_text(encoding="utf-8")
    assert text == assemble("https://results.example.org", "spring-2026")
    assert "COLLECTOR_URL: str | None = 'https://results.example.org'" in text
    assert "SUBMISSION_KEY: str | None = 'spring-2026'" in text


def test_two_parts_defining_one_name_are_refused(tmp_path: Path) -> None:
    from generator.install_test import PARTS, SOURCES

    for name in PARTS:
        (tmp_path / name).write_text((SOURCES / name).read_text(encoding="utf-8"))
    with (tmp_path / "probe.py").open("a") as handle:
        handle.write("\n\ndef submit() -> None:\n    pass\n")
    with pytest.raises(ValueError, match="both define submit"):
        assemble(None, None, tmp_path)
