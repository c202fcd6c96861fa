"""The built site in a real browser: headless Chromium opens it straight from disk (file://).

The site is the session's real build on real files (synthetic learners plus hostile names:
the ``real_site`` fixture). The tests crawl every page reachable from index.html and check
what only a browser can tell: no console errors, no failed requests, every image decoded,
one <h1>, links that resolve. They click from the overview to a package and a workshop, use
the sort, filter and compare script, and take full-page screenshots (desktop and phone,
light and dark) into test-artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

from support import REPO_ROOT

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
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS", REPO_ROOT / "test-artifacts" / "screenshots"))
"""Where the screenshots go (the environment variable SCREENSHOTS: another folder)."""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def _local_file(url: str) -> Path:
    return Path(unquote(urlparse(urldefrag(url).url).path))


_INSPECT = """() => ({
    h1: document.querySelectorAll("h1").length,
    broken_images: [...document.images]
        .filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src),
    links: [...document.querySelectorAll("a[href]")]
        .filter(a => a.protocol === "file:").map(a => a.href),
    outbound: [...document.querySelectorAll("a[href]")]
        .filter(a => a.protocol !== "file:").map(a => [a.href, a.rel]),
})"""


def test_every_reachable_page_loads_cleanly(real_site: Path, browser) -> None:
    page = browser.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    # The browser asks for the favicon after the page has loaded; the crawl's next page
    # cancels that request (net::ERR_ABORTED), which is no fault of the site.
    page.on(
        "requestfailed",
        lambda r: (
            None
            if r.url.endswith("/assets/favicon.svg") and r.failure == "net::ERR_ABORTED"
            else problems.append(f"request failed: {r.url} {r.failure}")
        ),
    )

    start = (real_site / "index.html").as_uri()
    queue, seen = [start], {start}
    while queue:
        url = queue.pop()
        page.goto(url)
        where = _local_file(url).relative_to(real_site)
        found = page.evaluate(_INSPECT)
        assert found["h1"] == 1, where
        assert found["broken_images"] == [], where
        for href, rel in found["outbound"]:  # fix instructions, never followed here
            assert href.startswith(("https://", "http://")), (where, href)
            assert rel == "nofollow noopener", (where, href)
        for href in found["links"]:
            assert href.startswith("file://"), (where, href)
            target = _local_file(href)
            assert target.is_file(), (where, href)
            link = urldefrag(href).url
            if target.suffix == ".html" and link not in seen:
                seen.add(link)
                queue.append(link)
    page.close()
    assert problems == []
    html_pages = {p for p in real_site.rglob("*.html")}
    assert {_local_file(u) for u in seen} == html_pages


def test_click_through_from_overview(real_site: Path, browser) -> None:
    page = browser.new_page()
    page.goto((real_site / "index.html").as_uri())
    page.keyboard.press("Tab")  # the first stop is the skip link, and it shows itself
    skip = page.locator(".skip-link")
    assert skip.evaluate("link => link === document.activeElement")
    assert skip.bounding_box()["y"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    package = page.locator("#failing-packages tbody a").first
    name = package.inner_text()
    package.click()
    assert "/packages/" in page.url
    assert page.locator("h1").inner_text() == name
    assert page.locator("img").count() == 2  # its charts: by system, and the weekly rate
    page.locator("nav.windows").get_by_role("link", name="Last 365 days").click()
    assert "/recent/365-days/packages/" in page.url
    assert page.locator("h1").inner_text() == f"{name}: last 365 days"
    page.locator("nav.windows").get_by_role("link", name="All time").click()
    assert page.locator("h1").inner_text() == name

    page.get_by_role("link", name="Workshops", exact=True).click()
    workshop = page.locator("#workshops tbody a").first
    name = workshop.inner_text()
    workshop.click()
    assert "/workshops/" in page.url
    assert page.locator("h1").inner_text() == name

    page.get_by_role("link", name="Overview").click()
    assert page.url.endswith("/index.html")
    page.close()


def test_sorting_filtering_and_comparing(real_site: Path, browser) -> None:
    page = browser.new_page()
    page.goto((real_site / "packages" / "index.html").as_uri())
    table = page.locator("table#packages")
    rows = table.locator("tbody tr:not([hidden])")

    def column(index: int) -> list[str]:
        return [row.locator("th, td").nth(index).inner_text() for row in rows.all()]

    def numbers(index: int) -> list[int]:
        return [int(text.replace(",", "")) for text in column(index)]

    table.get_by_role("button", name="Package").click()
    in_order = "names => names.every((n, i) => i === 0 || names[i - 1].localeCompare(n) <= 0)"
    assert page.evaluate(in_order, [name.strip().lower() for name in column(0)])
    # A count column sorts largest first on the first click, smallest first on the second.
    table.get_by_role("button", name="Tested people").click()
    assert numbers(1) == sorted(numbers(1), reverse=True)
    assert table.locator("th[aria-sort=descending]").count() == 1
    table.get_by_role("button", name="Tested people").click()
    assert numbers(1) == sorted(numbers(1))
    assert table.locator("th[aria-sort=ascending]").count() == 1

    total = rows.count()
    page.get_by_label("Filter all packages").fill("git")
    assert 0 < rows.count() < total
    assert all("git" in name.lower() for name in column(0))
    page.get_by_label("Filter all packages").fill("")
    assert rows.count() == total

    page.goto((real_site / "compare.html").as_uri())
    form = page.locator("#compare-form")
    assert form.is_visible()
    names = page.locator("table#compare tbody th").all_inner_texts()
    form.get_by_label("First package").select_option(names[0])
    form.get_by_label("Second package").select_option(names[-1])
    shown = page.locator("table#compare tbody tr:not([hidden]) th").all_inner_texts()
    assert shown == [names[0], names[-1]]
    # The two-package view fits its box, and the picks travel in the URL hash.
    assert page.evaluate(
        "document.querySelector('#compare').scrollWidth"
        " <= document.querySelector('#compare').closest('.table-wrap').clientWidth"
    )
    shared = page.url
    assert "#first=" in shared and "second=" in shared
    other = browser.new_page()
    other.goto(shared)
    assert other.locator("#compare-form select[name=first]").input_value() == names[0]
    assert other.locator("#compare-form select[name=second]").input_value() == names[-1]
    again = other.locator("table#compare tbody tr:not([hidden]) th").all_inner_texts()
    assert again == [names[0], names[-1]]
    other.close()
    page.close()


def test_charts_scale_to_a_phone_and_show_all_of_themselves(real_site: Path, browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 900})
    page = context.new_page()
    for path in ("index.html", "matrix.html"):
        page.goto((real_site / path).as_uri())
        sizes = page.evaluate(
            """() => [...document.querySelectorAll("figure.chart")].map(figure => {
                const image = figure.querySelector("img");
                return [image.getBoundingClientRect().right, image.naturalWidth,
                        image.getBoundingClientRect().width, figure.scrollWidth,
                        figure.clientWidth];
            })"""
        )
        assert len(sizes) >= 2, path
        for right, natural, shown, scroll, box in sizes:
            assert right <= 390  # the whole chart is on the screen, legend and labels too
            assert shown < natural  # scaled down to fit, as it is wider than a phone
            assert scroll <= box  # nothing to scroll
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots(real_site: Path, browser, scheme: str, width: int) -> None:
    """Full-page pictures of each page kind, for a person to look at; no sideways scrolling
    and WCAG AA contrast (4.5:1) for every piece of text, in both colour schemes."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    overview = json.loads((real_site / "index.json").read_text(encoding="utf-8"))
    workshops = json.loads((real_site / "workshops" / "index.json").read_text(encoding="utf-8"))
    for name, path in [
        ("overview", "index.html"),
        ("package", overview["failing_packages"][0]["href"]),
        ("packages", "packages/index.html"),
        ("workshops", "workshops/index.html"),
        ("workshop", max(workshops["workshops"], key=lambda w: w["participants"])["href"]),
        ("matrix", "matrix.html"),
        ("compare", "compare.html"),
        ("submit", "submit.html"),
    ]:
        page.goto((real_site / path).as_uri())
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}-{scheme}.png"), full_page=True)
        # Nothing may stick out sideways on a phone: wide tables scroll inside their wrapper.
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
        assert page.evaluate(_WIDER_THAN_THE_SCREEN) == [], (name, width)
        low = page.evaluate(_LOW_CONTRAST)
        assert low == [], (name, scheme, low[:5])
    context.close()


