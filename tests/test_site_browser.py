"""The built site in a real browser: headless Chromium opens it straight from disk (file://).

Crawls every page reachable from index.html and checks what only a browser can tell: no
console errors, no failed requests, every image decoded, one <h1>, links that resolve; clicks
through from the overview to a package and a workshop; exercises the sort and filter script;
and takes full-page screenshots (desktop and phone, light and dark) into
test-artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest
from site_pages import sample_pages  # tests/ is on sys.path (conftest.py)

from generator.render import write_site

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    write_site(
        sample_pages(), out, title="Installation test results", generated_at="2026-11-23T02:00:00Z"
    )
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def _local_file(url: str) -> Path:
    return Path(unquote(urlparse(urldefrag(url).url).path))


def test_every_reachable_page_loads_cleanly(site: Path, browser) -> None:
    page = browser.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))

    start = (site / "index.html").as_uri()
    queue, seen = [start], {start}
    while queue:
        url = queue.pop()
        page.goto(url)
        where = _local_file(url).relative_to(site)
        assert page.locator("h1").count() == 1, where
        for image in page.locator("img").all():
            assert image.evaluate("img => img.complete && img.naturalWidth > 0"), (where, image)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            assert href.startswith("file://"), (where, href)
            target = _local_file(href)
            assert target.is_file(), (where, href)
            link = urldefrag(href).url
            if target.suffix == ".html" and link not in seen:
                seen.add(link)
                queue.append(link)
    page.close()
    assert problems == []
    html_pages = {p for p in site.rglob("*.html")}
    assert {_local_file(u) for u in seen} == html_pages


def test_click_through_from_overview(site: Path, browser) -> None:
    page = browser.new_page()
    page.goto((site / "index.html").as_uri())
    page.locator("#failing-packages a").first.click()
    assert page.url.endswith(".html") and "/packages/" in page.url
    assert page.locator("h1").inner_text().startswith("Package: make")

    page.get_by_role("link", name="Workshops", exact=True).click()
    page.locator("#workshops a").first.click()
    assert "/workshops/" in page.url
    assert page.locator("h1").inner_text().startswith("Workshop:")

    page.get_by_role("link", name="Overview").click()
    assert page.url.endswith("/index.html")
    page.close()


def test_sorting_and_filtering(site: Path, browser) -> None:
    page = browser.new_page()
    page.goto((site / "packages" / "index.html").as_uri())
    table = page.locator("table#packages")

    def first_column() -> list[str]:
        return table.locator("tbody tr:not([hidden]) th").all_inner_texts()

    assert first_column()[0] == "make"
    table.get_by_role("button", name="Package").click()
    assert first_column() == sorted(first_column(), key=str.lower)
    table.get_by_role("button", name="Failing people").click()  # ascending numbers first
    assert first_column()[0] == "Python 3 (python)"
    table.get_by_role("button", name="Failing people").click()
    assert first_column()[0] == "make"
    assert table.locator("th[aria-sort=descending]").count() == 1

    page.goto((site / "compare.html").as_uri())
    form = page.locator("#compare-form")
    assert form.is_visible()
    form.get_by_label("First package").select_option("make")
    form.get_by_label("Second package").select_option("Git (git)")
    assert page.locator("table#compare tbody tr:not([hidden]) th").all_inner_texts() == [
        "make",
        "Git (git)",
    ]
    page.close()


def test_filter_box_on_long_tables(tmp_path: Path, browser) -> None:
    pages = sample_pages()
    packages_page = next(p for p in pages if p.path == "packages/index.html")
    rows = [dict(packages_page.context["packages"][0], name=f"package {i:02}") for i in range(30)]
    long_page = type(packages_page)(
        "packages/index.html", "packages.html", "Packages", {"packages": rows}, {"packages": rows}
    )
    write_site([long_page], tmp_path, title="t", generated_at="2026-11-23T02:00:00Z")
    page = browser.new_page()
    page.goto((tmp_path / "packages" / "index.html").as_uri())
    page.get_by_label("Filter all packages").fill("package 1")
    assert page.locator("table#packages tbody tr:not([hidden])").count() == 10
    page.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots(site: Path, browser, scheme: str, width: int) -> None:
    """Full-page pictures of each page kind, for a person to look at (asserts only loading)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    for name, path in [
        ("overview", "index.html"),
        ("package", "packages/make-4426a1f3.html"),
        ("packages", "packages/index.html"),
        ("workshop", "workshops/2026-05-01-zurich-f11263b3.html"),
        ("matrix", "matrix.html"),
        ("compare", "compare.html"),
        ("submit", "submit.html"),
    ]:
        page.goto((site / path).as_uri())
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}-{scheme}.png"), full_page=True)
        # Nothing may stick out sideways on a phone: wide tables scroll inside their wrapper.
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
    context.close()
