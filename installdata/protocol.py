"""The wire protocol's fixed parts (docs/protocol.md): where a submission is sent, and an example.

The collector serves these paths and describes them in its OpenAPI document; the report's
"How to submit" page shows them with the example. One source, so the page never names a path
the collector does not serve.
"""

from __future__ import annotations

from collections.abc import Mapping

SUBMISSIONS_PATH = "/api/v1/submissions"
"""Where a new installer script sends its results."""

INSTALLER_PATH = "/installation_data/"
"""The path existing installer scripts use (the earlier server's); also served without the
trailing slash."""

SUBMISSION_PATHS = (INSTALLER_PATH, "/installation_data", SUBMISSIONS_PATH)
"""Every path a submission is accepted at, in the order the OpenAPI document lists them."""

EXAMPLE_REQUEST: Mapping[str, object] = {
    "user_system_info": {
        "distribution_name": "Ubuntu",
        "distribution_version": "22.04",
        "system": "Linux",
        "system_version": "#91-Ubuntu SMP",
        "machine": "x86_64",
        "system_platform": "Linux-5.15.0-91-generic-x86_64-with-glibc2.35",
        "python_version": "3.11.6",
        "workshop_id": "2026-05-01-somewhere",
        "email_id": None,
    },
    "successful_installs": [{"name": "Git (git)", "version": "2.39.2"}],
    "failed_installs": [
        {
            "name": "Make (make)",
            "version": None,
            "error_description": "could not find 'make' executable for make",
        }
    ],
    "unique_user_id": None,
}
"""A submission body as an installer script sends it (key order as shown to readers): the one
example every page and document shows. Names follow the "Name (key)" rule; a version the
script could not find is null, as the reference client sends it."""

EXAMPLE_RESPONSE: Mapping[str, object] = {
    "key": "<user id to send next time>",
    "submission_id": "<id>",
    "summary": {"status": "Successful", "message": "new id generated"},
}
"""The collector's answer to a stored submission, placeholders for the generated ids."""
