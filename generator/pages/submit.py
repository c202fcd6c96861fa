"""How to submit results (template submit.html): the protocol for authors of installer scripts.

The same for every build: the paths and the example come from ``installdata.protocol``, which
the collector serves, so the page cannot drift from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

from generator.model import Page
from installdata.protocol import EXAMPLE_REQUEST, EXAMPLE_RESPONSE, INSTALLER_PATH, SUBMISSIONS_PATH


class Endpoint(TypedDict):
    method: str
    path: str
    description: str


class SubmitContext(TypedDict):
    endpoints: list[Endpoint]
    schema_href: str | None  # the submission JSON Schema, relative to the site root
    example_request: Mapping[str, object]  # JSON, shown as written
    example_response: Mapping[str, object]


def submit_page() -> Page[SubmitContext]:
    endpoints = [
        Endpoint(
            method="POST", path=SUBMISSIONS_PATH, description="Send one installation test result."
        ),
        Endpoint(
            method="POST",
            path=INSTALLER_PATH,
            description="The same, at the path existing installer scripts use.",
        ),
    ]
    return Page(
        path="submit.html",
        template="submit.html",
        title="How to submit results",
        context={
            "endpoints": endpoints,
            "schema_href": "schema.json",
            "example_request": EXAMPLE_REQUEST,
            "example_response": EXAMPLE_RESPONSE,
        },
    )
