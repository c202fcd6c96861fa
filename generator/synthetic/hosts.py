"""A synthetic person's computer as the installation test sees it: the demo's live posts.

The demo posts what the real installation test would send (docs/install-test.md), so it runs
the test's own checks (``installdata/installtest/``) against a ``SimulatedHost``, which
answers their questions (what is on PATH, what ``--version`` prints, whether an import
works) from one synthetic run (``learners.py``): a tool that passed there is installed at
its version, one that failed is missing or broken the way its error text says. Check names,
versions, the messages with their causes and the payload's lists are then the test's own;
the system fields are the synthetic machine's, as the reference client would read them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, TypedDict

from generator.synthetic.learners import Attempt, Payload, Person
from installdata.installtest.checks import KNOWN_CHECKS, Check
from installdata.installtest.probe import Host, Ran
from installdata.installtest.script import CHECKS, entries, run_checks

_KNOWN = {check["name"]: check for check in KNOWN_CHECKS}
_BY_LOWER_NAME = {name.lower(): check for name, check in _KNOWN.items()}
_ALTERNATIVES = {name for check in KNOWN_CHECKS for name in check.get("alternatives", [])}
_PERSONAL = ("workshop_id", "email_id")  # the test passes these to the client on their own
_ON_PATH = {"Windows": "C:\\ProgramData\\chocolatey\\bin\\{}.exe", "*": "/usr/bin/{}"}
_THERE_ALREADY = {"Darwin": {"safari": "18.1", "zsh": "5.9"}}  # before anyone installs a thing


class Results(TypedDict):
    """What the installation test hands the reference client for one run."""

    successful_installs: list[dict[str, Any]]
    failed_installs: list[dict[str, Any]]
    user_system_info: dict[str, str | None]
    workshop_id: str | None
    email: str | None


@dataclass(frozen=True)
class _Installed:
    """One check's tool or package on the simulated computer."""

    version: str | None
    broken: str | None = None  # what it prints instead of its version (None: it works)


@dataclass
class SimulatedHost(Host):
    """The computer of one synthetic run: its system fields, home folder and installed things.

    A tool lives where the test looks on that system first: its Windows path or macOS
    application if the check names one (Git for Windows, ``/Applications/Firefox.app``), else
    on PATH.
    """

    info: dict[str, str | None]
    home_folder: str
    installed: dict[str, _Installed] = field(default_factory=dict)  # by check name
    places: dict[str, str] = field(default_factory=dict)  # path -> check name

    def install(self, check: Check, version: str | None, broken: str | None = None) -> None:
        """Put ``check``'s tool or package on this computer (a broken tool is one that runs)."""
        places = self._places(check.get("paths", [])) + self._places(check.get("apps", []))
        if not places and check.get("commands"):
            places = [_ON_PATH.get(self.system(), _ON_PATH["*"]).format(check["commands"][0])]
        if broken:  # an application is found, never run: only a command can show it broken
            places = [place for place in places if not self._is_app(check, place)]
        if check["kind"] == "command" and not places:
            return
        self.installed[check["name"]] = _Installed(version, broken)
        if places:
            self.places[places[0]] = check["name"]

    def system(self) -> str:
        return self.info["system"] or ""

    def python(self) -> tuple[str, str]:
        return self.info["python_version"] or "", "python"

    def environ(self) -> dict[str, str]:
        if self.system() != "Windows":
            return {}
        return {
            "ProgramFiles": "C:\\Program Files",
            "ProgramFiles(x86)": "C:\\Program Files (x86)",
            "LOCALAPPDATA": self.home_folder + "\\AppData\\Local",
        }

    def home(self) -> str:
        return self.home_folder

    def which(self, command: str) -> str | None:
        path = _ON_PATH.get(self.system(), _ON_PATH["*"]).format(command)
        return path if path in self.places else None

    def exists(self, path: str) -> bool:
        return path in self.places

    def app_version(self, app: str) -> str | None:
        """A macOS application's version (its Info.plist); a Windows one says none."""
        return self.installed[self.places[app]].version if app.endswith(".app") else None

    def registry_value(self, root: str, key: str, value: str) -> str | None:
        return None

    def run(self, argv: list[str], stdin: str | None, timeout: float, shown: str) -> Ran:
        if argv[1:2] == ["-c"]:  # the test's import probe: argv[3] names the module
            return self._import(argv[3])
        tool = self.installed[self.places[argv[0]]]
        if tool.broken:
            return Ran(1, tool.broken + "\n", tool.broken + "\n")
        if tool.version is None:
            return Ran(0, "", "")  # answers, but with no version the test can read
        said = f"MAKE_VERSION={tool.version}" if self.places[argv[0]] == "make" else tool.version
        return Ran(0, said + "\n", "")

    def _places(self, templates: list[str]) -> list[str]:
        """The templates the test would look at on this system, filled in (as ``probe``)."""
        system, variables = self.system(), {**self.environ(), "HOME": self.home_folder}
        return [
            template.format_map(variables)
            for template in templates
            if ("\\" in template) == (system == "Windows")
            and template.endswith(".app") == (system == "Darwin")
        ]

    def _is_app(self, check: Check, place: str) -> bool:
        return place in self._places(check.get("apps", []))

    def _import(self, module: str) -> Ran:
        name = next((n for n in self.installed if _KNOWN[n].get("module") == module), None)
        if name is None:  # what the probe prints when the package is not installed at all
            said = f"ModuleNotFoundError: No module named '{module}'\n"
            return Ran(1, said, said)
        package = self.installed[name]
        if package.broken:
            said = (
                'Traceback (most recent call last):\n  File "<string>", line 4, in <module>\n'
                f"{package.broken}\n"
            )
            return Ran(1, said, said)
        return Ran(0, "\n" + json.dumps([package.version, None]) + "\n", "")


