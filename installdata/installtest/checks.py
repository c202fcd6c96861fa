"""What the installation test knows how to check: one table of plain dicts, no logic.

Part of the published ``install-test.py`` (docs/install-test.md): the site assembles that
file from the reference client, this table, ``probe.py`` and ``script.py``. Names are
the ones the Software Carpentry installation test scripts printed ("Git (git)", "make",
"NumPy (numpy)", ...), so a deployment's history goes on across the change of script. A
check is one of four kinds:

- ``command``: an executable found on PATH (``commands``) or at a known place (``paths``,
  run the same way), asked for its version (``args``, then ``pattern`` on its output); or a
  desktop application whose presence counts (``apps``: a Windows ``.exe`` or a macOS
  ``.app``, whose Info.plist gives the version) or whose ``registry`` value names it;
- ``package``: a Python package, imported in a separate interpreter (``module``);
- ``python``: the interpreter running the test;
- ``any``: passes when one of its ``alternatives`` (other checks' names) does.

Paths may name ``{ProgramFiles}``, ``{ProgramFiles(x86)}``, ``{LOCALAPPDATA}`` or ``{HOME}``;
a path whose variable is not set is skipped. ``minimum`` is a dotted version; ``urls`` maps
``platform.system()`` (or ``*``) to the page that says how to install it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict


class _CheckName(TypedDict):
    name: str
    kind: str


class Check(_CheckName, total=False):
    """One entry of ``KNOWN_CHECKS`` (the module docstring says what each field means)."""

    long_name: str
    commands: list[str]
    paths: list[str]
    apps: list[str]
    registry: list[list[str]]  # [root key, sub key, value name]
    args: list[str]
    stdin: str
    pattern: str
    minimum: str
    module: str
    distribution: str
    attribute: str
    alternatives: list[str]
    urls: dict[str, str]


SETUP_URL = "https://carpentries.github.io/workshop-template/install_instructions/"
GIT_FOR_WINDOWS = ["{ProgramFiles}\\Git\\bin\\", "{LOCALAPPDATA}\\Programs\\Git\\bin\\"]
GIT_FOR_WINDOWS_USR = [
    "{ProgramFiles}\\Git\\usr\\bin\\",
    "{LOCALAPPDATA}\\Programs\\Git\\usr\\bin\\",
]
MAKEFILE = "all:\n\t@echo MAKE_VERSION=$(MAKE_VERSION)\n"


def _shell(name: str, long_name: str, windows_dirs: Sequence[str] = ()) -> Check:
    return {
        "name": name,
        "long_name": long_name,
        "kind": "command",
        "commands": [name],
        "paths": [folder + name + ".exe" for folder in windows_dirs],
        "urls": {"*": SETUP_URL + "#shell"},
    }


def _tool(
    name: str,
    long_name: str,
    url: str,
    commands: Sequence[str] | None = None,
    paths: Sequence[str] = (),
    apps: Sequence[str] = (),
    registry: Sequence[list[str]] = (),
) -> Check:
    """An editor or a browser: a command, or an application whose presence counts."""
    return {
        "name": name,
        "long_name": long_name,
        "kind": "command",
        "commands": [name] if commands is None else list(commands),
        "paths": list(paths),
        "apps": list(apps),
        "registry": list(registry),
        "urls": {"*": url},
    }


def _package(name: str, long_name: str, minimum: str, url: str) -> Check:
    return {
        "name": name,
        "long_name": long_name,
        "kind": "package",
        "module": name,
        "minimum": minimum,
        "urls": {"*": url},
    }


def _app_bundle(name: str) -> str:
    return "/Applications/" + name + ".app"


# fmt: off
KNOWN_CHECKS: list[Check] = [
    # shells, editors and browsers: any one of each will do
    {"name": "virtual-shell", "long_name": "command line shell", "kind": "any",
     "alternatives": ["bash", "zsh", "dash", "ash", "ksh", "csh", "tcsh", "sh"],
     "urls": {"*": SETUP_URL + "#shell"}},
    _shell("bash", "Bourne Again Shell", GIT_FOR_WINDOWS + GIT_FOR_WINDOWS_USR),
    _shell("zsh", "Z Shell"),
    _shell("dash", "Debian Almquist Shell"),
    _shell("ash", "Almquist Shell"),
    _shell("ksh", "KornShell"),
    _shell("csh", "C Shell"),
    _shell("tcsh", "TENEX C Shell"),
    _shell("sh", "Bourne Shell", GIT_FOR_WINDOWS_USR),
    {"name": "virtual-editor", "long_name": "text/code editor", "kind": "any",
     "alternatives": ["nano", "vim", "vi", "emacs", "code", "notepad++", "gedit", "kate",
                      "sublime-text", "textmate", "bbedit"],
     "urls": {"*": SETUP_URL + "#editor"}},
    _tool("nano", "Nano", "https://www.nano-editor.org/download.php",
            paths=[folder + "nano.exe" for folder in GIT_FOR_WINDOWS_USR]),
    _tool("vim", "Vim", "https://www.vim.org/download.php",
            paths=[folder + "vim.exe" for folder in GIT_FOR_WINDOWS_USR]),
    _tool("vi", "vi", "https://www.vim.org/download.php"),
    _tool("emacs", "Emacs", "https://www.gnu.org/software/emacs/download.html"),
    _tool("code", "Visual Studio Code", "https://code.visualstudio.com/download",
            apps=["{LOCALAPPDATA}\\Programs\\Microsoft VS Code\\Code.exe",
                  "{ProgramFiles}\\Microsoft VS Code\\Code.exe",
                  _app_bundle("Visual Studio Code")]),
    _tool("notepad++", "Notepad++", "https://notepad-plus-plus.org/downloads/",
            commands=[], apps=["{ProgramFiles}\\Notepad++\\notepad++.exe",
                               "{ProgramFiles(x86)}\\Notepad++\\notepad++.exe"]),
    _tool("gedit", "gedit", "https://gedit-technology.github.io/apps/gedit/"),
    _tool("kate", "Kate", "https://kate-editor.org/get-it/"),
    _tool("sublime-text", "Sublime Text", "https://www.sublimetext.com/download",
            commands=["subl"], apps=[_app_bundle("Sublime Text"),
                                     "{ProgramFiles}\\Sublime Text\\sublime_text.exe"]),
    _tool("textmate", "TextMate", "https://macromates.com/", commands=[],
            apps=[_app_bundle("TextMate")]),
    _tool("bbedit", "BBEdit", "https://www.barebones.com/products/bbedit/", commands=[],
            apps=[_app_bundle("BBEdit")]),
    {"name": "virtual-browser", "long_name": "web browser", "kind": "any",
     "alternatives": ["firefox", "google-chrome", "chromium", "safari", "msedge"],
     "urls": {"*": SETUP_URL}},
    _tool("firefox", "Firefox", "https://www.mozilla.org/firefox/new/",
            apps=["{ProgramFiles}\\Mozilla Firefox\\firefox.exe", _app_bundle("Firefox")],
            registry=[["HKEY_LOCAL_MACHINE", "SOFTWARE\\Mozilla\\Mozilla Firefox",
                       "CurrentVersion"]]),
    _tool("google-chrome", "Google Chrome", "https://www.google.com/chrome/",
            apps=["{ProgramFiles}\\Google\\Chrome\\Application\\chrome.exe",
                  "{LOCALAPPDATA}\\Google\\Chrome\\Application\\chrome.exe",
                  _app_bundle("Google Chrome")],
            registry=[["HKEY_CURRENT_USER", "Software\\Google\\Chrome\\BLBeacon", "version"]]),
    _tool("chromium", "Chromium", "https://www.chromium.org/getting-involved/download-chromium/",
            commands=["chromium", "chromium-browser"], apps=[_app_bundle("Chromium")]),
    _tool("safari", "Safari", "https://support.apple.com/safari", commands=[],
            apps=[_app_bundle("Safari")]),
    _tool("msedge", "Microsoft Edge", "https://www.microsoft.com/edge",
            commands=["microsoft-edge"],
            apps=["{ProgramFiles(x86)}\\Microsoft\\Edge\\Application\\msedge.exe",
                  _app_bundle("Microsoft Edge")],
            registry=[["HKEY_CURRENT_USER", "Software\\Microsoft\\Edge\\BLBeacon", "version"]]),
    # version control, build tools, databases
    {"name": "git", "long_name": "Git", "kind": "command", "commands": ["git"],
     "paths": ["{ProgramFiles}\\Git\\cmd\\git.exe", "{LOCALAPPDATA}\\Programs\\Git\\cmd\\git.exe"],
     "minimum": "2.0", "urls": {"*": "https://git-scm.com/downloads"}},
    {"name": "hg", "long_name": "Mercurial", "kind": "command", "commands": ["hg"],
     "minimum": "5.0", "urls": {"*": "https://www.mercurial-scm.org/downloads"}},
    # BSD make knows no --version: a makefile on stdin prints the version (or nothing)
    {"name": "make", "kind": "command", "commands": ["make", "gmake", "mingw32-make"],
     "args": ["-f", "-"], "stdin": MAKEFILE, "pattern": r"MAKE_VERSION=(\d+(?:\.\d+)*)",
     "paths": [folder + "make.exe" for folder in GIT_FOR_WINDOWS_USR],
     "urls": {"Darwin": "https://developer.apple.com/xcode/resources/",
              "Windows": SETUP_URL + "#shell", "*": "https://www.gnu.org/software/make/"}},
    {"name": "sqlite3", "long_name": "SQLite 3", "kind": "command", "commands": ["sqlite3"],
     "minimum": "3.0", "urls": {"*": "https://www.sqlite.org/download.html"}},
    # Python and its packages
    {"name": "python", "long_name": "Python version", "kind": "python", "minimum": "3.8",
     "urls": {"*": SETUP_URL + "#python"}},
    {"name": "sqlite3-python", "long_name": "SQLite Python package", "kind": "package",
     "module": "sqlite3", "attribute": "sqlite_version", "minimum": "3.0",
     "urls": {"*": SETUP_URL + "#python"}},
    _package("numpy", "NumPy", "1.20", "https://numpy.org/install/"),
    _package("scipy", "SciPy", "1.6", "https://scipy.org/install/"),
    _package("matplotlib", "Matplotlib", "3.3",
             "https://matplotlib.org/stable/users/getting_started/"),
    _package("pandas", "Pandas", "1.2",
             "https://pandas.pydata.org/docs/getting_started/install.html"),
    _package("sympy", "SymPy", "1.7", "https://docs.sympy.org/latest/install.html"),
    _package("pytest", "pytest Python package", "6.0",
             "https://docs.pytest.org/en/stable/getting-started.html"),
    _package("IPython", "IPython Python package", "7.0", "https://ipython.org/install.html"),
    _package("notebook", "Jupyter Notebook", "6.0", "https://jupyter.org/install"),
    _package("jupyterlab", "JupyterLab", "3.0", "https://jupyter.org/install"),
]
# fmt: on
