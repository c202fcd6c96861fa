"""What people's machines are like: operating systems, Pythons, and the checked tools.

The tables say which systems and versions exist (oldest first, so that later times pick
newer ones), which tools every workshop checks, what the script requires, and how often a
check fails on each operating system. The pickers draw from them with the caller's
``random.Random``, so the data stays a function of the seed.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass

# --- systems: each returns user_system_info fields without python/workshop/email ---------


@dataclass(frozen=True)
class System:
    """One person's machine: what ``platform`` says about it, and where their files are."""

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
    version, darwin, xnu = _MACOS[recent_index(rng, len(_MACOS), position)]
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

PYTHONS = [
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
VERSIONS: dict[str, list[str]] = {
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
CORE = [
    "Bash (bash)", "Git (git)", "Make (make)", "Editor (nano)", "Python 3 (python)",
    "IPython (ipython)", "NumPy (numpy)", "Pandas (pandas)", "Matplotlib (matplotlib)",
    "SciPy (scipy)", "SymPy (sympy)", "Jupyter Notebook (notebook)", "SQLite (sqlite3)",
    "Firefox (firefox)",
]  # fmt: skip
EXTRAS = [name for name in VERSIONS if name not in CORE]
PYTHON_MODULES = {
    "IPython (ipython)": "IPython", "NumPy (numpy)": "numpy", "Pandas (pandas)": "pandas",
    "Matplotlib (matplotlib)": "matplotlib", "SciPy (scipy)": "scipy", "SymPy (sympy)": "sympy",
    "Requests (requests)": "requests", "Pytest (pytest)": "pytest", "Seaborn (seaborn)": "seaborn",
}  # fmt: skip
MINIMUM = {  # what the script requires; older versions fail as "outdated"
    "Git (git)": "2.39.0", "Python 3 (python)": "3.9", "NumPy (numpy)": "1.24",
    "Pandas (pandas)": "1.5", "Matplotlib (matplotlib)": "3.7", "Firefox (firefox)": "128.0",
    "Bash (bash)": "4.0", "SQLite (sqlite3)": "3.35",
}  # fmt: skip

# name -> system family -> probability that the check fails for a prepared learner
FAILURE: dict[str, dict[str, float]] = {
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
DEFAULT_FAILURE = 0.01

# A release that breaks installs, from this many days before the end on: a share of those
# checking the package then get the new version and fail with a new error, so the report's
# "What changed" has a rising rate, a new error and a newly failing version to tell.
REGRESSION_PACKAGE = "Jupyter Notebook (notebook)"
REGRESSION_VERSION = "7.3.0"
REGRESSION_DAYS = 21
REGRESSION_SHARE = 0.6
REGRESSION_ERROR = "ModuleNotFoundError: No module named 'notebook.app' (jupyter notebook)"


# --- pickers ----------------------------------------------------------------------------------


def pick_system(rng: random.Random, python: str, position: float) -> System:
    """A Windows, macOS or Linux machine in their usual shares (newer macOS later in time)."""
    roll = rng.random()
    for share, make in _SYSTEMS:
        if roll < share:
            return make(rng, python, position)
        roll -= share
    return _SYSTEMS[-1][1](rng, python, position)


def package_list(rng: random.Random) -> list[str]:
    """What one workshop checks: the core tools and a few extras."""
    return CORE + rng.sample(EXTRAS, rng.randint(1, 11))


def recent_index(rng: random.Random, length: int, position: float) -> int:
    """An index into an oldest-first list: near ``position`` (0..1) of it, with some spread."""
    index = round(position * (length - 1) + 2.5 * (rng.random() - rng.random()))
    return min(length - 1, max(0, index))


@functools.cache
def is_older(version: str, minimum: str) -> bool:
    """``version`` is below ``minimum``, comparing their numeric parts."""
    return _numbers(version) < _numbers(minimum)


def _numbers(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())
