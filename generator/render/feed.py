"""A ``Feed`` as Atom 1.0 (RFC 4287) bytes, so a maintainer can subscribe to what changed.

Links are relative, like every link of the site (it works from any base path): a feed
reader resolves them against the feed's own address. Every text goes through ElementTree,
which escapes it; none is ever markup.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from generator.model import Feed

ATOM = "http://www.w3.org/2005/Atom"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 cannot hold at all; a text from a submission might."""


def atom_bytes(feed: Feed, *, page_href: str, root: str, author: str) -> bytes:
    """The feed document. ``page_href``: the page it belongs to, relative to the feed;
    ``root``: the way from the feed back to the site root, put before each entry's link."""
    ET.register_namespace("", ATOM)
    top = ET.Element(f"{{{ATOM}}}feed")
    _text(top, "id", feed.id)
    _text(top, "title", feed.title)
    _text(top, "updated", feed.updated)
    ET.SubElement(_text(top, "author", ""), f"{{{ATOM}}}name").text = author
    _link(top, "self", feed.name, "application/atom+xml")
    _link(top, "alternate", page_href, "text/html")
    for entry in feed.entries:
        item = ET.SubElement(top, f"{{{ATOM}}}entry")
        _text(item, "id", entry.id)
        _text(item, "title", entry.title)
        _text(item, "updated", entry.updated)
        _link(item, "alternate", root + entry.link, "text/html")
        _text(item, "summary", entry.summary)
    ET.indent(top)
    body: bytes = ET.tostring(top, encoding="utf-8", xml_declaration=True)
    return body + b"\n"


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}")
    if text:
        element.text = _NOT_XML.sub("", text)
    return element


def _link(parent: ET.Element, rel: str, href: str, media_type: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}link", rel=rel, href=href, type=media_type)
