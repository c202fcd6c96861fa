"""Fix instructions: the links installers write into messages, and the configured ones."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from generator import links, messages
from generator.slugs import package_path
from support.commands import build_with, run_python
from support.crawl import outbound_links
from support.files import write_submission

SETUP = "For instructions on installing an up-to-date version, see"


def swc_error(name: str, message: str, url: str) -> str:
    """A failure as the Software Carpentry test script words it."""
    return f"check for {name} failed:\n  {message}\n  {SETUP}\n  {url}"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (f"{SETUP}\n  http://www.gnu.org/software/make/", ["http://www.gnu.org/software/make/"]),
        ("see https://git-scm.com/downloads.", ["https://git-scm.com/downloads"]),
        ("(see https://a.example.org/x), or", ["https://a.example.org/x"]),
        (
            "see https://en.wikipedia.org/wiki/Make_(software)!",
            ["https://en.wikipedia.org/wiki/Make_(software)"],
        ),
        ("HTTPS://Docs.Example.ORG:443/Path#Linux", ["https://docs.example.org/Path"]),
        (
            "http://example.org:80 and http://example.org:8080/a",
            ["http://example.org/", "http://example.org:8080/a"],
        ),
        ("https://pypi.org/project/x/?a=1#files", ["https://pypi.org/project/x/?a=1"]),
        ("twice https://x.org/a#linux https://x.org/a#windows", ["https://x.org/a"]),
        ("ftp://x.org/a file:///home/ann/x mailto:a@x.org", []),  # http(s) only
        ("http://localhost:8888/?token=abc http://intranet/x", []),  # the learner's machine
        ("http://ann:secret@x.org/ http://10.0.0.7/setup", []),  # credentials, an address
        ("no link at all", []),
    ],
)
def test_links_are_found_and_normalised(text: str, found: list[str]) -> None:
    assert links.links(messages.scrub(pd.Series([text]))).tolist() == [found]


def test_a_page_seen_as_http_and_https_is_one_https_link() -> None:
    texts = pd.Series(["see http://x.org/setup/#linux", "see https://x.org/setup/#windows"])

    assert links.links(texts).tolist() == [["https://x.org/setup/"], ["https://x.org/setup/"]]


def test_links_are_kept_whole_by_the_scrubbing_but_private_data_around_them_is_not() -> None:
    text = (
        "could not run /home/annsmith/bin/ash or ~annsmith/x (mail ann.smith@example.org);"
        " see http://www.in-ulm.de/~mascheck/various/ash/ or https://example.org/home/docs/4/"
    )
    analysed = messages.analyse(pd.Series([text]))
    example, pattern = analysed.examples[0], analysed.patterns[0]

    for private in ("annsmith", "ann.smith@example.org"):
        assert private not in example and private not in pattern
    assert "http://www.in-ulm.de/~mascheck/various/ash/" in example  # not "~<user>"
    assert "https://example.org/home/docs/4/" in example  # not "/home/<user>"
    assert pattern.endswith("see <url> or <url>")
    assert analysed.links[0] == [
        "http://www.in-ulm.de/~mascheck/various/ash/",
        "https://example.org/home/docs/4/",
    ]


def test_an_address_or_id_inside_a_link_is_scrubbed_and_the_link_not_offered() -> None:
    text = "see https://example.org/help?from=ann@example.org and http://192.168.1.20/setup"
    analysed = messages.analyse(pd.Series([text]))

    assert "ann@example.org" not in analysed.examples[0]
    assert "192.168.1.20" not in analysed.examples[0]
    assert analysed.links[0] == []


def test_package_pages_show_the_configured_link_first_then_the_installers(tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    missing = "could not find 'matplotlib'"
    old = "outdated version of matplotlib: 1.1 (need >= 3.0)"
    for number, (message, url) in enumerate([
        (missing, "http://matplotlib.org/users/installing.html#installing-on-windows"),
        (missing, "http://matplotlib.org/users/installing.html#building-on-osx"),
        (missing, "https://matplotlib.org/users/installing.html"),
        (old, "http://software-carpentry.org/setup/."),
    ]):  # fmt: skip
        write_submission(submissions, user_id=f"u{number}", failed=["matplotlib"],
                         error=swc_error("matplotlib", message, url))  # fmt: skip

    site = build_with(tmp_path, "  help_urls: {matplotlib: 'https://carpentries.org/matplotlib'}\n")

    path = package_path("matplotlib")
    page = json.loads((site / path).with_suffix(".json").read_text(encoding="utf-8"))
    assert page["help_urls"] == [
        "https://carpentries.org/matplotlib",  # the config's
        "https://matplotlib.org/users/installing.html",  # 3 failures, one page
        "http://software-carpentry.org/setup/",  # 1
    ]
    # Beside each group, its own messages' links (the three systems' variants are one).
    assert [group["help_urls"] for group in page["errors"]] == [
        ["https://matplotlib.org/users/installing.html"],
        ["http://software-carpentry.org/setup/"],
    ]
    shown = [(href, rel) for html, href, rel, _ in outbound_links(site) if html == site / path]
    assert shown[:3] == [(url, "nofollow noopener") for url in page["help_urls"]]
    html = (site / path).read_text(encoding="utf-8")
    assert "How to fix" in html
    assert ">https://carpentries.org/matplotlib</a>" in html  # the URL is the link text


def test_a_package_without_links_has_no_fix_section(tmp_path: Path) -> None:
    write_submission(tmp_path / "submissions", failed=["make"])

    site = build_with(tmp_path)

    page = site / package_path("make")
    assert json.loads(page.with_suffix(".json").read_text("utf-8"))["help_urls"] == []
    assert "How to fix" not in page.read_text(encoding="utf-8")


def test_a_help_url_must_be_a_web_link(tmp_path: Path) -> None:
    (tmp_path / "submissions").mkdir()
    (tmp_path / "config.yaml").write_text(
        "generator:\n  help_urls: {git: 'javascript:alert(1)'}\n", encoding="utf-8"
    )

    done = run_python("-m", "generator", "build", "--config", str(tmp_path / "config.yaml"))

    assert done.returncode == 2
    assert done.stderr == (
        "error: generator.help_urls.git: expected an http:// or https:// URL, "
        "got 'javascript:alert(1)'\n"
    )
