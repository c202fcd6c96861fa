"""What makes the site easy to read, through the real build on hand-made files: one label per
system in HTML, JSON and CSV; Python versions in version order; the matrix and compare CSVs;
numbers as people write them; the submit page of this deployment."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from generator import charts
from generator.build import build_site
from installdata.config import GeneratorConfig
from installdata.protocol import EXAMPLE_REQUEST
from support.files import write_submission


@pytest.fixture(autouse=True)
def fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795000000")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("readable")
    for number, (system, python) in enumerate(
        [("Darwin", "3.10.1"), ("Darwin", "3.8.5"), ("Linux", "3.9.2"), ("Windows", "3.12.0")]
    ):
        write_submission(
            root / "in",
            user_id=f"u{number}",
            workshop_id="ws",
            system=system,
            python_version=python,
            failed=["make"] if number % 2 == 0 else [],
        )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", "1795000000")
        build_site(
            GeneratorConfig(
                submissions_dir=root / "in",
                site_dir=root / "site",
                collector_url="https://results.uni.example",
            )
        )
    return root / "site"


def read(site: Path, name: str) -> str:
    return (site / name).read_text(encoding="utf-8")


def csv_rows(site: Path, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(read(site, name))))


def test_every_format_names_a_system_the_same_way(site: Path) -> None:
    for name in ("index.json", "matrix.json", "compare.json", "matrix.html", "index.html"):
        assert "Darwin" not in read(site, name), name
        assert "macOS" in read(site, name), name
    index = json.loads(read(site, "index.json"))
    assert {row["system"] for row in index["users_by_system"]} == {"macOS", "Linux", "Windows"}
    assert "macOS: failure_rate" in csv_rows(site, "matrix-by_system.csv")[0]
    for svg in ("index-systems.svg", "matrix-by-system.svg"):
        assert "macOS" in read(site, svg) and "Darwin" not in read(site, svg)


def test_python_versions_are_listed_in_version_order(site: Path) -> None:
    index = json.loads(read(site, "index.json"))
    order = ["3.8", "3.9", "3.10", "3.12"]
    assert [row["python_version"] for row in index["users_by_python"]] == order
    assert json.loads(read(site, "matrix.json"))["python_versions"] == order


def test_the_matrix_and_compare_csvs_have_a_column_per_system(site: Path) -> None:
    (make,) = [row for row in csv_rows(site, "matrix-by_system.csv") if row["name"] == "make"]
    assert make["macOS: failing_users"] == "1" and make["macOS: tested_users"] == "1"
    assert make["Linux: failure_rate"] == "1.0" and make["Windows: failure_rate"] == ""
    assert "3.10: tested_users" in csv_rows(site, "matrix-by_python.csv")[0]
    (row,) = [row for row in csv_rows(site, "compare-packages.csv") if row["name"] == "make"]
    assert row["macOS: failing_users"] == "1" and list(row)[-1] == "top_error"
    matrix = read(site, "matrix.html")
    assert 'href="matrix-by_system.csv"' in matrix and 'href="matrix-by_python.csv"' in matrix


def test_numbers_in_charts_are_written_with_separators_and_one_person_is_a_person() -> None:
    bars = charts.part_of_whole(
        "x",
        "People",
        ["Windows", "Linux"],
        charts.BarSeries("people", (1234, 1)),
        charts.BarSeries("people failing", (1001, 1)),
        [0.81, 1.0],
        "people per system",
    )
    assert "Windows: 1,001 people failing, 1,234 people" in bars.alt
    assert "Linux: 1 person failing, 1 person (failure rate 100%)" in bars.alt
    assert "1,001 of 1,234" in bars.svg().decode()
    svg = charts.weekly_bars("Weekly", ["2026-01-05", "2026-01-12"], [2000, 1500], [10, 5]).decode()
    assert ">2,000<" in svg or ">1,500<" in svg


def test_the_heat_legend_and_favicon_are_on_every_page_that_needs_them(site: Path) -> None:
    matrix = read(site, "matrix.html")
    assert matrix.count('class="heat-legend"') == 2
    assert '<span class="heat-1">≤1%</span>' in matrix
    assert "≤1%" in read(site, "matrix-by-system.svg")
    for page in ("index.html", "matrix.html", "workshops/index.html"):
        assert 'rel="icon"' in read(site, page)
    assert (site / "assets" / "favicon.svg").is_file()


def test_the_submit_page_names_this_collector_and_shows_curl_and_r(site: Path) -> None:
    page = read(site, "submit.html")
    assert "https://results.uni.example" in page
    assert "curl --fail-with-body -X POST https://results.uni.example/api/v1/submissions" in page
    assert "library(httr)" in page
    assert "POST(&#34;https://results.uni.example/api/v1/submissions&#34;" in page
    assert "Authorization: Bearer &lt;key&gt;" in page
    assert "Name (key)" in page
    twin: dict[str, Any] = json.loads(read(site, "submit.json"))
    assert twin["collector_url"] == "https://results.uni.example"
    assert twin["example_request"] == EXAMPLE_REQUEST
    # One example: the body shown is what the Python example sends.
    for entry in (*EXAMPLE_REQUEST["failed_installs"], *EXAMPLE_REQUEST["successful_installs"]):  # type: ignore[misc]
        assert repr(entry) in twin["examples"]["python"]
    assert '"version": "unknown"' not in page and "&#34;version&#34;: &#34;unknown" not in page


def test_without_a_configured_collector_the_submit_page_says_so(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    build_site(GeneratorConfig(submissions_dir=tmp_path / "in", site_dir=tmp_path / "site"))
    page = read(tmp_path / "site", "submit.html")
    assert "has not said where its collector is" in page
    assert json.loads(read(tmp_path / "site", "submit.json"))["collector_url"] is None
