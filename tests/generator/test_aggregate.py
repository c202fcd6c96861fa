"""Aggregation on small hand-made folders: the counting rules reach the page contexts."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pandas as pd
import pytest

from generator import messages
from generator.charts import Bars, HeatMap, WeeklyBars, WeeklyRate
from generator.model import Page, PageBatch, pages_of
from generator.pages import iter_pages
from generator.slugs import package_path
from installdata.load import load_submissions
from installdata.people import assign_people
from support.files import write_submission

NOW = pd.Timestamp("2026-11-23T12:00:00Z")


def pages_for(root: Path, min_workshop_participants: int = 1) -> dict[str, Page]:
    loaded = load_submissions(root)
    pages = iter_pages(
        assign_people(loaded.submissions),
        loaded.results,
        now=NOW,
        generated_at="2026-11-23T12:00:00Z",
        title="Results",
        min_workshop_participants=min_workshop_participants,
    )
    return {page.path: page for page in pages_of(pages)}


def days_ago(days: int) -> str:
    return (NOW - pd.Timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_headline_figures_count_latest_attempts_and_all_attempts_stand_beside(
    tmp_path: Path,
) -> None:
    # Ann failed make, then fixed it; Bob fails make and git; Cy passes everything.
    write_submission(tmp_path, user_id="ann", received_at=days_ago(5), failed=["make"])
    write_submission(
        tmp_path, user_id="ann", received_at=days_ago(4), successful=["Git (git)", "make"]
    )
    write_submission(
        tmp_path,
        user_id="bob",
        received_at=days_ago(3),
        failed=["make", "Git (git)"],
        successful=[],
    )
    write_submission(
        tmp_path, user_id="cy", received_at=days_ago(2), successful=["Git (git)", "make"]
    )

    pages = pages_for(tmp_path)
    index = pages["index.html"].context

    assert index["totals"] == {
        "submissions": 4,
        "users": 3,
        "users_with_failures": 1,
        "workshops": 0,
        "packages": 2,
        "share_users_failing": 0.3333,
    }
    assert index["failing_packages"] == [
        {
            "name": "Git (git)",
            "href": package_path("Git (git)"),
            "failing_users": 1,
            "failing_users_all_attempts": 1,
            "tested_users": 3,
            "failure_rate": 0.3333,
            "attempts": 4,
            "failed_attempts": 1,
        },
        {
            "name": "make",
            "href": package_path("make"),
            "failing_users": 1,
            "failing_users_all_attempts": 2,
            "tested_users": 3,
            "failure_rate": 0.3333,
            "attempts": 4,
            "failed_attempts": 2,
        },
    ]
    make = pages[package_path("make")].context
    assert (make["tested_users"], make["failing_users"], make["failing_users_all_attempts"]) == (
        3,
        1,
        2,
    )
    assert (make["attempts"], make["failed_attempts"]) == (4, 2)


def test_a_fixed_package_leaves_failing_packages_but_stays_in_the_packages_index(
    tmp_path: Path,
) -> None:
    write_submission(
        tmp_path, user_id="ann", received_at=days_ago(5), failed=["make"], successful=[]
    )
    write_submission(tmp_path, user_id="ann", received_at=days_ago(4), successful=["make"])

    pages = pages_for(tmp_path)

    assert pages["index.html"].context["failing_packages"] == []
    assert pages["index.html"].context["totals"]["users_with_failures"] == 0
    (row,) = pages["packages/index.html"].context["packages"]
    assert (row["name"], row["failing_users"], row["failing_users_all_attempts"]) == ("make", 0, 1)


def test_a_package_only_in_an_earlier_attempt_is_not_tested_by_that_user(tmp_path: Path) -> None:
    write_submission(tmp_path, user_id="ann", received_at=days_ago(5), successful=["R (R)", "make"])
    write_submission(tmp_path, user_id="ann", received_at=days_ago(4), successful=["make"])

    packages = {
        row["name"]: row for row in pages_for(tmp_path)["packages/index.html"].context["packages"]
    }

    assert packages["R (R)"]["tested_users"] == 0
    assert packages["R (R)"]["failure_rate"] is None
    assert packages["make"]["tested_users"] == 1


def test_failing_packages_are_sorted_by_failing_users_then_name(tmp_path: Path) -> None:
    for user, failed in [
        ("a", ["zlib", "b-pkg"]),
        ("b", ["zlib", "a-pkg"]),
        ("c", ["b-pkg", "zlib"]),
    ]:
        write_submission(tmp_path, user_id=user, failed=failed, successful=[])

    failing = pages_for(tmp_path)["index.html"].context["failing_packages"]

    assert [(row["name"], row["failing_users"]) for row in failing] == [
        ("zlib", 3),
        ("b-pkg", 2),
        ("a-pkg", 1),
    ]


def test_failing_known_versions_leave_out_unknown_ones_that_the_full_list_keeps(
    tmp_path: Path,
) -> None:
    for number in range(3):
        write_submission(tmp_path, user_id=f"u{number}", failed=["make"])
    write_submission(
        tmp_path,
        user_id="v",
        failed=None,
        failed_installs=[{"name": "make", "version": "4.3", "error_description": "boom"}],
    )

    index = pages_for(tmp_path)["index.html"].context

    assert [(r["version"], r["failing_users"]) for r in index["failing_package_versions"]] == [
        ("unknown", 3),
        ("4.3", 1),
    ]
    assert [(r["version"], r["failing_users"]) for r in index["failing_known_versions"]] == [
        ("4.3", 1)
    ]


def test_a_package_listed_twice_in_one_file_counts_once(tmp_path: Path) -> None:
    write_submission(tmp_path, user_id="a", successful=["make"], failed=["make", "make"])

    make = pages_for(tmp_path)[package_path("make")].context

    assert (make["tested_users"], make["failing_users"], make["attempts"]) == (1, 1, 1)


def test_recent_windows_count_only_their_period_and_its_latest_attempts(tmp_path: Path) -> None:
    # old: failed make 200 days ago, passes 10 days ago. gone: only 100 days ago.
    write_submission(
        tmp_path, user_id="old", received_at=days_ago(200), failed=["make"], successful=[]
    )
    write_submission(tmp_path, user_id="old", received_at=days_ago(10), successful=["make"])
    write_submission(
        tmp_path, user_id="gone", received_at=days_ago(100), failed=["make"], successful=[]
    )

    pages = pages_for(tmp_path)
    totals = {days: pages[f"recent/{days}-days.html"].context["totals"] for days in (30, 90, 365)}

    assert pages["index.html"].context["totals"]["submissions"] == 3
    assert (totals[30]["submissions"], totals[30]["users"], totals[30]["users_with_failures"]) == (
        1,
        1,
        0,
    )
    assert totals[90] == totals[30]
    assert (
        totals[365]["submissions"],
        totals[365]["users"],
        totals[365]["users_with_failures"],
    ) == (3, 2, 1)
    assert pages["recent/30-days.html"].context["window_days"] == 30
    assert pages["index.html"].context["window_days"] is None
    recent_make = pages["recent/365-days.html"].context["failing_packages"][0]
    assert (recent_make["failing_users"], recent_make["failing_users_all_attempts"]) == (1, 2)


def test_workshops_count_people_by_their_workshop_and_hide_small_ones(tmp_path: Path) -> None:
    for number in range(3):
        write_submission(
            tmp_path,
            user_id=f"big-{number}",
            workshop_id="big-ws",
            failed=["make"] if number else [],
        )
    write_submission(tmp_path, user_id="lonely", workshop_id="tiny-ws", failed=["make"])
    write_submission(tmp_path, user_id="none")

    pages = pages_for(tmp_path, min_workshop_participants=2)

    assert pages["index.html"].context["totals"]["workshops"] == 2
    index = pages["workshops/index.html"].context
    assert index["hidden_workshops"] == 1
    assert [
        (w["name"], w["participants"], w["participants_failing"]) for w in index["workshops"]
    ] == [("big-ws", 3, 2)]
    assert [
        page.context["name"] for page in pages.values() if page.template == "workshop.html"
    ] == ["big-ws"]
    big = pages[index["workshops"][0]["href"]].context
    assert big["packages"] == [
        {
            "name": "make",
            "href": package_path("make"),
            "failing_participants": 2,
            "tested_participants": 2,  # big-0's default run does not list make
            "top_error": "could not find 'make' executable for make",
            "top_error_example": "could not find 'make' executable for make",
            "by_system": [{"system": "Linux", "failing_participants": 2, "tested_participants": 2}],
            "help_urls": [],
        }
    ]
    assert big["systems"] == [{"system": "Linux", "participants": 3, "participants_failing": 2}]
    assert (big["first_seen"], big["last_seen"]) == ("2026-11-01", "2026-11-01")


def test_workshop_pages_show_tested_participants_and_their_most_common_error(
    tmp_path: Path,
) -> None:
    common = "could not find /home/alice/bin/make (exit 2)"
    for number, error in enumerate([common, common, "permission denied"]):
        write_submission(
            tmp_path,
            user_id=f"p{number}",
            workshop_id="2026-11-20-ws",
            failed=["make"],
            error=error,
        )
    write_submission(tmp_path, user_id="p3", workshop_id="2026-11-20-ws", successful=["make"])
    # Outside the workshop the other message is the most common one: it must not count here.
    for number in range(4):
        write_submission(tmp_path, user_id=f"o{number}", failed=["make"], error="permission denied")

    pages = pages_for(tmp_path)
    (workshop,) = pages["workshops/index.html"].context["workshops"]
    (package,) = pages[workshop["href"]].context["packages"]

    assert package == {
        "name": "make",
        "href": package_path("make"),
        "failing_participants": 3,
        "tested_participants": 4,
        "top_error": "could not find <path> (exit <n>)",
        "top_error_example": "could not find /home/<user>/bin/make (exit 2)",
        "by_system": [{"system": "Linux", "failing_participants": 3, "tested_participants": 4}],
        "help_urls": [],
    }


def test_the_workshops_index_lists_the_most_recent_workshops_first(tmp_path: Path) -> None:
    for user, workshop, day in [
        ("a", "2026-09-01-big", 80),
        ("b", "2026-09-01-big", 79),
        ("c", "2026-11-20-new", 3),
        ("d", "2026-10-01-mid", 50),
        ("e", "2026-11-20-also", 3),
    ]:
        write_submission(tmp_path, user_id=user, workshop_id=workshop, received_at=days_ago(day))

    rows = pages_for(tmp_path)["workshops/index.html"].context["workshops"]

    assert [row["name"] for row in rows] == [
        "2026-11-20-also",
        "2026-11-20-new",
        "2026-10-01-mid",
        "2026-09-01-big",
    ]


def test_breakdowns_label_distributions_python_minor_versions_and_missing_values(
    tmp_path: Path,
) -> None:
    write_submission(tmp_path, user_id="a", python_version="3.11.6", failed=["make"])
    write_submission(tmp_path, user_id="b", python_version="3.11.2", system="")

    context = pages_for(tmp_path)[package_path("Git (git)")].context

    assert context["breakdowns"]["python_version"] == [
        {"value": "3.11", "tested_users": 2, "failing_users": 0, "failure_rate": 0.0}
    ]
    assert [row["value"] for row in context["breakdowns"]["system"]] == ["Linux", "unknown"]
    assert context["breakdowns"]["distribution"][0]["value"] == "Ubuntu 22.04"


def test_a_distribution_is_its_name_and_version_with_missing_parts_left_out(
    tmp_path: Path,
) -> None:
    # "Arch Linux" + "" and "Arch" + "Linux" read the same, so they are one row.
    for user, name, version in [
        ("a", "Arch Linux", None),
        ("b", "Arch", "Linux"),
        ("c", None, "22.04"),
        ("d", None, None),
        ("e", "Ubuntu", "22.04"),
    ]:
        info = {"system": "Linux", "distribution_name": name, "distribution_version": version}
        write_submission(tmp_path, user_id=user, user_system_info=info)

    breakdown = pages_for(tmp_path)[package_path("Git (git)")].context["breakdowns"]

    assert [(row["value"], row["tested_users"]) for row in breakdown["distribution"]] == [
        ("Arch Linux", 2),
        ("22.04", 1),
        ("Ubuntu 22.04", 1),
        ("unknown", 1),
    ]


def test_machine_aliases_are_one_architecture_everywhere(tmp_path: Path) -> None:
    for user, machine in [
        ("a", "AMD64"),
        ("b", "x86_64"),
        ("c", "arm64"),
        ("d", "ARM64"),
        ("e", "aarch64"),
        ("f", "riscv64"),
    ]:
        info = {"system": "Linux", "machine": machine, "python_version": "3.11.6"}
        write_submission(tmp_path, user_id=user, failed=["make"], user_system_info=info)
    pages = pages_for(tmp_path)

    machines = pages[package_path("make")].context["breakdowns"]["machine"]

    assert [(row["value"], row["tested_users"]) for row in machines] == [
        ("arm64", 3),
        ("x86_64", 2),
        ("riscv64", 1),
    ]


def test_matrix_cells_follow_the_column_order(tmp_path: Path) -> None:
    write_submission(tmp_path, user_id="a", system="Windows", failed=["make"], successful=[])
    write_submission(tmp_path, user_id="b", system="Windows", successful=["make"])
    write_submission(tmp_path, user_id="c", system="Linux", successful=["make"])

    matrix = pages_for(tmp_path)["matrix.html"].context

    assert matrix["systems"] == ["Windows", "Linux"]
    assert pages_for(tmp_path)["compare.html"].context["systems"] == matrix["systems"]
    (row,) = matrix["by_system"]
    assert row["cells"] == [
        {"column": "Windows", "tested_users": 2, "failing_users": 1, "failure_rate": 0.5},
        {"column": "Linux", "tested_users": 1, "failing_users": 0, "failure_rate": 0.0},
    ]


def test_error_messages_group_by_pattern_with_a_scrubbed_example(tmp_path: Path) -> None:
    texts = [
        "could not find /home/alice/bin/make (exit 2) mail alice@example.org",
        "could not find /home/bob/bin/make (exit 3) mail bob@example.org",
        "could not find /home/bob/bin/make (exit 3) mail bob@example.org",
        r"permission denied: C:\Users\carol\AppData\Local\Temp\tmpx81k2\make.exe",
    ]
    for number, text in enumerate(texts):
        write_submission(tmp_path, user_id=f"u{number}", failed=["make"], error=text)

    pages = pages_for(tmp_path)
    errors = pages[package_path("make")].context["errors"]

    assert errors == [
        {
            "message": "could not find <path> (exit <n>) mail <email>",
            "count": 3,
            "example": "could not find /home/<user>/bin/make (exit 3) mail <email>",
            "users": 3,
            "systems": [{"system": "Linux", "users": 3}],
            "chain": [],
            "help_urls": [],
        },
        {
            "message": "permission denied: <path>",
            "count": 1,
            "example": r"permission denied: C:\Users\<user>\AppData\Local\Temp\tmpx81k2\make.exe",
            "users": 1,
            "systems": [{"system": "Linux", "users": 1}],
            "chain": [],
            "help_urls": [],
        },
    ]
    assert pages["compare.html"].context["packages"][1]["top_error"] == errors[0]["message"]


def test_error_groups_count_the_people_who_see_them_and_their_systems(tmp_path: Path) -> None:
    # Wes fails twice on Windows, then fixes it; Win and Max still fail; Lin fails another way.
    error = "could not find make.exe (exit 2)"
    for day in (9, 8):
        write_submission(
            tmp_path,
            user_id="wes",
            system="Windows",
            received_at=days_ago(day),
            failed=["make"],
            error=error,
        )
    write_submission(
        tmp_path, user_id="wes", system="Windows", received_at=days_ago(7), successful=["make"]
    )
    write_submission(tmp_path, user_id="win", system="Windows", failed=["make"], error=error)
    write_submission(tmp_path, user_id="max", system="Darwin", failed=["make"], error=error)
    write_submission(tmp_path, user_id="win2", system="Windows", failed=["make"], error=error)
    write_submission(tmp_path, user_id="lin", system="Linux", failed=["make"], error="no such file")

    page = pages_for(tmp_path)[package_path("make")]
    errors = page.context["errors"]

    assert [(e["message"], e["count"], e["users"], e["systems"]) for e in errors] == [
        (
            "could not find make.exe (exit <n>)",
            5,
            3,
            [{"system": "Windows", "users": 2}, {"system": "macOS", "users": 1}],
        ),
        ("no such file", 1, 1, [{"system": "Linux", "users": 1}]),
    ]
    assert page.tables["errors"][0]["systems"] == "Windows 2; macOS 1"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("git 2.39.2 is older than 2.40", "git 2.20.1 is older than 2.40"),
        ("object at 0x7f3a2b1c0d90 failed", "object at 0x7f00aa11bb22 failed"),
        ("lock 3f9a1c0e77b2 held", "lock 0a1b2c3d4e5f held"),
        ("cannot open 'tmpab12_x.log'", "cannot open 'tmpzz9q.log'"),
        (
            "/Users/dave/miniconda3/bin/python: not found",
            "/Users/erin/anaconda/bin/python: not found",
        ),
    ],
)
def test_messages_that_differ_only_in_machine_details_share_a_pattern(one: str, other: str) -> None:
    patterns = messages.normalise(pd.Series([one, other]))

    assert patterns[0] == patterns[1]
    assert messages.normalise(pd.Series(["could not find 'make' executable"]))[0] == (
        "could not find 'make' executable"
    )


def test_no_email_or_user_id_reaches_any_context(tmp_path: Path) -> None:
    write_submission(
        tmp_path,
        user_id="id-0f1e2d3c",
        email_id="private.person@example.org",
        workshop_id="ws-1",
        failed=["make"],
        error="see /home/private/x for private.person@example.org",
    )
    write_submission(tmp_path, user_id="id-aabbccdd", workshop_id="typed.email@example.org")

    dumped = json.dumps(
        [(p.path, p.title, p.context, p.tables) for p in pages_for(tmp_path).values()]
    )

    for secret in ["private.person", "typed.email", "example.org", "id-0f1e2d3c", "id-aabbccdd"]:
        assert secret not in dumped


def test_contexts_are_json_with_plain_ints_and_rounded_float_rates(tmp_path: Path) -> None:
    for number in range(3):
        write_submission(tmp_path, user_id=f"u{number}", failed=["make"] if number == 0 else [])

    for page in pages_for(tmp_path).values():
        assert json.loads(json.dumps(page.context)) == page.context
    failing = pages_for(tmp_path)["index.html"].context["failing_packages"][0]
    assert type(failing["failing_users"]) is int
    assert failing["failure_rate"] == 1.0
    share = pages_for(tmp_path)["index.html"].context["totals"]["share_users_failing"]
    assert share == 0.3333 and type(share) is float


def test_iter_pages_gives_the_workshop_pages_first_as_a_batch_then_each_other_page(
    tmp_path: Path,
) -> None:
    write_submission(tmp_path, user_id="a", workshop_id="ws-1", failed=["make"])
    write_submission(tmp_path, user_id="b", workshop_id="ws-2")
    write_submission(tmp_path, user_id="c", workshop_id="ws-3")
    loaded = load_submissions(tmp_path)
    people = assign_people(loaded.submissions)

    items = list(iter_pages(people, loaded.results, now=NOW, generated_at="x", title="T"))

    batch, *pages = items
    assert all(isinstance(page, Page) for page in pages)
    assert "workshop.html" not in [page.template for page in pages]  # type: ignore[union-attr]
    assert isinstance(batch, PageBatch) and len(batch.paths) == 3
    whole = list(batch.build(0, 1))
    assert [page.path for page in whole] == list(batch.paths)
    assert {page.template for page in whole} == {"workshop.html"}
    # Any split into shares builds the same pages, each once.
    shares = [page for share in range(2) for page in batch.build(share, 2)]
    assert sorted(shares, key=lambda page: page.path) == sorted(whole, key=lambda page: page.path)


def test_each_page_builder_decides_the_charts_of_its_pages(tmp_path: Path) -> None:
    write_submission(tmp_path, user_id="a", workshop_id="ws-1", failed=["make"], system="Darwin")
    write_submission(tmp_path, user_id="b", workshop_id="ws-1", successful=["Git (git)", "make"])

    pages = pages_for(tmp_path)
    charts = {path: [(type(c), c.name) for c in page.charts] for path, page in pages.items()}

    overview = [
        (Bars, "failing-packages"),
        (Bars, "systems"),
        (Bars, "python"),
        (WeeklyBars, "weekly"),
    ]
    assert charts["index.html"] == charts["recent/30-days.html"] == overview
    assert charts["matrix.html"] == [(HeatMap, "by-system"), (HeatMap, "by-python")]
    assert charts["recent/30-days/matrix.html"] == []  # recent periods: tables only (cost)
    assert charts[package_path("make")] == [(Bars, "by-system"), (WeeklyRate, "weekly")]
    assert charts[package_path("make", 30)] == []  # recent periods: tables only (cost)
    assert charts[package_path("Git (git)")] == []  # nobody failed it: the tables say it all
    chartless = [path for path, page in pages.items() if page.template not in CHART_TEMPLATES]
    assert {pages[path].template for path in chartless} == {
        "packages.html",
        "workshops.html",
        "workshop.html",
        "compare.html",
        "submit.html",
    }
    assert all(charts[path] == [] for path in chartless)


CHART_TEMPLATES = ("overview.html", "package.html", "matrix.html")


def test_a_chart_shows_its_page_rows(tmp_path: Path) -> None:
    write_submission(tmp_path, user_id="a", failed=["make"], system="Darwin")
    write_submission(tmp_path, user_id="b", failed=["make", "Git (git)"], successful=[])
    write_submission(tmp_path, user_id="c", system="Windows")

    index = pages_for(tmp_path)["index.html"]
    failing, systems = index.charts[0], index.charts[1]

    assert isinstance(failing, Bars) and isinstance(systems, Bars)
    rows = index.context["failing_packages"]
    assert failing.labels == tuple(row["name"] for row in rows) == ("make", "Git (git)")
    assert failing.part.values == (2, 1) and failing.whole.values == (2, 1)
    assert "make: 2 still failing, 2 failed on any attempt (failure rate 100%)" in failing.alt
    assert [row["system"] for row in index.context["users_by_system"]] == [
        "Linux",
        "Windows",
        "macOS",
    ]
    assert systems.labels == ("Linux", "Windows", "macOS")
    assert systems.whole.values == (1, 1, 1) and systems.part.values == (1, 0, 1)


def test_an_empty_site_has_no_charts(tmp_path: Path) -> None:
    pages = pages_for(tmp_path)
    assert "index.html" in pages
    assert [page.path for page in pages.values() if page.charts] == []


def test_pages_survive_pickling_for_the_render_workers(tmp_path: Path) -> None:
    write_submission(tmp_path, user_id="a", workshop_id="ws-1", failed=["make"])
    pages = list(pages_for(tmp_path).values())
    assert pickle.loads(pickle.dumps(pages)) == pages
