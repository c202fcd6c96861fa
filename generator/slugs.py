"""Stable, URL-safe file names for packages and workshops.

Names come from learners' machines ("Python 3 (python)", "2026-05-01-Zürich"), so two names
can slugify to the same text. A short hash of the exact name keeps every page path unique
while the readable part keeps URLs friendly; the same name always gets the same path, so
links survive from one build to the next.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

from generator.identity import package_key

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_MAX_READABLE = 40


@functools.lru_cache(maxsize=65536)
def slugify(name: str) -> str:
    """``"Python 3 (python)"`` -> ``"python-3-python-<8 hex>"``; never empty, never unsafe."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    readable = _NOT_SLUG.sub("-", ascii_name.lower()).strip("-")[:_MAX_READABLE].rstrip("-")
    digest = hashlib.blake2s(name.encode("utf-8"), digest_size=4).hexdigest()
    return f"{readable}-{digest}" if readable else digest


def period_path(path: str, days: int | None) -> str:
    """Where the page at ``path`` (its all-time version) is for the last ``days`` days.

    All time keeps the page's own path, so links made before periods existed keep working;
    a period's pages live under ``recent/<days>-days/``, except the overview, which has
    always been ``recent/<days>-days.html``.
    """
    if days is None:
        return path
    if path == "index.html":
        return f"recent/{days}-days.html"
    return f"recent/{days}-days/{path}"


def package_path(name: str, days: int | None = None) -> str:
    """Site-relative path of a package's page (for the last ``days`` days; None: all time),
    from its key or a name (the rule of ``generator.identity.package_key``): one path for
    every name of a package, however the most frequent name changes. Names that
    ``generator.package_aliases`` move to another key need that key (``Facts.package_keys``).
    """
    return period_path(f"packages/{slugify(package_key(name))}.html", days)


def workshop_path(name: str) -> str:
    """Site-relative path of a workshop's page."""
    return f"workshops/{slugify(name)}.html"
