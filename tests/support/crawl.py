"""Reading a built site the way a visitor's browser would: its files, pages and links.

    files = site_files(site)                  # "packages/make-1a2b.html" -> bytes
    page = parse_html(site / "index.html")    # tags, attributes, text and ids
    for html_file, target in local_references(site): ...
    for html_file, href, rel, text in outbound_links(site): ...   # links to other sites

Only the standard library's HTML parser: the tests must not trust the code they check.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path


def site_files(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` by its relative POSIX path, with its bytes."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


class ParsedHTML(HTMLParser):
    """An HTML page as its tags, attributes, text and ids."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []  # (tag, name, value)
        self.text: list[str] = []
        self.ids: set[str] = set()
        self.anchors: list[list[str]] = []  # [href, rel, text] of every <a>
        self._in_anchor = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            self.attributes.append((tag, name, value or ""))
            if name == "id":
                self.ids.add(value or "")
        if tag == "a":
            found = dict(attrs)
            self.anchors.append([found.get("href") or "", found.get("rel") or "", ""])
            self._in_anchor = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._in_anchor = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_anchor:
            self.anchors[-1][2] += data


def parse_html(path: Path) -> ParsedHTML:
    return ParsedHTML(path.read_text(encoding="utf-8"))


def _outbound(tag: str, name: str, value: str) -> bool:
    return tag == "a" and name == "href" and value.lower().startswith(("http://", "https://"))


def local_references(site: Path) -> list[tuple[Path, str]]:
    """(page, href or src as written) for every link and image of every page of ``site``, but
    the links that lead to other sites (``outbound_links``)."""
    return [
        (html_file, value)
        for html_file in sorted(site.rglob("*.html"))
        for tag, name, value in parse_html(html_file).attributes
        if name in ("href", "src") and not _outbound(tag, name, value)
    ]


def outbound_links(site: Path) -> list[tuple[Path, str, str, str]]:
    """(page, href, rel, link text) of every link of ``site`` to another site."""
    return [
        (html_file, href, rel, text)
        for html_file in sorted(site.rglob("*.html"))
        for href, rel, text in parse_html(html_file).anchors
        if _outbound("a", "href", href)
    ]
