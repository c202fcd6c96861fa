"""How to submit results (template submit.html): the protocol for authors of installer scripts.

The paths and the example body come from ``installdata.protocol``, which the collector serves,
so the page cannot drift from it; the collector's address is the deployment's
(``generator.collector_url``), and every code example sends that one body to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

from generator.install_test import TARGET, learner_command
from generator.model import Page
from generator.pages.submit_examples import Examples, examples
from installdata.protocol import EXAMPLE_REQUEST, EXAMPLE_RESPONSE, INSTALLER_PATH, SUBMISSIONS_PATH


class Endpoint(TypedDict):
    method: str
    path: str
    description: str


class InstallTest(TypedDict):
    """The published installation test (docs/install-test.md): where, and how to run it."""

    href: str  # relative to the page
    command: str


class SubmitContext(TypedDict):
    collector_url: str | None  # None: this deployment has not configured it
    endpoints: list[Endpoint]
    schema_href: str | None  # the submission JSON Schema, relative to the site root
    example_request: Mapping[str, object]  # JSON, shown as written
    example_response: Mapping[str, object]
    examples: Examples  # the same body sent from Python, a shell, curl and R
    install_test: InstallTest | None  # None: the site publishes no installation test


def submit_page(
    collector_url: str | None = None, install_test: bool = False
) -> Page[SubmitContext]:
    """``install_test``: the build publishes ``install-test.py`` (``generator.install_test``)."""
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
            "collector_url": collector_url,
            "endpoints": endpoints,
            "schema_href": "schema.json",
            "example_request": EXAMPLE_REQUEST,
            "example_response": EXAMPLE_RESPONSE,
            "examples": examples(collector_url),
            "install_test": InstallTest(href=TARGET, command=learner_command())
            if install_test
            else None,
        },
    )
