"""Realistic synthetic installation-test results, for the demo, tests and benchmarks.

The data imitates what the Software Carpentry installation test script reports: people on
Windows, macOS and Linux (system fields as Python's ``platform`` module spells them), in
workshops or on their own, checking 15-25 tools and packages. Failures depend on the
operating system (``make`` is rarely on Windows, macOS lacks the command line tools), and
error texts carry paths, user names and numbers, so the report's error grouping has real
work to do. About a third of people run the script again, usually after fixing something.

Everything is drawn from one ``random.Random(seed)``: the same seed and ``end`` give the
same data. Times lie in the two years before ``end`` (default: the start of today, UTC),
busier towards the end.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TypedDict

import orjson

from installdata.record import Record, make_record

KEY_NAME = "synthetic"
SPAN = timedelta(days=730)
RERUN_SHARE_WITH_FAILURES = 0.45
RERUN_SHARE_WITHOUT_FAILURES = 0.1
FIX_PROBABILITY = 0.7  # each failure is fixed before a re-run with this probability


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


# --- systems: each returns user_system_info fields without python/workshop/email ---------


@dataclass(frozen=True)
class System:
    family: str  # "Windows", "Darwin" or "Linux": the key of the failure tables
    info: dict[str, str]
    home: str  # the user's home folder, with {user} to fill in


def _windows(rng: random.Random, python: str, _position: float) -> System:
    build = rng.choice(["19044", "19045", "19045"] if rng.random() < 0.45 else ["22621", "22631"])
    # platform.release() says "11" only from Python 3.12 on; older Pythons report "10"
    release = "11" if int(build) >= 22000 and _numbers(python) >= (3, 12) else "10"
    machine = "ARM64" if rng.random() < 0.03 else "AMD64"
    return System(
        "Windows",
        {
            "distribution_name": "Windows",
            "distribution_version": "11" if int(build) >= 22000 else "10",
            "system": "Windows",
            "system_version": f"10.0.{build}",
            "machine": machine,
            "system_platform": f"Windows-{release}-10.0.{build}-SP0",
        },
        "C:\\Users\\{user}",
    )


_MACOS = [  # (macOS version, Darwin release, xnu build)
    ("12.7.6", "21.6.0", "8020.240.18.709.2~1"),
    ("13.6.9", "22.6.0", "8796.141.3.707.4~1"),
    ("14.6.1", "23.6.0", "10063.141.2~1"),
    ("14.7", "23.6.0", "10063.141.2~1"),
    ("15.1", "24.1.0", "11215.41.3~2"),
    ("15.1.1", "24.1.0", "11215.41.3~2"),
]


def _macos(rng: random.Random, python: str, position: float) -> System:
    version, darwin, xnu = _MACOS[_recent_index(rng, len(_MACOS), position)]
    machine = "arm64" if rng.random() < 0.7 else "x86_64"
    kernel = "RELEASE_ARM64_T6000" if machine == "arm64" else "RELEASE_X86_64"
    tail = "arm64-arm-64bit" if machine == "arm64" else "x86_64-i386-64bit"
    return System(
        "Darwin",
        {
            "distribution_name": "macOS",
            "distribution_version": version,
            "system": "Darwin",
            "system_version": f"Darwin Kernel Version {darwin}: Tue Sep 24 23:39:07 PDT 2024; "
            f"root:xnu-{xnu}/{kernel}",
            "machine": machine,
            "system_platform": f"macOS-{version}-{tail}",
        },
        "/Users/{user}",
    )


_LINUX = [  # (os-release NAME, VERSION_ID, kernel release, uname -v, glibc)
    (
        "Ubuntu",
        "20.04",
        "5.15.0-122-generic",
        "#132~20.04.1-Ubuntu SMP Fri Aug 30 15:50:07 UTC 2024",
        "2.31",
    ),
    (
        "Ubuntu",
        "22.04",
        "6.8.0-45-generic",
        "#45~22.04.1-Ubuntu SMP PREEMPT_DYNAMIC Wed Sep 11 15:25:05 UTC 2",
        "2.35",
    ),
    (
        "Ubuntu",
        "22.04",
        "5.15.0-119-generic",
        "#129-Ubuntu SMP Fri Aug 2 19:25:20 UTC 2024",
        "2.35",
    ),
    (
        "Ubuntu",
        "24.04",
        "6.8.0-48-generic",
        "#48-Ubuntu SMP PREEMPT_DYNAMIC Fri Sep 27 14:04:52 UTC 2024",
        "2.39",
    ),
    ("Debian GNU/Linux", "11", "5.10.0-32-amd64", "#1 SMP Debian 5.10.223-1 (2024-08-10)", "2.31"),
    (
        "Debian GNU/Linux",
        "12",
        "6.1.0-26-amd64",
        "#1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1 (2024-09-30)",
        "2.36",
    ),
    (
        "Fedora Linux",
        "40",
        "6.10.12-200.fc40.x86_64",
        "#1 SMP PREEMPT_DYNAMIC Fri Oct  4 19:56:51 UTC 2024",
        "2.39",
    ),
    (
        "Fedora Linux",
        "41",
        "6.11.5-300.fc41.x86_64",
        "#1 SMP PREEMPT_DYNAMIC Tue Oct 22 19:23:48 UTC 2024",
        "2.40",
    ),
    (
        "Arch Linux",
        "rolling",
        "6.11.6-arch1-1",
        "#1 SMP PREEMPT_DYNAMIC Fri, 01 Nov 2024 03:30:41 +0000",
        "2.40",
    ),
    (
        "Linux Mint",
        "21.3",
        "5.15.0-125-generic",
        "#135-Ubuntu SMP Fri Sep 27 13:53:58 UTC 2024",
        "2.35",
    ),
]


def _linux(rng: random.Random, python: str, _position: float) -> System:
    name, version, kernel, uname_v, glibc = rng.choice(_LINUX)
    machine = "aarch64" if rng.random() < 0.04 else "x86_64"
    return System(
        "Linux",
        {
            "distribution_name": name,
            "distribution_version": version,
            "system": "Linux",
            "system_version": uname_v,
            "machine": machine,
            "system_platform": f"Linux-{kernel}-{machine}-with-glibc{glibc}",
        },
        "/home/{user}",
    )


_SYSTEMS: list[tuple[float, Callable[[random.Random, str, float], System]]] = [
    (0.48, _windows),
    (0.34, _macos),
    (0.18, _linux),
]

_PYTHONS = [
    "3.8.10",
    "3.9.13",
    "3.10.11",
    "3.10.14",
    "3.11.5",
    "3.11.9",
    "3.12.4",
    "3.12.7",
    "3.13.0",
]


# --- what the script checks ---------------------------------------------------------------

# name as the script prints it -> versions, oldest first (picked more recent later in time)
_VERSIONS: dict[str, list[str]] = {
    "Bash (bash)": ["4.4.23", "5.1.16", "5.2.15", "5.2.21", "5.2.26", "5.2.32"],
    "Git (git)": ["2.34.1", "2.39.2", "2.39.5", "2.43.0", "2.45.2", "2.46.0", "2.47.0"],
    "Make (make)": ["3.81", "4.2.1", "4.3", "4.4.1"],
    "Editor (nano)": ["5.4", "6.2", "7.2", "8.1", "8.2"],
    "Python 3 (python)": [],  # the person's own Python version
    "IPython (ipython)": ["7.34.0", "8.12.3", "8.18.1", "8.26.0", "8.29.0"],
    "NumPy (numpy)": ["1.21.6", "1.24.4", "1.26.4", "2.0.2", "2.1.3"],
    "Pandas (pandas)": ["1.3.5", "1.5.3", "2.0.3", "2.1.4", "2.2.2", "2.2.3"],
    "Matplotlib (matplotlib)": ["3.5.3", "3.7.5", "3.8.4", "3.9.2"],
    "SciPy (scipy)": ["1.7.3", "1.10.1", "1.11.4", "1.13.1", "1.14.1"],
    "SymPy (sympy)": ["1.10.1", "1.12", "1.12.1", "1.13.3"],
    "Jupyter Notebook (notebook)": ["6.4.12", "6.5.7", "7.0.8", "7.2.2"],
    "SQLite (sqlite3)": ["3.31.1", "3.37.2", "3.40.1", "3.45.3", "3.46.1"],
    "Firefox (firefox)": ["115.15.0", "128.3.1", "130.0", "131.0.3", "132.0.2"],
    "Pip (pip)": ["21.2.4", "23.0.1", "23.3.1", "24.0", "24.2", "24.3.1"],
    "Requests (requests)": ["2.28.2", "2.31.0", "2.32.3"],
    "JupyterLab (jupyterlab)": ["3.6.7", "4.0.13", "4.1.8", "4.2.5"],
    "Conda (conda)": ["4.12.0", "23.7.4", "24.5.0", "24.9.2"],
    "Pytest (pytest)": ["7.1.2", "7.4.4", "8.2.2", "8.3.3"],
    "Seaborn (seaborn)": ["0.12.2", "0.13.0", "0.13.2"],
    "Editor (vim)": ["8.2", "9.0", "9.1"],
    "R (R)": ["4.2.3", "4.3.3", "4.4.1", "4.4.2"],
    "RStudio (rstudio)": ["2023.06.2", "2023.12.1", "2024.04.2", "2024.09.1"],
    "OpenRefine (openrefine)": ["3.6.2", "3.7.9", "3.8.2"],
    "Mercurial (hg)": ["6.1.1", "6.5.3", "6.8.1"],
}
_CORE = [
    "Bash (bash)", "Git (git)", "Make (make)", "Editor (nano)", "Python 3 (python)",
    "IPython (ipython)", "NumPy (numpy)", "Pandas (pandas)", "Matplotlib (matplotlib)",
    "SciPy (scipy)", "SymPy (sympy)", "Jupyter Notebook (notebook)", "SQLite (sqlite3)",
    "Firefox (firefox)",
]  # fmt: skip
_EXTRAS = [name for name in _VERSIONS if name not in _CORE]
_PYTHON_MODULES = {
    "IPython (ipython)": "IPython", "NumPy (numpy)": "numpy", "Pandas (pandas)": "pandas",
    "Matplotlib (matplotlib)": "matplotlib", "SciPy (scipy)": "scipy", "SymPy (sympy)": "sympy",
    "Requests (requests)": "requests", "Pytest (pytest)": "pytest", "Seaborn (seaborn)": "seaborn",
}  # fmt: skip
_MINIMUM = {  # what the script requires; older versions fail as "outdated"
    "Git (git)": "2.39.0", "Python 3 (python)": "3.9", "NumPy (numpy)": "1.24",
    "Pandas (pandas)": "1.5", "Matplotlib (matplotlib)": "3.7", "Firefox (firefox)": "128.0",
    "Bash (bash)": "4.0", "SQLite (sqlite3)": "3.35",
}  # fmt: skip

# name -> system family -> probability that the check fails for a prepared learner
_FAILURE: dict[str, dict[str, float]] = {
    "Make (make)": {"Windows": 0.55, "Darwin": 0.12, "Linux": 0.04},
    "Bash (bash)": {"Windows": 0.12},
    "Editor (nano)": {"Windows": 0.2, "Darwin": 0.03},
    "Git (git)": {"Windows": 0.08, "Darwin": 0.1, "Linux": 0.03},
    "SQLite (sqlite3)": {"Windows": 0.25, "Linux": 0.05},
    "Firefox (firefox)": {"Windows": 0.06, "Darwin": 0.15},
    "Python 3 (python)": {"Windows": 0.12},
    "Jupyter Notebook (notebook)": {"Windows": 0.1},
    "Matplotlib (matplotlib)": {"Windows": 0.05},
    "NumPy (numpy)": {"Darwin": 0.04},
    "Editor (vim)": {"Windows": 0.4},
    "RStudio (rstudio)": {"Linux": 0.2},
    "OpenRefine (openrefine)": {"Darwin": 0.3},
    "Conda (conda)": {"Windows": 0.15},
}
_DEFAULT_FAILURE = 0.01
_NO_ENVIRONMENT = 0.08  # share of people who never installed Anaconda: no Python packages

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


# --- public API ----------------------------------------------------------------------------


def iter_people(count: int, seed: int = 0, end: datetime | None = None) -> Iterator[Person]:
    """Yield ``count`` people, each with 1-3 attempts in time order."""
    rng = random.Random(seed)
    end = _day_start(end)
    workshops = _Workshops(rng, end, max(1, count // 25))
    for _ in range(count):
        yield _person(rng, workshops, end)


def iter_records(count: int, seed: int = 0, end: datetime | None = None) -> Iterator[Record]:
    """Yield ``count`` complete file-drop records (docs/file-format.md), one per attempt."""
    # ids come from a stream of their own, so payloads are the same as iter_people's
    rng = random.Random(seed ^ 0x5EED)
    produced = 0
    for person in iter_people(count, seed, end):
        user_id = _hex(rng, 24)
        for attempt in person.attempts:
            if produced == count:
                return
            if attempt.lost_id:
                user_id = _hex(rng, 24)
            yield make_record(
                submission_id=f"{attempt.received_at:%Y%m%dT%H%M%S}-{_hex(rng, 12)}",
                received=attempt.received_at,
                user_id=user_id,
                key_name=KEY_NAME,
                **attempt.payload,
            )
            produced += 1


def write_files(root: Path, count: int, seed: int = 0, end: datetime | None = None) -> int:
    """Write ``count`` records as ``root/<YYYY-MM-DD>/<submission_id>.json``; return count.

    Fast rather than careful (no temporary files, no fsync): for tests and benchmarks that
    fill a folder nobody is reading yet.
    """
    made: set[str] = set()
    written = 0
    for record in iter_records(count, seed, end):
        day = record["received_at"][:10]
        if day not in made:
            (root / day).mkdir(parents=True, exist_ok=True)
            made.add(day)
        (root / day / f"{record['submission_id']}.json").write_bytes(orjson.dumps(record))
        written += 1
    return written


# --- people and their attempts ---------------------------------------------------------------


class _Workshops:
    """A pool of workshops, busier towards ``end``, each with the package list it checks."""

    def __init__(self, rng: random.Random, end: datetime, count: int) -> None:
        self.entries: list[tuple[str, datetime, list[str]]] = []
        seen: set[str] = set()
        while len(self.entries) < count:
            day = _recent_time(rng, end).replace(hour=0, minute=0, second=0, microsecond=0)
            name = f"{day:%Y-%m-%d}-{rng.choice(_WORKSHOP_KINDS)}{rng.choice(_CITIES)}"
            if name not in seen:
                seen.add(name)
                self.entries.append((name, day, _package_list(rng)))
        self.default_packages = _CORE + _EXTRAS[:3]

    def pick(self, rng: random.Random) -> tuple[str, datetime, list[str]]:
        return rng.choice(self.entries)


def _person(rng: random.Random, workshops: _Workshops, end: datetime) -> Person:
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
    python = _PYTHONS[_recent_index(rng, len(_PYTHONS), position)]
    system = _pick_system(rng, python, position)
    email = f"{username}@{rng.choice(_EMAIL_DOMAINS)}" if rng.random() < 0.12 else None
    info = {**system.info, "python_version": python, "workshop_id": workshop, "email_id": email}
    person = _Learner(rng, system, python, username, position, rng.random() >= _NO_ENVIRONMENT)
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
    return Person(username, tuple(attempts))


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
        if name in _PYTHON_MODULES and not self.environment:
            module = _PYTHON_MODULES[name]
            return rng.choice(["unknown", None]), rng.choice(
                [
                    f"ModuleNotFoundError: No module named '{module}'",
                    f"ImportError: No module named '{module}'",
                ]
            )
        minimum = _MINIMUM.get(name)
        if minimum and _is_older(version, minimum):
            return (
                version,
                f"outdated version of {name.split(' (')[0]}: {version} (need >= {minimum})",
            )
        if rng.random() >= _FAILURE.get(name, {}).get(self.system.family, _DEFAULT_FAILURE):
            # now and then the script cannot parse a version, though the tool works
            return (None if rng.random() < 0.03 else version), None
        home = self.system.home.format(user=self.user)
        return rng.choice(["unknown", None]), _error_text(
            rng, name, self.system.family, home, self.python
        )

    def version(self, name: str, newest: bool = False) -> str:
        choices = _VERSIONS[name]
        if not choices:
            return self.python
        if newest:
            return choices[-1]
        return choices[_recent_index(self.rng, len(choices), self.position)]


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
    module = _PYTHON_MODULES.get(name)
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


# --- small helpers ----------------------------------------------------------------------------


def _pick_system(rng: random.Random, python: str, position: float) -> System:
    roll = rng.random()
    for share, make in _SYSTEMS:
        if roll < share:
            return make(rng, python, position)
        roll -= share
    return _SYSTEMS[-1][1](rng, python, position)


def _package_list(rng: random.Random) -> list[str]:
    return _CORE + rng.sample(_EXTRAS, rng.randint(1, 11))


def _recent_time(rng: random.Random, end: datetime) -> datetime:
    """A time in the SPAN before ``end``, with density rising linearly towards ``end``."""
    return end - SPAN * (1 - math.sqrt(rng.random()))


def _recent_index(rng: random.Random, length: int, position: float) -> int:
    """An index into an oldest-first list: near ``position`` (0..1) of it, with some spread."""
    index = round(position * (length - 1) + 2.5 * (rng.random() - rng.random()))
    return min(length - 1, max(0, index))


@functools.cache
def _is_older(version: str, minimum: str) -> bool:
    return _numbers(version) < _numbers(minimum)


def _numbers(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def _day_start(end: datetime | None) -> datetime:
    end = end or datetime.now(timezone.utc)
    if end.tzinfo is None:
        end = end.replace(tzinfo=timezone.utc)
    return end.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
