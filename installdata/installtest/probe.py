"""Running the installation test's checks: commands with a time limit, imports in a child.

Part of the published ``install-test.py`` (docs/install-test.md), between the check table
(``checks.py``) and the report (``script.py``). Every command runs with a timeout and is
stopped with its children when it hangs; a failure keeps its causes, and its version is the
one found for that check or None, never another's. Every question a check asks of the
computer goes through a ``Host``, so the same checks can run against a simulated one (the
demo's learners, ``generator/synthetic/hosts.py``) and report exactly as they would here.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import platform
import plistlib
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from installdata.installtest.checks import Check

COMMAND_TIMEOUT = 10.0  # seconds for one version command
IMPORT_TIMEOUT = 60.0  # seconds for one package import (matplotlib builds a font cache once)
TIMEOUT_ENV = "INSTALL_TEST_TIMEOUT"  # seconds, overriding both (tests, very slow machines)
DEFAULT_PATTERN = r"(\d+(?:\.\d+)*)"
_PROBE = """\
import importlib, json, sys
name, attribute, distribution = sys.argv[1:]
try:
    module = importlib.import_module(name)
except ModuleNotFoundError as missing:
    if missing.name != name:
        raise
    sys.exit("ModuleNotFoundError: " + str(missing))  # not installed: the traceback says no more
version = getattr(module, attribute, None)
if not isinstance(version, str):
    try:
        from importlib.metadata import version as installed
        version = installed(distribution)
    except Exception:
        version = None
print("\\n" + json.dumps([version, getattr(module, "__file__", None)]))
"""


class CheckFailed(Exception):
    """Why a check failed: a message, the failures under it, and the version found if any."""

    def __init__(
        self, message: str, causes: Sequence[str] = (), version: str | None = None
    ) -> None:
        super().__init__(message)
        self.message, self.causes, self.version = message, list(causes), version

    def text(self) -> str:
        """The whole message, causes included: what a failure's ``error_description`` holds."""
        lines = [self.message]
        if self.causes:
            lines.append("causes:")
            lines.extend("  " + line for cause in self.causes for line in cause.splitlines())
        return "\n".join(lines)


class Finding(NamedTuple):
    """The outcome of one check: ``error`` is None when it passed."""

    check: Check
    version: str | None
    where: str | None
    error: CheckFailed | None


class Ran(NamedTuple):
    status: int
    output: str  # stdout, then stderr
    stderr: str


class Host:
    """This computer, as the checks see it (asked at each call, so tests may patch ``platform``)."""

    def system(self) -> str:
        return platform.system()

    def python(self) -> tuple[str, str]:
        """The version and the executable of the Python running the test."""
        return platform.python_version(), sys.executable or "python"

    def environ(self) -> Mapping[str, str]:
        return os.environ

    def home(self) -> str:
        return os.path.expanduser("~")

    def which(self, command: str) -> str | None:
        return shutil.which(command)

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def run(self, argv: list[str], stdin: str | None, timeout: float, shown: str) -> Ran:
        return _run(argv, stdin, timeout, shown)

    def app_version(self, app: str) -> str | None:
        return _plist_version(app)

    def registry_value(self, root: str, key: str, value: str) -> str | None:
        return _registry_value(root, key, value)


THIS_COMPUTER = Host()


def full_name(check: Check) -> str:
    """The name as the Software Carpentry scripts printed it, e.g. "Git (git)", "make"."""
    long_name = check.get("long_name", check["name"])
    return check["name"] if long_name == check["name"] else f"{long_name} ({check['name']})"


def fix_url(check: Check, system: str) -> str:
    urls = check.get("urls", {})
    return urls.get(system) or urls.get("*") or "https://carpentries.org/workshops/"


def _timeout(default: float) -> float:
    try:
        return float(os.environ.get(TIMEOUT_ENV, default))
    except ValueError:
        return default


def _version_tuple(text: str) -> tuple[int, ...]:
    found = re.match(r"\d+(?:\.\d+)*", text.strip())
    return tuple(int(part) for part in found.group().split(".")) if found else ()


def _at_least(version: str, minimum: str) -> bool:
    have, need = _version_tuple(version), _version_tuple(minimum)
    width = max(len(have), len(need))
    return bool(have) and have + (0,) * (width - len(have)) >= need + (0,) * (width - len(need))


def run_check(
    check: Check, known: dict[str, Check], done: dict[str, Finding], host: Host = THIS_COMPUTER
) -> Finding:
    """Check one thing (its alternatives first, for an ``any``); each is checked at most once."""
    name = check["name"]
    if name not in done:
        try:
            version, where = _find(check, known, done, host)
            minimum = check.get("minimum")
            if minimum and (version is None or not _at_least(version, minimum)):
                shown = version or "unknown"
                message = f"outdated version of {full_name(check)}: {shown} (need >= {minimum})"
                raise CheckFailed(message, version=version)
            done[name] = Finding(check, version, where, None)
        except CheckFailed as failed:
            done[name] = Finding(check, failed.version, None, failed)
    return done[name]


def _find(
    check: Check, known: dict[str, Check], done: dict[str, Finding], host: Host
) -> tuple[str | None, str | None]:
    kind = check["kind"]
    if kind == "python":
        return host.python()
    if kind == "package":
        return _package_version(check, host)
    if kind == "command":
        return _command_version(check, host)
    causes = []
    for alternative in check.get("alternatives", []):
        found = run_check(known[alternative], known, done, host)
        if found.error is None:
            return f"{full_name(found.check)} {found.version or 'unknown'}", found.where
        causes.append(failure_block(found, host.system()))
    message = f"{full_name(check)} requires at least one of the following dependencies"
    raise CheckFailed(message, causes)