_WIDER_THAN_THE_SCREEN = """() => {
    // Every element outside a box that scrolls sideways must end within the viewport.
    const width = document.documentElement.clientWidth;
    const scrolls = (e) => ["auto", "scroll"].includes(getComputedStyle(e).overflowX);
    const wide = [];
    for (const element of document.querySelectorAll("body *")) {
        let inside = false;
        for (let e = element.parentElement; e && !inside; e = e.parentElement) {
            inside = scrolls(e);
        }
        const box = element.getBoundingClientRect();
        if (inside || box.width === 0 || element.closest(".skip-link")) continue;
        const overflows = !scrolls(element) && element.scrollWidth > width;
        if (box.right > width + 0.5 || box.left < -0.5 || overflows) {
            wide.push(`${element.tagName}#${element.id}.${element.className}: ${box.right}`);
        }
    }
    return wide.slice(0, 10);
}"""


_LOW_CONTRAST = """() => {
    // WCAG 2 contrast of every element's own text against the background it sits on.
    const rgb = (css) => css.match(/[\\d.]+/g).map(Number);
    const channel = (c) => (c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    const luminance = ([r, g, b]) =>
        0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    const background = (element) => {
        for (let e = element; e; e = e.parentElement) {
            const colour = rgb(getComputedStyle(e).backgroundColor);
            if (colour.length < 4 || colour[3] > 0) return colour.slice(0, 3);
        }
        return [255, 255, 255];
    };
    const low = [];
    for (const element of document.querySelectorAll("body *")) {
        const own = [...element.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        const style = getComputedStyle(element);
        if (!own || style.visibility === "hidden" || element.closest("[hidden]")) continue;
        const fg = luminance(rgb(style.color)), bg = luminance(background(element));
        const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
        if (ratio < 4.5) low.push(`${element.tagName}.${element.className}: ${ratio.toFixed(2)}`);
    }
    return low;
}"""
