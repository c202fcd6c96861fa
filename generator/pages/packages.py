"""The packages index (template packages.html): every package with its figures, all time."""

from __future__ import annotations

from typing import TypedDict

from generator.facts import PackageRow, without_href
from generator.model import Page


class PackagesContext(TypedDict):
    packages: list[PackageRow]  # most failing people first


def packages_index_page(rows: list[PackageRow]) -> Page[PackagesContext]:
    return Page(
        path="packages/index.html",
        template="packages.html",
        title="Packages",
        context={"packages": rows},
        tables={"packages": [without_href(row) for row in rows]},
    )
