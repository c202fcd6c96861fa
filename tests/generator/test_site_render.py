"""Rendering pages into files: twins, CSVs, charts, links, hostile text and determinism.

Uses hand-made pages (``support.site.sample_pages``) that follow docs/report-model.md, so the
renderer is tested on its own; site-wide rules are also checked on the session's real build
(the ``real_site`` fixture), and the build tests run it on real submission files.
"""

from __future__ import annotations

import csv
import html as html_lib
import io
import json
import multiprocessing
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import pandas as pd
import pytest

from generator.charts import TOP_N, clean_label
from generator.model import Page, PageBatch
from generator.pages.overview import overview_charts
from generator.render import write_site, writer
from support.crawl import local_references, outbound_links, parse_html, site_files
from support.files import recorded_bars
from support.site import HOSTILE, build_real_site, sample_pages

GENERATED_AT = "2026-11-23T02:00:00Z"
SVG = "{http://www.w3.org/2000/svg}"


def _render(pages: Iterable[Page], out: Path) -> int:
    """Files written."""
    written = write_site(pages, out, title="Installation test results", generated_at=GENERATED_AT)
    return written.files


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-made pages rendered: exact expectations are known."""
    out = tmp_path_factory.mktemp("site")
    _render(sample_pages(), out)
    return out


@pytest.fixture(params=["hand-made", "real build"])
def any_site(request: pytest.FixtureRequest) -> Path:
    """Site-wide rules hold for both sites."""
    return request.getfixturevalue("site" if request.param == "hand-made" else "real_site")


def test_every_page_has_a_json_twin_equal_to_its_context(site: Path) -> None:
    for page in sample_pages():
        twin = site / PurePosixPath(page.path).with_suffix(".json")
        data = twin.read_bytes()
        assert data.endswith(b"}\n")
        assert json.loads(data) == {**page.context, "generated_at": GENERATED_AT}
        keys = list(json.loads(data))
        assert keys == sorted(keys)
    index = json.loads((site / "index.json").read_text(encoding="utf-8"))
    assert {"submissions", "users", "users_with_failures", "workshops"} <= set(index["totals"])


def test_every_table_is_a_csv_beside_its_page(site: Path) -> None:
    pages = [page for page in sample_pages() if page.tables]
    assert pages
    for page in pages:
        path = PurePosixPath(page.path)
        for name, rows in page.tables.items():
            csv_file = site / path.parent / f"{path.stem}-{name}.csv"
            with csv_file.open(encoding="utf-8", newline="") as handle:
                read = list(csv.DictReader(handle))
            assert len(read) == len(rows)
            for written, row in zip(read, rows, strict=True):
                assert list(written) == list(row)
                for key, value in row.items():
                    if isinstance(value, (str, int)) and not isinstance(value, bool):
                        assert written[key] == str(value)
            html = parse_html(site / path)
            assert ("a", "href", csv_file.name) in html.attributes


def test_the_site_has_the_expected_files(site: Path) -> None:
    names = set(site_files(site))
    assert {"index.html", "index.json", "assets/site.css", "assets/site.js"} <= names
    assert {"index-failing-packages.svg", "matrix-by-system.svg", "submit.html"} <= names
    assert {p for p in names if p.startswith("packages/make-") and p.endswith(".svg")}


def test_pages_are_accessible_documents(any_site: Path) -> None:
    for html_file in any_site.rglob("*.html"):
        html = parse_html(html_file)
        where = html_file.relative_to(any_site)
        assert html.tags.count("h1") == 1, where
        for landmark in ("header", "nav", "main", "footer"):
            assert landmark in html.tags, (where, landmark)
        assert ("a", "href", "#main") in html.attributes, where
        assert html.tags.count("table") == html.tags.count("caption"), where
        assert html.tags.count("th") == sum(
            1 for tag, name, _ in html.attributes if tag == "th" and name == "scope"
        ), where
        assert ("html", "lang", "en") in html.attributes
        alts = [value for tag, name, value in html.attributes if tag == "img" and name == "alt"]
        assert len(alts) == html.tags.count("img"), where
        assert all(len(alt) > 40 for alt in alts), where


def test_numbers_and_alt_texts_are_written_for_people(site: Path) -> None:
    overview = (site / "index.html").read_text(encoding="utf-8")
    assert '<td class="num" data-value="0.3">30.0%</td>' in overview
    assert 'alt="Bar chart of the packages that fail for most people' in overview
    assert "make: 12 still failing, 14 failed on any attempt (failure rate 30%)" in overview


def test_no_external_resources_anywhere(any_site: Path) -> None:
    for html_file, value in local_references(any_site):
        assert not re.match(r"^([a-z][a-z0-9+.-]*:|//)", value, re.IGNORECASE), (html_file, value)
    for asset in (any_site / "assets").iterdir():
        # An SVG names its namespace by a URI, which is never loaded.
        text = asset.read_text(encoding="utf-8").replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "http:" not in text and "https:" not in text and "@import" not in text, asset
        assert "url(" not in text, asset


def test_links_to_other_sites_show_where_they_go_and_pass_nothing_on(any_site: Path) -> None:
    # Fix instructions are the only links out: http(s), the URL as the text, no referrer
    # rights and no ranking credit given.
    links = outbound_links(any_site)
    assert links
    for html_file, href, rel, text in links:
        assert href.startswith(("https://", "http://")), (html_file, href)
        assert text == href and set(rel.split()) == {"nofollow", "noopener"}, (html_file, href)


def test_every_relative_link_and_image_exists(any_site: Path) -> None:
    references = local_references(any_site)
    assert len(references) > 100
    ids: dict[Path, set[str]] = {}
    for html_file, value in references:
        parts = urlsplit(value)
        target = (html_file.parent / unquote(parts.path)).resolve() if parts.path else html_file
        where = (html_file.relative_to(any_site), value)
        assert target.is_file(), where
        assert target.is_relative_to(any_site.resolve()), where
        if parts.fragment and target.suffix == ".html":
            if target not in ids:
                ids[target] = parse_html(target).ids
            assert parts.fragment in ids[target], where


def test_every_html_page_has_a_json_twin(real_site: Path) -> None:
    for html_file in real_site.rglob("*.html"):
        twin = json.loads(html_file.with_suffix(".json").read_bytes())
        assert twin["generated_at"] == "2026-11-18T11:06:40Z", html_file


def _charts(site: Path) -> list[Path]:
    """The charts of a site: every SVG but the favicon among the assets."""
    return [svg for svg in site.rglob("*.svg") if svg.parent != site / "assets"]


def test_every_chart_is_valid_svg_with_text_kept_as_text(any_site: Path) -> None:
    svgs = _charts(any_site)
    assert len(svgs) >= 8
    for svg in svgs:
        root = ET.fromstring(svg.read_bytes())
        assert root.tag == f"{SVG}svg"
        assert root.find(f".//{SVG}text") is not None, svg  # svg.fonttype "none"
        text = svg.read_text(encoding="utf-8")
        assert "<dc:date>" not in text and "Matplotlib v" not in text


def test_two_renders_are_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Also when the second render runs in worker processes (pages and charts)."""
    first, second = tmp_path / "one", tmp_path / "two"
    monkeypatch.setattr(writer, "PARALLEL_FROM", 10**9)
    count = _render(sample_pages(), first)
    monkeypatch.setattr(writer, "PARALLEL_FROM", 1)
    assert _render(sample_pages(), second) == count
    assert len(site_files(first)) == count
    assert site_files(second) == site_files(first)


