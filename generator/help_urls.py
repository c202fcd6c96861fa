"""Where to read how to fix a package: the configured page first, then the installers' links.

``generator.help_urls`` names a page per package key; the installers' own error messages
carry more (``generator.links`` finds and normalises them). Package pages list them, and any
page that names a failing package can put them beside it: ``HelpUrls.of(code)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from generator.error_groups import Errors, links_by
from generator.facts import Facts
from generator.links import normalised


@dataclass(frozen=True)
class HelpUrls:
    """Per package code: its fix links, the configured one first, then those its failures'
    messages carry, most failed attempts first."""

    by_code: Mapping[int, list[str]]

    def of(self, code: int) -> list[str]:
        """The fix links of the package with this code (``Facts.package`` codes); [] if none."""
        return list(self.by_code.get(code, []))


def help_urls(facts: Facts, errors: Errors, configured: Mapping[str, str]) -> HelpUrls:
    """The fix links of every package; ``configured``: package key -> URL (the config's)."""
    found = links_by(errors.entries, errors, ["package"]) if len(errors.entries) else {}
    by_code: dict[int, list[str]] = {}
    for code, key in enumerate(facts.package_keys):
        first = [configured[key]] if key in configured else []
        known = {normalised(url) for url in first}
        urls = first + [url for url in found.get(code, []) if url not in known]
        if urls:
            by_code[code] = urls
    return HelpUrls(by_code)
