"""Hand-made report pages that follow docs/report-model.md, for testing the renderer alone.

``sample_pages()`` gives a small but complete site (every page kind, realistic numbers);
``sample_pages(text=HOSTILE)`` puts one hostile string into every field a page displays
(package, version, error, workshop, system and Python names), to prove it stays inert.
``build_real_site()`` runs the whole real build on synthetic and hostile submission files.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from generator.build import build_site
from generator.changes import Found, changes_feed
from generator.model import Page
from generator.pages.matrix import matrix_charts
from generator.pages.overview import overview_charts
from generator.pages.package import package_charts
from generator.pages.submit_examples import examples
from generator.slugs import slugify, workshop_path
from generator.synthetic import write_files
from installdata.config import GeneratorConfig
from support.files import submission

HOSTILE = [
    "<script>alert(1)</script>",
    "$x^2$ \\frac{1}{2}",
    "{{ 7*7 }}",
    "{% raw %}",
    "../../etc/passwd",
    "nul\x00byte",
    "rtl \u202eevil\u202c end",
    "emoji 🐍✨",
    "quote \" ' & amp;",
    '=HYPERLINK("http://x")',
    "long-" + "x" * 3000,
]


def _rate(failing: int, tested: int) -> float | None:
    return round(failing / tested, 4) if tested else None


def _package_row(name: str, tested: int, failing: int) -> dict[str, Any]:
    return {
        "name": name,
        "href": f"packages/{slugify(name)}.html",  # hand-made names: one page each
        "tested_users": tested,
        "failing_users": failing,
        "failure_rate": _rate(failing, tested),
        "failing_users_all_attempts": failing + 2,
        "attempts": tested + 5,
        "failed_attempts": failing + 3,
    }


def sample_pages(text: str | None = None) -> list[Page]:
    """Every page kind, with ``text`` (if given) in every displayed name."""
    t = (lambda s: f"{s} {text}") if text is not None else (lambda s: s)
    packages = [t("make"), t("Git (git)"), t("Python 3 (python)"), t("SQLite3 (sqlite3)")]
    systems = [t("Linux"), t("macOS"), t("Windows")]
    pythons = [t("3.11.6"), t("3.12.1")]
    workshops = [t("2026-05-01-zurich"), t("2026-06-10-online")]
    numbers = [(40, 12), (40, 5), (38, 0), (30, 1)]
    package_rows = [
        _package_row(name, tested, failing)
        for name, (tested, failing) in zip(packages, numbers, strict=True)
    ]
    weekly = [
        {
            "week": week,
            "submissions": subs,
            "users": subs - 2,
            "failing_submissions": bad,
            "failure_rate": _rate(bad, subs),
            "partial": week == "2026-11-23",
        }
        for week, subs, bad in [
            ("2026-10-26", 12, 5),
            ("2026-11-02", 30, 9),
            ("2026-11-09", 0, 0),
            ("2026-11-16", 21, 6),
            ("2026-11-23", 4, 1),
        ]
    ]
    previous = {
        "days": 30,
        "start": "2026-09-24",
        "end": "2026-10-24",
        "tested_users": 20,
        "failing_users": 2,
        "failure_rate": 0.1,
        "change_points": 21.1,
    }
    windows = [
        {"label": "All time", "href": "index.html"},
        {"label": "Last 30 days", "href": "recent/30-days.html"},
    ]

    known_versions, unknown_versions = (
        [
            {
                "name": r["name"],
                "version": version,
                "href": r["href"],
                "failing_users": r["failing_users"],
                "failing_users_all_attempts": r["failing_users_all_attempts"],
            }
            for r in package_rows
            if r["failing_users"]
        ]
        for version in (t("4.3"), "unknown")
    )

    changes = [
        {
            "kind": "new_error",
            "package": package_rows[0]["name"],
            "href": package_rows[0]["href"],
            "date": "2026-11-20",
            "summary": t("3 people have reported this error since 2026-11-20: could not find"),
        }
    ]

    def overview(window_days: int | None) -> dict[str, Any]:
        return {
            "generated_at": "2026-11-23T02:00:00Z",
            "window_days": window_days,
            "windows": windows,
            "totals": {
                "submissions": 67,
                "users": 45,
                "users_with_failures": 14,
                "workshops": 2,
                "packages": 4,
                "share_users_failing": 0.3111,
            },
            "previous": None if window_days is None else previous,
            "failing_packages": [r for r in package_rows if r["failing_users"]],
            "failing_package_versions": [*unknown_versions, *known_versions],
            "failing_known_versions": known_versions,
            "users_by_system": [
                {"system": s, "users": u, "users_with_failures": f, "failure_rate": _rate(f, u)}
                for s, u, f in zip(systems, (25, 12, 8), (9, 2, 3), strict=True)
            ],
            "users_by_python": [
                {
                    "python_version": p,
                    "users": u,
                    "users_with_failures": f,
                    "failure_rate": _rate(f, u),
                }
                for p, u, f in zip(pythons, (30, 15), (10, 4), strict=True)
            ],
            "weekly": weekly,
            "changes": changes,
            "events": [
                {
                    "date": weekly[-1]["week"],
                    "label": t("instructions switched to conda"),
                    "days": 30,
                    "people_before": 0,
                    "failing_before": 0,
                    "people_after": 0,
                    "failing_after": 0,
                    "rate_before": None,
                    "rate_after": None,
                    "change": None,
                    "packages": [],
                }
            ],
        }

    def breakdown(values: list[str]) -> list[dict[str, Any]]:
        return [
            {
                "value": v,
                "tested_users": 10 + i,
                "failing_users": i,
                "failure_rate": _rate(i, 10 + i),
            }
            for i, v in enumerate(values)
        ]

    everything, recent = overview(None), overview(30)
    pages = [
        Page(
            "index.html",
            "overview.html",
            "Installation test results",
            everything,
            charts=overview_charts(everything),
            feed=changes_feed(
                [Found(change, "") for change in changes],
                title=t("Installation test results"),
                generated_at="2026-11-23T02:00:00Z",
            ),
        ),
        Page(
            "recent/30-days.html",
            "overview.html",
            "Installation test results: last 30 days",
            recent,
            charts=overview_charts(recent),
        ),
        Page(
            "packages/index.html",
            "packages.html",
            "Packages",
            {"packages": package_rows},
            {"packages": package_rows},
        ),
    ]
    for row in package_rows:
        context = {
            key: row[key]
            for key in (
                "name",
                "tested_users",
                "failing_users",
                "failure_rate",
                "failing_users_all_attempts",
                "attempts",
                "failed_attempts",
            )
        }
        context |= {
            "window_days": None,
            "windows": [{"label": "All time", "href": row["href"]}],
            "previous": None,
            "versions": [
                {
                    "version": t("2.39.2"),
                    "passing_users": 20,
                    "failing_users": 3,
                    "tested_users": 23,
                    "failure_rate": 0.1304,
                    "first_seen": "2026-10-27",
                    "last_seen": "2026-11-23",
                },
                {
                    "version": None,
                    "passing_users": 0,
                    "failing_users": 1,
                    "tested_users": 1,
                    "failure_rate": 1.0,
                    "first_seen": "2026-11-02",
                    "last_seen": "2026-11-02",
                },
            ],
            "breakdowns": {
                "system": breakdown(systems),
                "distribution": breakdown([t("Ubuntu 22.04"), t("Fedora 39")]),
                "machine": breakdown([t("x86_64"), t("arm64")]),
                "python_version": breakdown(pythons),
            },
            "weekly": [
                {
                    "week": w["week"],
                    "attempts": w["submissions"],
                    "failed_attempts": w["failing_submissions"],
                    "failure_rate": w["failure_rate"],
                    "rate_low": None if w["failure_rate"] is None else w["failure_rate"] / 2,
                    "rate_high": None if w["failure_rate"] is None else (1 + w["failure_rate"]) / 2,
                    "partial": w["partial"],
                }
                for w in weekly
            ],
            "errors": [
                {
                    "message": t("could not find '<name>' executable"),
                    "count": 7,
                    "example": t("could not find 'make' executable for make\n  see http://x"),
                    "users": 5,
                    "systems": [
                        {"system": systems[2], "users": 4},
                        {"system": systems[1], "users": 1},
                    ],
                    "chain": [
                        t("check for build tools (make) failed: some dependencies failed"),
                        t("check for make failed: could not find 'make' executable for make"),
                    ],
                    "help_urls": ["https://www.gnu.org/software/make/"],
                },
            ]
            if row["failed_attempts"]
            else [],
            "changes": [c for c in changes if c["href"] == row["href"]],
            "help_urls": ["https://example.org/setup/#make"] if row["failed_attempts"] else [],
        }
        pages.append(
            Page(
                row["href"],
                "package.html",
                f"Package: {row['name']}",
                context,
                {"errors": context["errors"]},
                package_charts(context),
            )
        )
    workshop_rows = [
        {
            "name": name,
            "href": workshop_path(name),
            "participants": 20 - 5 * i,
            "participants_failing": 6 - i,
            "first_seen": "2026-10-28",
            "last_seen": "2026-11-02",
        }
        for i, name in enumerate(workshops)
    ]
    pages.append(
        Page(
            "workshops/index.html",
            "workshops.html",
            "Workshops",
            {"workshops": workshop_rows, "hidden_workshops": 3},
            {"workshops": workshop_rows},
        )
    )
    for row in workshop_rows:
        context = (
            {k: v for k, v in row.items() if k != "href"}
            | {
                "packages": [
                    {
                        "name": r["name"],
                        "href": r["href"],
                        "failing_participants": r["failing_users"],
                        "tested_participants": r["tested_users"],
                        "top_error": t("could not find '<name>' executable")
                        if r["failing_users"]
                        else None,
                        "top_error_example": t("could not find 'make' executable")
                        if r["failing_users"]
                        else None,
                        "by_system": [
                            {"system": s, "failing_participants": 1, "tested_participants": 5}
                            for s in systems
                        ],
                        "help_urls": [f"https://example.com/{r['href']}"]
                        if r is package_rows[0]
                        else [],
                    }
                    for r in package_rows
                ],
                "install_command": None,  # the sample site publishes no install-test.py
                "participants_fixed": 1,
                "learners": [
                    {
                        "learner": n + 1,
                        "system": s,
                        "python_version": pythons[0],
                        "failing": [r["name"] for r in package_rows[: n + 1]],
                        "fixed": [package_rows[-1]["name"]] if n == 0 else [],
                    }
                    for n, s in enumerate(systems)
                ],
                "systems": [
                    {"system": s, "participants": 5, "participants_failing": 2} for s in systems
                ],
                "python_versions": [
                    {"python_version": p, "participants": 8, "participants_failing": 3}
                    for p in pythons
                ],
            }
        )
        pages.append(Page(row["href"], "workshop.html", f"Workshop: {row['name']}", context))

    def matrix_rows(columns: list[str]) -> list[dict[str, Any]]:
        return [
            {
                "name": r["name"],
                "href": r["href"],
                "cells": [
                    {
                        "column": c,
                        "tested_users": 0 if j == 2 and i == 3 else 10,
                        "failing_users": 0 if j == 2 and i == 3 else (i * 3 + j) % 11,
                        "failure_rate": None if j == 2 and i == 3 else _rate((i * 3 + j) % 11, 10),
                    }
                    for j, c in enumerate(columns)
                ],
            }
            for i, r in enumerate(package_rows)
        ]

    matrix = {
        "window_days": None,
        "windows": [{"label": "All time", "href": "matrix.html"}],
        "systems": systems,
        "python_versions": pythons,
        "by_system": matrix_rows(systems),
        "by_python": matrix_rows(pythons),
    }
    pages.append(
        Page(
            "matrix.html", "matrix.html", "Packages × systems", matrix, charts=matrix_charts(matrix)
        )
    )
    pages.append(
        Page(
            "compare.html",
            "compare.html",
            "Compare packages",
            {
                "window_days": None,
                "windows": [{"label": "All time", "href": "compare.html"}],
                "packages": [
                    {
                        "name": r["name"],
                        "href": r["href"],
                        "tested_users": r["tested_users"],
                        "failing_users": r["failing_users"],
                        "failure_rate": r["failure_rate"],
                        "by_system": breakdown(systems[: 2 + i % 2]),
                        "top_error": t("could not find 'make'") if r["failing_users"] else None,
                    }
                    for i, r in enumerate(package_rows)
                ],
                "systems": systems,
            },
        )
    )
    pages.append(
        Page(
            "submit.html",
            "submit.html",
            "How to submit results",
            {
                "endpoints": [
                    {
                        "method": "POST",
                        "path": "/api/v1/submissions",
                        "description": "Store one submission.",
                    },
                    {
                        "method": "POST",
                        "path": "/installation_data/",
                        "description": "The same, at the path older installer scripts use.",
                    },
                ],
                "schema_href": None,
                "collector_url": "https://results.example.com",
                "examples": examples("https://results.example.com"),
                "install_test": None,
                "example_request": {
                    "user_system_info": {"system": "Linux", "python_version": "3.11.6"},
                    "successful_installs": [{"name": "Git (git)", "version": "2.39.2"}],
                    "failed_installs": [
                        {"name": "make", "version": None, "error_description": "not found"}
                    ],
                    "unique_user_id": None,
                },
                "example_response": {
                    "key": "…",
                    "submission_id": "…",
                    "summary": {"status": "Successful", "message": "new id generated"},
                },
            },
        )
    )
    return pages


def hostile_submission(text: str, number: int) -> dict[str, Any]:
    """A stored submission (docs/file-format.md) whose every displayed field carries ``text``."""
    return submission(
        submission_id=f"hostile-{number:03d}",
        received_at=f"2026-11-{10 + number % 10:02d}T10:00:00Z",
        user_id=f"hostile-user-{number}",
        user_system_info={
            "distribution_name": f"Distro {text}",
            "distribution_version": text,
            "system": f"OS {text}",
            "machine": text,
            "python_version": f"3.{text}",
            "workshop_id": f"workshop {text}",
        },
        successful_installs=[{"name": f"ok {text}", "version": text}],
        failed_installs=[
            {
                "name": f"pkg {text}",
                "version": text,
                "error_description": f"error {text}\n  see https://example.org/setup/{text}",
            }
        ],
    )


def build_real_site(root: Path, people: int = 300) -> Path:
    """Run the real build (load -> people -> aggregate -> render -> publish) on real files.

    Synthetic learners plus one hostile submission per ``HOSTILE`` string; the build time is
    pinned with SOURCE_DATE_EPOCH so the site is the same every run. Returns the site folder.
    """
    submissions, site = root / "submissions", root / "site"
    write_files(submissions, people, seed=7, end=datetime(2026, 11, 20, tzinfo=timezone.utc))
    for number, text in enumerate(HOSTILE):
        folder = submissions / "hostile"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{number:03d}.json").write_text(
            json.dumps(hostile_submission(text, number)), encoding="utf-8"
        )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", "1795000000")
        build_site(GeneratorConfig(submissions_dir=submissions, site_dir=site))
    return site
