"""The web links that installers write into error messages: found, kept intact, normalised.

The Software Carpentry scripts end every failure with "For instructions on installing an
up-to-date version, see <URL>", a URL that differs by system for one error (matplotlib's
``#installing-on-windows`` and ``#building-on-osx``, ``http://`` here and ``https://``
there). So that one page is one link, a URL is normalised (docs/counting.md, "Fix
instructions"): scheme and host in lower case, the default port and the fragment dropped, an
empty path made "/", and a page seen both as http and https shown as https. Only http and
https links count; one that points at the learner's own machine (``localhost``, a host
without a dot), carries a user name or password, or lost a part to the privacy scrubbing (a
``<placeholder>``) is no fix instruction and is left out.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

# Never in a link: spaces, quotes, angle brackets, control and bidi characters.
_NEVER = r"\s<>\"'`\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff"
_PART = rf"[^{_NEVER}()]"
_END = rf"[^{_NEVER}().,;:!?\]}}]"
_GROUP = rf"\({_PART}*\)"  # "Make_(software)": parentheses inside a URL, in pairs
_PLACEHOLDER = r"<[a-z]+>"  # what scrubbing put in: part of the link (which it then spoilt)
_PIECE = rf"{_GROUP}|{_PLACEHOLDER}"
URL = re.compile(rf"(https?://(?:{_PART}|{_PIECE})*(?:{_END}|{_PIECE}))", re.IGNORECASE)
"""An http(s) URL in running text, without the punctuation that ends a sentence after it.
One capturing group, so that ``URL.split`` hands back the URLs at the odd places."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalised(url: str) -> str | None:
    """The URL in its normal form (see the module's docstring); None if it is no fix link."""
    if "<" in url:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or "." not in host.strip(".") or parts.username is not None:
        return None
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def links(texts: pd.Series) -> pd.Series:
    """Per text (already scrubbed of private data): its fix links, normalised, in the order
    they appear, each once. A page linked as http in one text and https in another is https
    in both."""
    found = texts.map(
        lambda text: (
            [url for url in map(normalised, URL.findall(text)) if url] if "://" in text else []
        ),
        na_action="ignore",
    )
    secure = {
        url.partition("://")[2] for urls in found.dropna() for url in urls if url[:6] == "https:"
    }

    def preferred(urls: list[str]) -> list[str]:
        rests = [url.partition("://")[2] for url in urls]
        shown = [
            f"https://{rest}" if rest in secure else url
            for url, rest in zip(urls, rests, strict=True)
        ]
        return list(dict.fromkeys(shown))

    return found.map(preferred, na_action="ignore")