def simulated_host(person: Person, attempt: Attempt) -> SimulatedHost:
    """The computer as it was for ``attempt``: what passed works; what failed is missing, or
    there at its old version when the script found it outdated, or there but broken (it
    prints its error, e.g. macOS's ``xcrun: error: invalid active developer path``)."""
    info = attempt.payload["user_system_info"]
    host = SimulatedHost({k: v for k, v in info.items() if k not in _PERSONAL}, person.home)
    for name, version in _THERE_ALREADY.get(host.system(), {}).items():
        host.install(_KNOWN[name], version)
    for entry in attempt.payload["successful_installs"]:
        check = _check_for(entry["name"])
        if check:
            # The older scripts passed a package whose version they could not read; the test
            # would call that outdated, so it gets a version that passes: the minimum.
            known = entry["version"] not in (None, "unknown")
            host.install(check, entry["version"] if known else check.get("minimum"))
    for entry in attempt.payload["failed_installs"]:
        check, error = _check_for(entry["name"]), entry["error_description"] or ""
        if check is None or _means_missing(check, error):
            continue
        outdated = error.startswith("outdated version")
        host.install(check, entry["version"], None if outdated else _broken(error))
    return host


def install_test_results(person: Person, attempt: Attempt) -> Results:
    """What the installation test would send for ``attempt``, run on its simulated computer.

    The workshop's list of checks is the test's default list (``CHECKS``) as far as the run
    covered it, then the run's other checks the test knows (e.g. ``notebook``).
    """
    host = simulated_host(person, attempt)
    names = [name for name in CHECKS if _covered(name, attempt)]
    names += [
        check["name"]
        for check in KNOWN_CHECKS
        if check["name"] not in CHECKS
        and check["name"] not in _ALTERNATIVES
        and _covered(check["name"], attempt)
    ]
    passed, failed = entries(list(run_checks(names, host)))
    info = attempt.payload["user_system_info"]
    return {
        "successful_installs": passed,
        "failed_installs": failed,
        "user_system_info": host.info,
        "workshop_id": info.get("workshop_id"),
        "email": info.get("email_id"),
    }


def install_test_payload(person: Person, attempt: Attempt) -> Payload:
    """``install_test_results`` as the reference client sends them: the workshop and e-mail
    address inside ``user_system_info`` (docs/protocol.md). For files dropped in directly."""
    results = install_test_results(person, attempt)
    info = {
        **results["user_system_info"],
        "workshop_id": results["workshop_id"],
        "email_id": results["email"],
    }
    return {
        "successful_installs": results["successful_installs"],
        "failed_installs": results["failed_installs"],
        "user_system_info": info,
    }


def _covered(name: str, attempt: Attempt) -> bool:
    """The run checked this (or, for an ``any``, one of its alternatives)."""
    wanted = {name, *_KNOWN[name].get("alternatives", [])}
    payload = attempt.payload
    checked = payload["successful_installs"] + payload["failed_installs"]
    return any(
        (check := _check_for(entry["name"])) and check["name"] in wanted for entry in checked
    )


def _check_for(name: str | None) -> Check | None:
    """The test's check for a synthetic name: "Git (git)" -> git, "IPython (ipython)" -> IPython."""
    key = (name or "").rpartition("(")[2].rstrip(")").strip().lower()
    return _BY_LOWER_NAME.get(key)


def _means_missing(check: Check, error: str) -> bool:
    if check["kind"] == "package":
        module = check.get("module", check["name"])
        return f"No module named '{module}'" in error
    return error.startswith("could not find")


def _broken(error: str) -> str:
    """What a broken tool prints: "could not run 'git --version': xcrun: ..." -> "xcrun: ..."."""
    return error.split(": ", 1)[-1] if error.lower().startswith("could not run") else error
