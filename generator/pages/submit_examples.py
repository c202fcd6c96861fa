"""The submit page's code examples, all sending the one example body of ``installdata.protocol``
to this deployment's collector: the reference client from Python and from a shell, curl (for
bash installers) and R. Made here, from that body, so no example can drift from the others.
"""

from __future__ import annotations

from typing import TypedDict

from installdata.protocol import EXAMPLE_REQUEST, SUBMISSIONS_PATH

KEY_PLACEHOLDER = "<key>"
"""Where the submission key goes: the organisers give it out, the site never shows one."""

UNCONFIGURED_URL = "https://collector.example"
"""Shown in the examples when the deployment has not said where its collector is."""


class Examples(TypedDict):
    python: str
    shell: str
    curl: str
    r: str


def _python(value: object) -> str:
    """A JSON value written as Python (None, not null)."""
    return repr(value)


def examples(collector_url: str | None) -> Examples:
    base = (collector_url or UNCONFIGURED_URL).rstrip("/")
    body = EXAMPLE_REQUEST
    info = body["user_system_info"]
    workshop = info["workshop_id"] if isinstance(info, dict) else None
    python = (
        "from client import submit   # or: from collector.client import submit\n\n"
        f'result = submit("{base}", key="{KEY_PLACEHOLDER}",\n'
        f"                successful_installs={_python(body['successful_installs'])},\n"
        f"                failed_installs={_python(body['failed_installs'])},\n"
        f'                workshop_id="{workshop}")\n'
        "print(result.message)"
    )
    shell = f"python -m collector.client --url {base} --workshop {workshop} results.json"
    curl = (
        "# result.json holds the JSON body shown above\n"
        f"curl --fail-with-body -X POST {base}{SUBMISSIONS_PATH} \\\n"
        f'  -H "Authorization: Bearer {KEY_PLACEHOLDER}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        "  --data-binary @result.json"
    )
    r = (
        "# result.json holds the JSON body shown above\n"
        "library(httr)\n"
        f'response <- POST("{base}{SUBMISSIONS_PATH}",\n'
        f'  add_headers(Authorization = "Bearer {KEY_PLACEHOLDER}"),\n'
        '  body = upload_file("result.json", type = "application/json"))\n'
        "key <- content(response)$key   # send it as unique_user_id next time"
    )
    return Examples(python=python, shell=shell, curl=curl, r=r)
