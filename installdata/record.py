"""The file-drop format: what one stored submission looks like (docs/file-format.md).

Every writer of the submissions folder (the collector, the legacy importer, the synthetic
data of the demo and the tests) builds its records here, so the field names, their order,
``schema_version`` and the ``received_at`` format exist once. Readers are lenient about
files that others drop in (see ``installdata.parse``); writers are exact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from importlib import resources
from typing import Any, TypedDict

SCHEMA_VERSION = 1
"""The ``schema_version`` of every file this project writes."""

EARLIEST_RECEIVED_AT = datetime(1678, 1, 1, tzinfo=timezone.utc)
LATEST_RECEIVED_AT = datetime(2261, 12, 31, tzinfo=timezone.utc)
"""The range of ``received_at`` the format supports. Readers hold times as int64
nanoseconds (pandas' datetime64[ns]: about 1677 to 2262), so they skip a file outside it
(``installdata.parse``) and no writer may write one."""

SYSTEM_INFO_FIELDS = (
    "distribution_name",
    "distribution_version",
    "system",
    "system_version",
    "machine",
    "system_platform",
    "python_version",
    "workshop_id",
    "email_id",
)
"""The ``user_system_info`` keys installer scripts send (docs/protocol.md), in that order."""

SCHEMA = resources.files("installdata") / "submission.schema.json"
"""The JSON Schema of a submission as installers send it: the collector checks bodies
against it, the site publishes it as ``schema.json``."""


def is_name(text: str) -> bool:
    """True when ``text`` has a character that is not white space: a package name.

    White space is what ``str.isspace`` says, so ``is_name(text)`` is ``text.strip() != ""``,
    the reader's identity of a package. The one rule: the reader skips a file with an entry
    that fails it, the collector refuses such a body (the schema's ``pattern`` on
    ``package_name`` states it for other clients, and a test holds the three to the same
    answer on every character). The zero-width space and U+FEFF are not white space here.
    """
    return not text.isspace() and text != ""


class Record(TypedDict, total=False):
    """One submission file. ``user_id`` may be absent: the file is then its own user."""

    schema_version: int
    submission_id: str
    received_at: str
    user_id: str
    key_name: str
    user_system_info: Mapping[str, Any]
    successful_installs: Sequence[Mapping[str, Any]]
    failed_installs: Sequence[Mapping[str, Any]]


def format_received_at(moment: datetime) -> str:
    """``moment`` as written in ``received_at``: UTC to the microsecond, ``...123456Z``."""
    t = moment.astimezone(timezone.utc)
    # the fields %-formatted: half the instructions of strftime (callgrind), once a submission
    fields = (t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % fields  # noqa: UP031


def make_record(
    *,
    submission_id: str,
    received: datetime,
    user_id: str | None,
    key_name: str,
    user_system_info: Mapping[str, Any] | None = None,
    successful_installs: Sequence[Mapping[str, Any]] = (),
    failed_installs: Sequence[Mapping[str, Any]] = (),
) -> Record:
    """The one way a record is put together: fields in the documented order.

    A ``user_id`` of None leaves the field out, which makes the submission its own user.
    """
    record: Record = {
        "schema_version": SCHEMA_VERSION,
        "submission_id": submission_id,
        "received_at": format_received_at(received),
    }
    if user_id:
        record["user_id"] = user_id
    record["key_name"] = key_name
    record["user_system_info"] = dict(user_system_info or {})
    record["successful_installs"] = list(successful_installs)
    record["failed_installs"] = list(failed_installs)
    return record
