"""People, their workshops and their runs of the script: what each check reports and why.

A person belongs to a workshop (or to none), has one machine (``machines``), and runs the
script one to three times, fixing some failures in between. Error texts are built the way
the real script words them, with the person's own paths in them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from generator.synthetic.machines import (
    CORE,
    DEFAULT_FAILURE,
    EXTRAS,
    FAILURE,
    MINIMUM,
    PYTHON_MODULES,
    PYTHONS,
    REGRESSION_DAYS,
    REGRESSION_ERROR,
    REGRESSION_PACKAGE,
    REGRESSION_SHARE,
    REGRESSION_VERSION,
    VERSIONS,
    System,
    is_older,
    package_list,
    pick_system,
    recent_index,
)

SPAN = timedelta(days=730)
RERUN_SHARE_WITH_FAILURES = 0.45
RERUN_SHARE_WITHOUT_FAILURES = 0.1
FIX_PROBABILITY = 0.7  # each failure is fixed before a re-run with this probability
NO_ENVIRONMENT = 0.08  # share of people who never installed Anaconda: no Python packages
REGRESSION_FROM = 1 - timedelta(days=REGRESSION_DAYS) / SPAN  # a position (see _Learner)

_FIRST_NAMES = str.split(
    "amina aaron ana anders beatriz bjorn carlos chen chiara dmitri elif emma fatima femi "
    "giulia hana hiro ines ivan jakob jane jsmith kemal kofi lars leila lucia maria mateo "
    "mehmet mei nadia naveen nikos noura olga omar paula pedro priya rahul rosa sam sara "
    "sipho sofia tariq thandi tomas wei yara yusuf zainab zoe"
)
_CITIES = str.split(
    "oslo bergen uppsala helsinki tartu berlin potsdam leiden ghent lyon madrid porto pisa "
    "krakow brno vienna zurich london leeds glasgow dublin toronto boston austin denver "
    "seattle mexico bogota lima santiago saopaulo capetown nairobi accra lagos kampala "
    "cairo istanbul pune delhi dhaka singapore manila tokyo sydney perth auckland online"
)
_WORKSHOP_KINDS = ["", "", "ttt-", "dc-", "swc-", "lc-", "hpc-"]
_EMAIL_DOMAINS = ["example.org", "uni.example.edu", "example.ac.uk", "mail.example.com"]


class Payload(TypedDict):
    """The body an installer POSTs (docs/protocol.md), without ``unique_user_id``."""

    user_system_info: dict[str, str | None]
    successful_installs: list[dict[str, str | None]]  # name, version
    failed_installs: list[dict[str, str | None]]  # name, version, error_description


@dataclass(frozen=True)
class Attempt:
    """One run of the installation test script, as the installer would POST it."""

    received_at: datetime
    payload: Payload
    lost_id: bool = False  # the id file was lost before this run, so the server issues a new id


@dataclass(frozen=True)
class Person:
    """One learner (or helper) and every run they made, oldest first."""

    username: str
    attempts: tuple[Attempt, ...]
    home: str  # their home folder, as the paths in their error texts show it


class Workshops:
    """A pool of workshops, busier towards ``end``, each with the package list it checks."""

    def __init__(self, rng: random.Random, end: datetime, count: int) -> None:
        self.entries: list[tuple[str, datetime, list[str]]] = []
        seen: set[str] = set()
        while len(self.entries) < count:
            day = _recent_time(rng, end).replace(hour=0, minute=0, second=0, microsecond=0)
            name = f"{day:%Y-%m-%d}-{rng.choice(_WORKSHOP_KINDS)}{rng.choice(_CITIES)}"
            if name not in seen:
                seen.add(name)
                self.entries.append((name, day, package_list(rng)))
        self.default_packages = CORE + EXTRAS[:3]

    def pick(self, rng: random.Random) -> tuple[str, datetime, list[str]]:
        return rng.choice(self.entries)


def draw_person(rng: random.Random, workshops: Workshops, end: datetime) -> Person:
    """One person with a machine, maybe a workshop, and one to three runs in time order."""
    username = rng.choice(_FIRST_NAMES) + (str(rng.randrange(100)) if rng.random() < 0.3 else "")
    if rng.random() < 0.8:
        workshop, day, packages = workshops.pick(rng)
        before = timedelta(days=min(14.0, rng.expovariate(1 / 4)), seconds=rng.randrange(86400))
        latest = end - timedelta(seconds=rng.randrange(1, 86400))
        first = max(end - SPAN, min(day - before, latest))
    else:
        workshop, packages = None, workshops.default_packages
        first = _recent_time(rng, end)
    position = 1 - (end - first) / SPAN  # 0 two years ago, 1 now: newer versions later
    python = PYTHONS[recent_index(rng, len(PYTHONS), position)]
    system = pick_system(rng, python, position)
    email = f"{username}@{rng.choice(_EMAIL_DOMAINS)}" if rng.random() < 0.12 else None
    info = {**system.info, "python_version": python, "workshop_id": workshop, "email_id": email}
    person = _Learner(rng, system, python, username, position, rng.random() >= NO_ENVIRONMENT)
    results = {name: person.check(name) for name in packages}
    attempts = [Attempt(first, _payload(info, results))]

    failing = any(error is not None for _, error in results.values())
    rerun_share = RERUN_SHARE_WITH_FAILURES if failing else RERUN_SHARE_WITHOUT_FAILURES
    runs = 1 + (rng.random() < rerun_share) * (2 if rng.random() < 0.3 else 1)
    when = first
    for _ in range(runs - 1):
        when = min(when + timedelta(minutes=rng.expovariate(1 / 600)), end - timedelta(seconds=1))
        for name, (_version, error) in list(results.items()):
            if error is not None and rng.random() < FIX_PROBABILITY:
                results[name] = (person.version(name, newest=True), None)
        rerun_info = info if rng.random() >= 0.1 else {**info, "workshop_id": None}
        attempts.append(Attempt(when, _payload(rerun_info, results), lost_id=rng.random() < 0.08))
    return Person(username, tuple(attempts), system.home.format(user=username))


def _payload(
    info: dict[str, str | None], results: dict[str, tuple[str | None, str | None]]
) -> Payload:
    successful: list[dict[str, str | None]] = []
    failed: list[dict[str, str | None]] = []
    for name, (version, error) in results.items():
        if error is None:
            successful.append({"name": name, "version": version})
        else:
            failed.append({"name": name, "version": version, "error_description": error})
    return {
        "user_system_info": dict(info),
        "successful_installs": successful,
        "failed_installs": failed,
    }


@dataclass(frozen=True)
class _Learner:
    """What decides one person's check results: their machine and how prepared they are."""

    rng: random.Random
    system: System
    python: str
    user: str
    position: float  # where in the two years they ran the script (0..1)
    environment: bool  # False: never installed Anaconda, so no Python package imports

    def check(self, name: str) -> tuple[str | None, str | None]:
        """Return (version, error description or None) for one check of one package."""
        rng = self.rng
        version = self.version(name)
        if name in PYTHON_MODULES and not self.environment:
            module = PYTHON_MODULES[name]
            return rng.choice(["unknown", None]), rng.choice(
                [
                    f"ModuleNotFoundError: No module named '{module}'",
                    f"ImportError: No module named '{module}'",
                ]
            )
        if (
            name == REGRESSION_PACKAGE
            and self.position >= REGRESSION_FROM
            and rng.random() < REGRESSION_SHARE
        ):
            return REGRESSION_VERSION, REGRESSION_ERROR
        minimum = MINIMUM.get(name)
        if minimum and is_older(version, minimum):
            return (
                version,
                f"outdated version of {name.split(' (')[0]}: {version} (need >= {minimum})",
            )
        if rng.random() >= FAILURE.get(name, {}).get(self.system.family, DEFAULT_FAILURE):
            # now and then the script cannot parse a version, though the tool works
            return (None if rng.random() < 0.03 else version), None
        home = self.system.home.format(user=self.user)
        return rng.choice(["unknown", None]), _error_text(
            rng, name, self.system.family, home, self.python
        )

    def version(self, name: str, newest: bool = False) -> str:
        choices = VERSIONS[name]
        if not choices:
            return self.python
        if newest:
            return choices[-1]
        return choices[recent_index(self.rng, len(choices), self.position)]


