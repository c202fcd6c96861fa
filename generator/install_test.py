"""The published ``install-test.py``: one file assembled from the core's installation test.

Learners download one file, but its parts live where they are tested and reused, in the
core's ``installdata/installtest/``: the reference client (``client.py``, without its command
line), the check table (``checks.py``), the check runner (``probe.py``) and the report
(``script.py``). They are read here as text and joined: one docstring, one ``from
__future__`` line, every import once, the settings with this deployment's collector URL and
key written in, then each part's body. Two parts defining the same top-level name would
silently shadow each other, so that is refused. Nothing here reads or imports the collector
(docs/architecture.md).
"""

from __future__ import annotations

import ast
import shlex
from pathlib import Path

import installdata.installtest
from generator.render.keep import SiteFiles
from installdata.config import InstallTestConfig

TARGET = "install-test.py"
PARTS = ("client.py", "checks.py", "probe.py", "script.py")
CLIENT_END = "# --- command line"  # the client's own command line is not the installer's
SETTINGS = ("# --- settings", "# --- end of settings")
OWN_PACKAGE = installdata.installtest.__name__  # the parts' imports of each other: dropped
SOURCES = Path(installdata.installtest.__file__).parent


def assemble(url: str | None, key: str | None, folder: Path | None = None) -> str:
    """The whole published file, with ``url`` and ``key`` written into its settings."""
    folder = folder or SOURCES
    texts = {name: (folder / name).read_text(encoding="utf-8") for name in PARTS}
    texts["client.py"] = texts["client.py"].split("\n" + CLIENT_END, 1)[0] + "\n"
    main_text = texts["script.py"]
    start, end = (main_text.index(marker) for marker in SETTINGS)
    settings = main_text[start : main_text.index("\n", end)]
    texts["script.py"] = main_text[:start] + main_text[main_text.index("\n", end) :]
    settings = _written_in(settings, "COLLECTOR_URL", url)
    settings = _written_in(settings, "SUBMISSION_KEY", key)

    imports: set[str] = set()
    names_from: dict[str, set[str]] = {}
    bodies: list[str] = []
    defined: dict[str, str] = {}
    for name, text in texts.items():
        tree = ast.parse(text, name)
        for node in tree.body:
            for defined_name in _defines(node):
                if defined_name in defined:
                    raise ValueError(
                        f"{name} and {defined[defined_name]} both define {defined_name}"
                    )
                defined[defined_name] = name
        last_import = 0
        for node in tree.body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                last_import = node.end_lineno or node.lineno
                if isinstance(node, ast.Import):
                    imports.update(ast.unparse(node).splitlines())
                elif _kept(node):
                    names_from.setdefault(node.module or "", set()).update(
                        ast.unparse(alias) for alias in node.names
                    )
        body = "\n".join(text.splitlines()[last_import:]).strip("\n")
        bodies.append(
            f"# === from installdata/installtest/{name} ".ljust(100, "=") + f"\n\n{body}\n"
        )
    docstring = ast.get_docstring(ast.parse(main_text)) or ""
    header = [
        "#!/usr/bin/env python3",
        f'"""{docstring}\n"""',
        "",
        "from __future__ import annotations",
        "",
        *sorted(imports),
        *(
            f"from {module} import {', '.join(sorted(names_from[module]))}"
            for module in sorted(names_from)
        ),
        "",
        settings,
    ]
    return "\n".join(header) + "\n\n\n" + "\n\n".join(bodies)


def learner_command(workshop: str | None = None) -> str:
    """The one command a learner runs once the file is downloaded, quoted for a POSIX shell
    (Git Bash on Windows too): what the submit page and each workshop page show."""
    command = f"python {TARGET}"
    return command if workshop is None else f"{command} --workshop {shlex.quote(workshop)}"


def write_into(site_dir: Path, config: InstallTestConfig, previous: Path | None = None) -> Path:
    """Write ``site_dir/install-test.py`` for this deployment; return its path.

    ``previous``: the published site, whose file is kept if it is unchanged (render/keep.py).
    """
    path = site_dir / TARGET
    SiteFiles(site_dir, previous).write(path, assemble(config.url, config.key).encode("utf-8"))
    return path


def _written_in(settings: str, name: str, value: str | None) -> str:
    line = f"{name}: str | None = None"
    if settings.count(line) != 1:
        raise ValueError(f"the settings of script.py have no line {line!r}")
    return settings.replace(line, f"{name}: str | None = {value!r}")


def _kept(node: ast.ImportFrom) -> bool:
    """Not ``__future__`` (written once, first) nor the parts' own modules (they are here)."""
    module = node.module or ""
    own = module == OWN_PACKAGE or module.startswith(OWN_PACKAGE + ".")
    return module != "__future__" and not own


def _defines(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    if isinstance(node, ast.Assign):
        return [target.id for target in node.targets if isinstance(target, ast.Name)]
    return []