def _package_version(check: Check, host: Host) -> tuple[str | None, str | None]:
    module = check.get("module", check["name"])
    argv = [host.python()[1], "-c", _PROBE, module]
    argv += [check.get("attribute", "__version__"), check.get("distribution", module)]
    message = f"could not import the '{module}' package for {full_name(check)}"
    try:
        ran = host.run(argv, None, _timeout(IMPORT_TIMEOUT), f"import {module}")
    except CheckFailed as failed:
        raise CheckFailed(message, [failed.text()]) from None
    if ran.status != 0:
        raise CheckFailed(message, [ran.stderr.strip() or f"status: {ran.status}"])
    try:
        version, where = json.loads(ran.output.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise CheckFailed(f"no version found for {full_name(check)}", [ran.output]) from None
    return (version if isinstance(version, str) else None), where


def _command_version(check: Check, host: Host) -> tuple[str | None, str | None]:
    """Run the first command found that answers; else look for the application itself."""
    causes: list[str] = []
    args = check.get("args", ["--version"])
    system = host.system()
    for path in _executables(check, host, causes):
        shown = " ".join([path, *args])
        try:
            ran = host.run([path, *args], check.get("stdin"), _timeout(COMMAND_TIMEOUT), shown)
        except CheckFailed as failed:  # could not start, or hung: the next one may answer
            causes.append(failed.text())
            continue
        if ran.status != 0:
            causes.append(f"failed to execute: {shown}\nstatus: {ran.status}\n{ran.output}".strip())
            continue
        found = re.search(check.get("pattern", DEFAULT_PATTERN), ran.output)
        if found is None and check.get("minimum"):
            causes.append(f"no version string in the output of: {shown}\n{ran.output}".strip())
            continue
        return (found.group(1) if found else None), path
    for app in _existing(check.get("apps", []), host, causes):
        return host.app_version(app), app
    if system == "Windows":
        for root, key, value in check.get("registry", []):
            text = host.registry_value(root, key, value)
            if text:
                found = re.search(check.get("pattern", DEFAULT_PATTERN), text)
                return (found.group(1) if found else None), f"{root}\\{key}"
    if not causes:
        causes.append(f"nothing to look for on {system or 'this system'}")
    raise CheckFailed(f"errors finding {full_name(check)} version", causes)


def _executables(check: Check, host: Host, causes: list[str]) -> list[str]:
    found = []
    for command in check.get("commands", []):
        path = host.which(command)
        if path:
            found.append(path)
        else:
            causes.append(f"could not find '{command}' executable")
    return found + _existing(check.get("paths", []), host, causes)


def _existing(templates: list[str], host: Host, causes: list[str]) -> list[str]:
    """The paths that exist on this system; a Windows path (with ``\\``) only on Windows, a
    macOS application (``.app``) only on macOS, and none whose variable is unset."""
    found = []
    system = host.system()
    for template in templates:
        if ("\\" in template) != (system == "Windows") or template.endswith(".app") != (
            system == "Darwin"
        ):
            continue
        try:
            path = template.format_map(_Variables(host))
        except (KeyError, ValueError):
            continue
        if host.exists(path):
            found.append(path)
        else:
            causes.append(f"could not find '{path}'")
    return found


class _Variables:
    """A path template's variables: the environment as it is (case-blind on Windows)."""

    def __init__(self, host: Host) -> None:
        self.host = host

    def __getitem__(self, name: str) -> str:
        return self.host.home() if name == "HOME" else self.host.environ()[name]


def _plist_version(app: str) -> str | None:
    """An application bundle's version, from its Info.plist (XML or binary)."""
    try:
        with open(os.path.join(app, "Contents", "Info.plist"), "rb") as handle:
            version = plistlib.load(handle).get("CFBundleShortVersionString")
    except (OSError, ValueError, AttributeError, plistlib.InvalidFileException):
        return None
    return version if isinstance(version, str) else None


def _registry_value(root: str, key: str, value: str) -> str | None:
    try:
        winreg: Any = importlib.import_module("winreg")
        with winreg.OpenKey(getattr(winreg, root), key) as handle:
            return str(winreg.QueryValueEx(handle, value)[0])
    except (ImportError, OSError, AttributeError):
        return None


def _run(argv: list[str], stdin: str | None, timeout: float, shown: str) -> Ran:
    """Run one command with a time limit; a command that hangs is stopped with its children."""
    posix = os.name != "nt"
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=posix,  # its own process group, killed whole on a timeout
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise CheckFailed(f"could not run {shown}: {reason}") from None
    try:
        out, err = process.communicate(stdin.encode() if stdin is not None else None, timeout)
    except subprocess.TimeoutExpired:
        if posix:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.communicate(timeout=2)
        raise CheckFailed(f"no answer within {timeout:g} s from: {shown} (stopped it)") from None
    output, error = out.decode(errors="replace"), err.decode(errors="replace")
    return Ran(process.returncode, output + error, error)


def failure_block(finding: Finding, system: str) -> str:
    """A failure as the learner reads it: found, needed, the whole cause, where to read more."""
    assert finding.error is not None
    check, minimum = finding.check, finding.check.get("minimum")
    found = finding.version or "nothing usable"
    needed = f"version {minimum} or newer" if minimum else "any version"
    lines = [f"check for {full_name(check)} failed:", f"  found: {found}; needed: {needed}"]
    lines += ["  " + line for line in finding.error.text().splitlines()]
    lines += ["  For instructions on installing an up-to-date version, see"]
    return "\n".join([*lines, "  " + fix_url(check, system)])