def _error_text(rng: random.Random, name: str, family: str, home: str, python: str) -> str:
    command = name.split("(")[-1].rstrip(")")
    short = python.rsplit(".", 1)[0]
    if family == "Darwin" and command in {"make", "git"} and rng.random() < 0.7:
        return (
            f"could not run '{command} --version': xcrun: error: invalid active developer path "
            "(/Library/Developer/CommandLineTools), missing xcrun at: "
            "/Library/Developer/CommandLineTools/usr/bin/xcrun"
        )
    if command == "python" and family == "Windows":
        stub = f"{home}\\AppData\\Local\\Microsoft\\WindowsApps\\python.exe"
        status = rng.choice([1, 9009])
        return f"Could not run '{stub} --version': command exited with exit status {status}"
    if command == "notebook":
        if family == "Windows":
            exe = f"{home}\\anaconda3\\Scripts\\jupyter-notebook.exe"
            return f"Could not run '{exe} --version': command exited with exit status 1"
        return "could not find 'jupyter' executable for notebook"
    if command == "matplotlib" and family == "Windows":
        folder = "Python" + short.replace(".", "")
        site = f"{home}\\AppData\\Local\\Programs\\Python\\{folder}\\Lib\\site-packages"
        return (
            f"ImportError: DLL load failed while importing _path: The specified module could not "
            f"be found. (in {site}\\matplotlib\\__init__.py, line {rng.randrange(100, 1200)})"
        )
    module = PYTHON_MODULES.get(name)
    if module and family == "Darwin":
        base = f"{home}/miniconda3/lib/python{short}/site-packages/{module}"
        return (
            f"ImportError: dlopen({base}/_core.cpython-{short.replace('.', '')}-darwin.so, "
            "0x0002): tried: (mach-o file, but is an incompatible architecture "
            "(have 'x86_64', need 'arm64'))"
        )
    if module:  # a file of the learner's own named like the module shadows it
        separator = "\\" if family == "Windows" else "/"
        own_file = f"{home}{separator}{module}.py"
        return (
            f"ImportError: cannot import name '_{module.lower()}_impl' from partially initialized "
            f"module '{module}' (most likely due to a circular import) ({own_file})"
        )
    if command == "sqlite3" and family == "Linux":
        return "could not find 'sqlite3' executable for sqlite3 (try: sudo apt install sqlite3)"
    return f"could not find '{command}' executable for {command}"


def _recent_time(rng: random.Random, end: datetime) -> datetime:
    """A time in the SPAN before ``end``, with density rising linearly towards ``end``."""
    return end - SPAN * (1 - math.sqrt(rng.random()))
