"""The Jinja environment of the site: where the templates are, their filters, the menu.

Data is only ever passed to templates as values: autoescaping is on for every template,
undefined names are errors, and no text from a submission is ever compiled as a template.
Every link is relative (``root`` is ``""`` or ``"../"``), so the site works from any base path
and straight from disk.
"""

from __future__ import annotations

import functools
import hashlib
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from generator.charts import heat_legend, heat_step, number

_GENERATOR_DIR = Path(__file__).resolve().parent.parent
# In a checkout the templates sit at the repository's top (templates/), where people editing
# the site look for them; a wheel installs the same folder as generator/templates/.
TEMPLATES_DIR = next(
    (
        folder
        for folder in (_GENERATOR_DIR.parent / "templates", _GENERATOR_DIR / "templates")
        if (folder / "base.html").is_file()
    ),
    _GENERATOR_DIR / "templates",
)

NAVIGATION = (
    ("Overview", "index.html", ("index.html", "recent/")),
    ("Packages", "packages/index.html", ("packages/",)),
    ("Workshops", "workshops/index.html", ("workshops/",)),
    ("Matrix", "matrix.html", ("matrix.html",)),
    ("Compare", "compare.html", ("compare.html",)),
    ("How to submit", "submit.html", ("submit.html",)),
)
"""(label, site-relative target, path prefixes of the pages that belong to the section)."""


@functools.cache
def renderer(title: str) -> str:
    """A digest of what makes a page's HTML besides its data: the templates, the code of the
    renderer, of the charts' labels it prints with and of the pages (which set a page's title
    and template), Jinja's and MarkupSafe's versions, and the site's title (render/keep.py
    keeps a page unrendered only for the same digest)."""
    sources = [
        TEMPLATES_DIR,
        Path(__file__).parent,
        *(_GENERATOR_DIR / name for name in ("charts", "pages", "model.py")),
    ]
    digest = hashlib.blake2b(digest_size=16)
    for part in (_version("jinja2"), _version("markupsafe"), title):
        digest.update(part.encode() + b"\0")
    for path in sorted(file for folder in sources for file in _files(folder)):
        if path.suffix in (".html", ".py"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _files(source: Path) -> list[Path]:
    return [source] if source.is_file() else [path for path in source.rglob("*") if path.is_file()]


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:  # run from a source tree without metadata: the code decides
        return "unknown"


def root_of(path: str) -> str:
    """Relative prefix from a page back to the site root: ``""``, ``"../"``, ..."""
    return "../" * (len(PurePosixPath(path).parts) - 1)


def navigation(path: str, root: str) -> list[dict[str, str | None]]:
    """The site menu for one page, marking the page itself and the section it belongs to.

    Each ``href`` is relative to the page already (``root`` put before it here, once per link,
    rather than printed as a second value in the template).
    """
    items = []
    for label, href, prefixes in NAVIGATION:
        if path == href:
            current = "page"
        elif path.startswith(prefixes):
            current = "true"
        else:
            current = None
        items.append({"label": label, "href": root + href, "current": current})
    return items


def _percentage(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def _number(value: int | None) -> str:
    return "–" if value is None else number(value)


def _pretty_json(value: Any) -> str:
    """An example for the docs: strings are shown as given, anything else as indented JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2)


class _DataEnvironment(Environment):
    """An environment for templates that read plain data: ``row.name`` looks in the dict first.

    Jinja's ``a.b`` tries the attribute ``b`` and then the item ``"b"``; every value a page
    prints is an item of a dict, so the failed attribute lookup (an exception) was paid on each
    of them. Trying the item first gives the same value for every key that is not also a dict
    method, and the templates use ``.get`` only as a method.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    """The one Jinja environment of a process; templates are compiled once and cached."""
    env = _DataEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["percentage"] = _percentage
    env.filters["number"] = _number
    env.filters["pretty_json"] = _pretty_json
    env.filters["heat"] = heat_step
    env.globals["heat_legend"] = heat_legend()
    return env
