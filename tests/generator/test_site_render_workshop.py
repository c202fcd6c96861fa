"""The workshop page, rendered thousands of times a build, writes out the shared macros' markup.

templates/workshop.html does not call _macros.html's stats, table_frame, data_table and
full_message (a macro call costs as much as a dozen printed values); these tests render the
macros themselves and check that the page holds exactly their markup, so the two cannot drift
apart. They also check that control characters in data reach the page as U+FFFD, which is now
done once per finished page instead of once per printed value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from markupsafe import Markup

from generator.model import Page
from generator.render import write_site
from generator.render.templates import environment

BODY = "\x00BODY\x00"  # stands for the rows a table_frame caller gives; never in a page


def _package(name: str, error: str | None, example: str | None) -> dict[str, Any]:
    return {
        "name": name,
        "href": f"packages/{name}.html",
        "failing_participants": 3,
        "tested_participants": 1200,
        "top_error": error,
        "top_error_example": example,
        "by_system": [
            {"system": "macOS", "failing_participants": 1, "tested_participants": 5},
            {"system": None, "failing_participants": 0, "tested_participants": 0},
        ],
        "help_urls": ["https://example.com/fix"] if error else [],
    }


def _workshop(packages: int) -> Page:
    """A workshop page with every kind of row the template distinguishes."""
    kinds = [("full <msg>", "full <msg> 1.2"), ("same", "same"), ("no example", None), (None, None)]
    return Page(
        path="workshops/w.html",
        template="workshop.html",
        title="w",
        context={
            "name": "w",
            "participants": 1234,
            "participants_failing": 7,
            "participants_fixed": 2,
            "first_seen": "2026-01-05",
            "last_seen": "2026-01-09",
            "packages": [_package(f"p{i}", *kinds[i % len(kinds)]) for i in range(packages)],
            "systems": [
                {"system": "macOS", "participants": 5, "participants_failing": 1},
                {"system": None, "participants": 2, "participants_failing": 0},
            ][: 2 if packages else 0],
            "python_versions": [
                {"python_version": "3.12", "participants": 6, "participants_failing": 1},
                {"python_version": None, "participants": 1, "participants_failing": 0},
            ][: 2 if packages else 0],
            "install_command": None,
            "learners": [
                {
                    "learner": 1,
                    "system": "macOS",
                    "python_version": "3.12",
                    "failing": ["p0", "p1"],
                    "fixed": [],
                },
                {
                    "learner": 2,
                    "system": "macOS",
                    "python_version": "3.12",
                    "failing": [],
                    "fixed": ["p2"],
                },
            ][: 2 if packages else 0],
        },
    )


def _rendered(page: Page, out: Path) -> str:
    write_site([page], out, title="T", generated_at="2026-01-10T00:00:00Z")
    return (out / page.path).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def macros() -> Any:
    return environment().get_template("_macros.html").module


@pytest.mark.parametrize("packages", [0, 5, 13], ids=["empty", "short", "filterable"])
def test_the_workshop_page_holds_exactly_the_shared_macros_markup(
    tmp_path: Path, macros: Any, packages: int
) -> None:
    page = _workshop(packages)
    context = page.context
    html = _rendered(page, tmp_path)

    stats = [
        ("Participants", context["participants"], "number"),
        ("With a failure", context["participants_failing"], "number"),
        ("Fixed something since their first try", context["participants_fixed"], "number"),
    ]
    assert str(macros.stats(stats)) in html

    frame = macros.table_frame(
        "packages",
        "Packages failing for participants (latest attempts)",
        context["packages"],
        "No participant's latest attempt has a failing package.",
        caller=lambda: Markup(BODY),
    )
    before, _, after = str(frame).partition(BODY)
    assert before in html and after in html
    for package in context["packages"]:
        if package["top_error"] is not None:
            message = macros.full_message(package["top_error"], package["top_error_example"])
            assert str(message) in html

    for id_, rows, key, heading, caption in [
        (
            "systems",
            context["systems"],
            "system",
            "Operating system",
            "Participants per operating system",
        ),
        (
            "python-versions",
            context["python_versions"],
            "python_version",
            "Python version",
            "Participants per Python version",
        ),
    ]:
        kind = "text" if key == "system" else "code"
        columns = [
            (key, heading, kind),
            ("participants", "Participants", "number"),
            ("participants_failing", "With a failure", "number"),
        ]
        assert str(macros.data_table(id_, caption, rows, columns, "../")) in html


@pytest.mark.parametrize("control", ["\x00", "\x08", "\x1f", "\x7f", "\x85", "\x9f"])
def test_control_characters_in_data_are_shown_as_replacement_characters(
    tmp_path: Path, control: str
) -> None:
    page = _workshop(4)
    name = f"a{control}b\tc"
    page.context["packages"][0]["name"] = name
    html = _rendered(page, tmp_path)
    assert "a\ufffdb\tc" in html
    assert control not in html
    assert "\u00b7" in html  # the title's middle dot, a non-ASCII character that is no control
