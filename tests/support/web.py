"""Tiny HTTP client helpers for tests that talk to a real collector over loopback.

They never raise on 4xx/5xx: a test wants to look at the status, the headers and the JSON
error body, not catch exceptions. Proxies from the environment are ignored, because a
loopback request must never wander off to a proxy.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from email.message import Message
from typing import Any

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def request(
    method: str,
    url: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, Message, Any]:
    """Send one request; return (status, headers, body parsed as JSON or else as text)."""
    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with _OPENER.open(req, timeout=timeout) as response:
            return response.status, response.headers, _parse(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, _parse(error.read())


def post_json(
    url: str,
    body: Any,
    key: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, Message, Any]:
    """POST ``body`` (a JSON-able value, or raw ``bytes``/``str`` sent as they are).

    ``key`` goes into ``Authorization: Bearer``; ``headers`` are added last and win, so a test
    can replace the Content-Type or send the key another way.
    """
    if isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:
        data = json.dumps(body).encode("utf-8")
    all_headers = {"Content-Type": "application/json"}
    if key is not None:
        all_headers["Authorization"] = f"Bearer {key}"
    all_headers.update(headers or {})
    return request("POST", url, data, all_headers, timeout)


def get_json(
    url: str, headers: Mapping[str, str] | None = None, timeout: float = 30
) -> tuple[int, Message, Any]:
    """GET ``url``; same return shape as ``post_json``."""
    return request("GET", url, None, headers, timeout)


def unused_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _parse(raw: bytes) -> Any:
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text