def test_a_real_build_rendered_in_workers_is_byte_identical_to_a_serial_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "PARALLEL_FROM", 10**9)
    serial = site_files(build_real_site(tmp_path / "serial"))
    monkeypatch.setattr(writer, "PARALLEL_FROM", 1)
    monkeypatch.setattr(writer, "PAGES_PER_TASK", 3)  # many tasks, so both workers get pages
    parallel = site_files(build_real_site(tmp_path / "parallel"))
    assert len(serial) > 50 and any(name.endswith(".svg") for name in serial)
    assert parallel == serial


def test_pages_may_arrive_from_a_generator_while_workers_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build hands pages over while still aggregating: same files as from a list."""
    monkeypatch.setattr(writer, "PARALLEL_FROM", 1)
    monkeypatch.setattr(writer, "PAGES_PER_TASK", 2)
    monkeypatch.setattr(writer, "MAX_QUEUED", 2)  # the pages wait for the workers
    from_list = tmp_path / "list"
    write_site(sample_pages(), from_list, title="T", generated_at=GENERATED_AT)
    from_generator = tmp_path / "generator"
    written = write_site(
        (page for page in sample_pages()), from_generator, title="T", generated_at=GENERATED_AT
    )
    assert written.pages == len(sample_pages())
    assert site_files(from_generator) == site_files(from_list)
    assert written.files == len(site_files(from_list))


@pytest.mark.parametrize("parallel_from", [10**9, 1])
def test_a_progress_bar_counts_the_pages_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    parallel_from: int,
) -> None:
    monkeypatch.setattr(writer, "PARALLEL_FROM", parallel_from)
    monkeypatch.setattr(writer, "PAGES_PER_TASK", 2)
    bars = recorded_bars(monkeypatch, writer)
    pages = sample_pages()
    write_site(pages, tmp_path, title="T", generated_at=GENERATED_AT, progress=True)
    assert [bar.done for bar in bars] == [len(pages)]
    assert "writing:" in capsys.readouterr().err


def test_a_failure_while_pages_still_arrive_stops_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "PARALLEL_FROM", 1)

    def pages_then_crash():
        yield from sample_pages()[:3]
        raise RuntimeError("aggregation failed")

    with pytest.raises(RuntimeError, match="aggregation failed"):
        _render(pages_then_crash(), tmp_path / "site")
    assert multiprocessing.active_children() == []


def _as_batch(pages: list[Page]) -> PageBatch:
    """``pages`` as a batch that builds each share as ``PageBatch`` says."""

    def build(share: int, shares: int) -> list[Page]:
        return pages[share::shares]

    return PageBatch(paths=tuple(page.path for page in pages), build=build)


def _chartless(pages: list[Page]) -> list[Page]:
    return [replace(page, tables={}, charts=(), feed=None) for page in pages]


@pytest.mark.parametrize("parallel_from", [10**9, 1])
def test_a_batch_writes_the_same_files_as_its_pages_handed_over_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel_from: int
) -> None:
    """In this process, or built and written by the workers forked for it."""
    monkeypatch.setattr(writer, "PARALLEL_FROM", parallel_from)
    first, *rest = _chartless(sample_pages())
    one_by_one = _render([first, *rest], tmp_path / "pages")
    bars = recorded_bars(monkeypatch, writer)
    written = write_site(
        [first, _as_batch(rest)],
        tmp_path / "batch",
        title="Installation test results",
        generated_at=GENERATED_AT,
        progress=True,
    )
    assert written.files == one_by_one and written.pages == 1 + len(rest)
    assert site_files(tmp_path / "batch") == site_files(tmp_path / "pages")
    assert [bar.done for bar in bars] == [len(rest) + 1]


@pytest.mark.parametrize("parallel_from", [10**9, 1])
def test_a_batch_that_builds_what_it_did_not_announce_fails_the_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel_from: int
) -> None:
    monkeypatch.setattr(writer, "PARALLEL_FROM", parallel_from)
    pages = _chartless(sample_pages())
    announced = replace(_as_batch(pages), paths=tuple(page.path for page in pages[1:]))
    with pytest.raises(ValueError, match="did not announce"):
        write_site([announced], tmp_path, title="T", generated_at=GENERATED_AT)
    with_charts = _as_batch([page for page in sample_pages() if page.charts])
    with pytest.raises(ValueError, match="tables, charts or a feed"):
        write_site([with_charts], tmp_path / "charts", title="T", generated_at=GENERATED_AT)
    assert multiprocessing.active_children() == []


def test_a_batch_announcing_a_path_twice_or_an_unsafe_one_is_refused_before_writing(
    tmp_path: Path,
) -> None:
    pages = _chartless(sample_pages())
    twice = replace(_as_batch(pages), paths=(pages[0].path, pages[0].path))
    with pytest.raises(ValueError, match="twice"):
        write_site([twice], tmp_path / "twice", title="T", generated_at=GENERATED_AT)
    unsafe = replace(_as_batch(pages), paths=("../outside.html",))
    with pytest.raises(ValueError, match="unsafe page path"):
        write_site([unsafe], tmp_path / "unsafe", title="T", generated_at=GENERATED_AT)
    assert not list((tmp_path / "unsafe").rglob("*.html"))


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd.html",
        "../outside.html",
        "packages/../../outside.html",
        "packages/..",
        "",
        "index.txt",
        "packages\\..\\..\\outside.html",
        "nul\x00.html",
    ],
)
def test_refuses_page_paths_that_leave_the_site(tmp_path: Path, path: str) -> None:
    page = Page(path, "packages.html", "Packages", {"packages": []})
    with pytest.raises(ValueError):
        _render([page], tmp_path / "site")
    assert not (tmp_path / "outside.html").exists()


def test_refuses_a_path_through_a_symlink_out_of_the_site(tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (out / "packages").symlink_to(tmp_path / "elsewhere")
    page = Page("packages/index.html", "packages.html", "Packages", {"packages": []})
    with pytest.raises(ValueError):
        _render([page], out)
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_never_writes_through_a_symlinked_file(tmp_path: Path) -> None:
    out = tmp_path / "site"
    (out / "packages").mkdir(parents=True)
    (tmp_path / "elsewhere.html").write_text("precious")
    (out / "packages" / "index.html").symlink_to(tmp_path / "elsewhere.html")
    page = Page("packages/index.html", "packages.html", "Packages", {"packages": []})
    with pytest.raises(OSError):
        _render([page], out)
    assert (tmp_path / "elsewhere.html").read_text() == "precious"


def test_refuses_two_pages_writing_the_same_file(tmp_path: Path) -> None:
    page = Page("packages/index.html", "packages.html", "Packages", {"packages": []})
    with pytest.raises(ValueError, match="same file"):
        _render([page, page], tmp_path)


def test_empty_site_renders_without_charts(tmp_path: Path) -> None:
    empty = []
    for page in sample_pages():
        context = json.loads(json.dumps(page.context))
        for key, value in context.items():
            if isinstance(value, list) and key != "windows":
                context[key] = []
        if "breakdowns" in context:
            context["breakdowns"] = {key: [] for key in context["breakdowns"]}
            context["failed_attempts"] = 0
        empty.append(Page(page.path, page.template, page.title, context))
    _render(empty, tmp_path)
    assert _charts(tmp_path) == []
    overview = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "no data yet" in overview
    assert "<img" not in overview


def test_hundreds_of_packages_chart_the_top_only(tmp_path: Path) -> None:
    index = sample_pages()[0]
    row = index.context["failing_packages"][0]
    rows = [dict(row, name=f"package-{i:03}", failing_users=300 - i) for i in range(300)]
    context = index.context | {"failing_packages": rows}
    _render(
        [Page("index.html", "overview.html", "Big", context, charts=overview_charts(context))],
        tmp_path,
    )
    labels = [
        element.text
        for element in ET.parse(tmp_path / "index-failing-packages.svg").iter(f"{SVG}text")
        if element.text and element.text.startswith("package-")
    ]
    assert labels == [f"package-{i:03}" for i in range(TOP_N)]
    html = parse_html(tmp_path / "index.html")
    assert sum(1 for text in html.text if text.startswith("package-")) == 300


def _table_rows(html: str, table_id: str) -> list[list[str]]:
    """The text of each body row's cells of one table."""
    body = html.split(f'<table id="{table_id}"', 1)[1].split("</tbody>", 1)[0]
    body = body.split("<tbody>", 1)[1]
    return [
        [
            html_lib.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def _table_headings(html: str, table_id: str) -> list[str]:
    head = html.split(f'<table id="{table_id}"', 1)[1].split("</thead>", 1)[0]
    return [
        re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<th[^>]*>(.*?)</th>", head)
    ]


def test_weekly_tables_show_the_latest_26_weeks_newest_first_and_the_files_keep_all(
    tmp_path: Path,
) -> None:
    pages = sample_pages()
    index, package = pages[0], next(p for p in pages if p.template == "package.html")
    weeks = [str(day.date()) for day in pd.date_range("2025-01-06", periods=100, freq="7D")]
    weekly = [
        {
            "week": w,
            "submissions": 300,
            "users": 204,
            "failing_submissions": 210,
            "failure_rate": 0.7,
            "partial": False,
        }
        for w in weeks
    ]
    package_weekly = [
        {
            "week": w,
            "attempts": 9,
            "failed_attempts": 2,
            "failure_rate": 0.2222,
            "rate_low": 0.0632,
            "rate_high": 0.5474,
            "partial": False,
        }
        for w in weeks
    ]
    big_index = Page(
        "index.html", "overview.html", "Big", index.context | {"weekly": weekly}, {"weekly": weekly}
    )
    big_package = replace(package, context=package.context | {"weekly": package_weekly})
    _render([big_index, big_package], tmp_path)

    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    rows = _table_rows(html, "weekly")
    assert [row[0] for row in rows] == weeks[::-1][:26]
    assert _table_headings(html, "weekly") == [
        "Week",
        "Submissions",
        "People submitting",
        "Submissions with a failure",
        "Share of submissions failing",
    ]
    assert "latest 26 of 100 weeks" in html
    assert len(json.loads((tmp_path / "index.json").read_text(encoding="utf-8"))["weekly"]) == 100
    with (tmp_path / "index-weekly.csv").open(encoding="utf-8", newline="") as handle:
        assert [row["week"] for row in csv.DictReader(handle)] == weeks

    package_html = (tmp_path / package.path).read_text(encoding="utf-8")
    assert [row[0] for row in _table_rows(package_html, "weekly")] == weeks[::-1][:26]
    assert "latest 26 of 100 weeks" in package_html
    twin = json.loads((tmp_path / package.path).with_suffix(".json").read_text(encoding="utf-8"))
    assert len(twin["weekly"]) == 100


def test_a_short_weekly_table_is_whole_and_newest_first(site: Path) -> None:
    html = (site / "index.html").read_text(encoding="utf-8")
    assert [row[0] for row in _table_rows(html, "weekly")] == [
        "2026-11-23 (partial)",  # the current week, still being counted
        "2026-11-16",
        "2026-11-09",
        "2026-11-02",
        "2026-10-26",
    ]
    assert "weeks-note" not in html


def test_error_table_shows_people_and_their_systems_beside_failed_attempts(site: Path) -> None:
    package = next(
        p for p in sample_pages() if p.template == "package.html" and p.context["errors"]
    )
    html = (site / package.path).read_text(encoding="utf-8")
    assert _table_headings(html, "errors") == [
        "Message",
        "People seeing it (latest attempt)",
        "Their systems (people)",
        "Failed attempts (any attempt)",
    ]
    (row,) = _table_rows(html, "errors")
    assert row[1:] == ["5", "Windows 4, macOS 1", "7"]


def test_workshop_page_shows_tested_participants_and_the_common_error_with_a_link(
    site: Path,
) -> None:
    workshop = next(p for p in sample_pages() if p.template == "workshop.html")
    html = (site / workshop.path).read_text(encoding="utf-8")
    assert _table_headings(html, "packages") == [
        "Package",
        "Failing participants",
        "Participants who tested it",
        "Most common error here",
    ]
    rows = _table_rows(html, "packages")
    assert rows[0][0] == "make\nhttps://example.com/packages/make-4426a1f3.html"  # its fix link
    assert [[row[0].splitlines()[0], *row[1:3]] for row in rows] == [
        ["make", "12", "40"],
        ["Git (git)", "5", "40"],
        ["Python 3 (python)", "0", "38"],
        ["SQLite3 (sqlite3)", "1", "30"],
    ]
    assert rows[0][3].startswith("could not find '<name>' executable")
    assert "One full message" in rows[0][3] and "All errors of this package" in rows[0][3]
    assert rows[2][3] == "no message reported"
    make = workshop.context["packages"][0]["href"]
    assert ("a", "href", f"../{make}#errors-heading") in parse_html(site / workshop.path).attributes


def test_the_failing_versions_table_shows_only_known_versions(site: Path) -> None:
    html = (site / "index.html").read_text(encoding="utf-8")
    rows = _table_rows(html, "failing-versions")
    assert [row[:2] for row in rows] == [
        ["make", "4.3"],
        ["Git (git)", "4.3"],
        ["SQLite3 (sqlite3)", "4.3"],
    ]
    twin = json.loads((site / "index.json").read_text(encoding="utf-8"))
    assert [row["version"] for row in twin["failing_package_versions"]].count("unknown") == 3


def test_every_page_shows_the_system_as_its_context_names_it(site: Path) -> None:
    index = (site / "index.html").read_text(encoding="utf-8")
    assert [row[0] for row in _table_rows(index, "users-by-system")] == [
        "Linux",
        "macOS",
        "Windows",
    ]
    labels = [e.text for e in ET.parse(site / "index-systems.svg").iter(f"{SVG}text")]
    assert "macOS" in labels and "Darwin" not in labels
    twin = json.loads((site / "index.json").read_text(encoding="utf-8"))
    assert [row["system"] for row in twin["users_by_system"]] == ["Linux", "macOS", "Windows"]
    package = next(p for p in sample_pages() if p.template == "package.html")
    html = (site / package.path).read_text(encoding="utf-8")
    assert [row[0] for row in _table_rows(html, "by-system")] == ["Linux", "macOS", "Windows"]
    workshop = next(p for p in sample_pages() if p.template == "workshop.html")
    html = (site / workshop.path).read_text(encoding="utf-8")
    assert [row[0] for row in _table_rows(html, "systems")] == ["Linux", "macOS", "Windows"]
    matrix = (site / "matrix.html").read_text(encoding="utf-8")
    assert _table_headings(matrix, "by-system")[1:] == ["Linux", "macOS", "Windows"]
    heat = [e.text for e in ET.parse(site / "matrix-by-system.svg").iter(f"{SVG}text")]
    assert "macOS" in heat and "Darwin" not in heat
    compare = (site / "compare.html").read_text(encoding="utf-8")
    assert _table_headings(compare, "compare")[2:-1] == ["Linux", "macOS", "Windows"]
    assert "Darwin" not in compare


def test_the_compare_table_uses_the_matrix_column_order_and_few_columns(site: Path) -> None:
    compare = (site / "compare.html").read_text(encoding="utf-8")
    matrix = (site / "matrix.html").read_text(encoding="utf-8")
    systems = _table_headings(matrix, "by-system")[1:]
    assert _table_headings(compare, "compare") == [
        "Package",
        "Failure rate",
        *systems,
        "Most common error",
    ]
    make = _table_rows(compare, "compare")[0]
    assert make[:2] == ["make", "30.0%12 of 40"]


def test_the_compare_table_shows_the_four_biggest_systems_and_points_to_the_matrix(
    real_site: Path,
) -> None:
    compare = (real_site / "compare.html").read_text(encoding="utf-8")
    matrix = (real_site / "matrix.html").read_text(encoding="utf-8")
    systems = _table_headings(matrix, "by-system")[1:]
    assert len(systems) > 4
    assert _table_headings(compare, "compare")[2:-1] == systems[:4]
    assert 'href="matrix.html">matrix</a>' in compare


def _controls_shown(text: str) -> str:
    return re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", "\ufffd", text)


@pytest.fixture(scope="module")
def benign_tags(site: Path) -> list[list[str]]:
    return [parse_html(site / page.path).tags for page in sample_pages()]


@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda h: repr(h[:20]))
def test_hostile_text_stays_text(tmp_path: Path, hostile: str, benign_tags) -> None:
    pages = sample_pages(hostile)
    _render(pages, tmp_path)
    shown = _controls_shown(hostile)
    for page, tags in zip(pages, benign_tags, strict=True):
        html = parse_html(tmp_path / page.path)
        # No element appeared or vanished: the page has the same tags as with plain names.
        assert html.tags == tags, page.path
        if page.template != "submit.html":
            assert shown in "".join(html.text), page.path
        twin = json.loads((tmp_path / PurePosixPath(page.path).with_suffix(".json")).read_bytes())
        assert twin == {**page.context, "generated_at": GENERATED_AT}
    if "🐍" in hostile:  # UTF-8 as is, not \ud83d escapes
        assert "🐍".encode() in (tmp_path / "index.json").read_bytes()
    for svg in _charts(tmp_path):
        texts = [e.text or "" for e in ET.parse(svg).iter(f"{SVG}text")]
        assert all("\x00" not in t and "\u202e" not in t for t in texts)
        if svg.name.startswith("index-failing"):
            assert clean_label(f"make {hostile}") in texts  # no mathtext, no markup
    with (tmp_path / "packages" / "index-packages.csv").open(encoding="utf-8", newline="") as f:
        names = [row["name"] for row in csv.DictReader(f)]
    assert names[0] == f"make {hostile}"


def test_csv_cells_cannot_run_as_spreadsheet_formulas(tmp_path: Path) -> None:
    rows = [{"name": "=1+1", "version": "@SUM(A1)", "count": -3, "note": None, "ok": True}]
    page = Page("packages/index.html", "packages.html", "Packages", {"packages": []}, {"x": rows})
    _render([page], tmp_path)
    text = (tmp_path / "packages" / "index-x.csv").read_text(encoding="utf-8")
    assert list(csv.reader(io.StringIO(text))) == [
        ["name", "version", "count", "note", "ok"],
        ["'=1+1", "'@SUM(A1)", "-3", "", "true"],
    ]


def test_no_email_or_ip_address_in_the_site(any_site: Path) -> None:
    email = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
    ipv4 = re.compile(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")
    files = site_files(any_site)
    assert len(files) > 40
    for name, content in files.items():
        text = content.decode("utf-8")
        assert not email.search(text), name
        assert not ipv4.search(text), name


def test_the_real_build_keeps_hostile_text_inert(real_site: Path, site: Path) -> None:
    """Hostile names that came in as submission files: text on the pages, never markup."""
    vocabulary = {tag for page in site.rglob("*.html") for tag in parse_html(page).tags}
    text = []
    for html_file in real_site.rglob("*.html"):
        html = parse_html(html_file)
        assert set(html.tags) <= vocabulary, html_file
        scripts = [
            value for tag, name, value in html.attributes if (tag, name) == ("script", "src")
        ]
        assert html.tags.count("script") == 1, html_file
        assert scripts[0].endswith("assets/site.js"), html_file
        text.extend(html.text)
    shown = "".join(text)
    for hostile in HOSTILE:  # (the loader may shorten a long name; its start must be there)
        assert _controls_shown(hostile[:150]) in shown, hostile[:20]
