"""Hand-made submissions, the one factory the tests use: request bodies and stored files.

    body = payload(email_id="ann@example.org", workshop_id="ws-1", failed=["make"])
    path = write_submission(root, user_id="u1", failed=["make"], workshop_id="ws-1")
    records = read_records(root)  # submission_id -> record, as a reader sees them

``payload`` is what an installer script sends (docs/protocol.md); ``submission`` is the file
the collector stores from it (docs/file-format.md): the same reported fields plus the server's.
Every keyword has a sensible default; ``None`` for a top-level field leaves it out entirely,
so the lenient rules can be exercised one at a time, and any other keyword is added (or
replaces a field) as given, e.g. ``user_system_info={...}`` or ``failed_installs=[...]``.
"""

from __future__ import annotations

import errno
import itertools
import json
import os
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from installdata.progress import Progress

ERROR = "could not find 'make' executable for make"
"""The error text of every failed install unless a test gives its own."""

_counter = itertools.count()
_ABSENT = object()


def payload(
    *,
    unique_user_id: str | None = None,
    system: str = "Linux",
    python_version: str = "3.11.6",
    email_id: str | None = None,
    workshop_id: str | None = None,
    successful: Sequence[str] | None = ("Git (git)",),
    failed: Sequence[str] | None = (),
    error: str = ERROR,
    **extra: Any,
) -> dict[str, Any]:
    """One request body as an installer script sends it; ``None`` leaves a field out."""
    data = {
        **_reported(system, python_version, email_id, workshop_id, successful, failed, error),
        "unique_user_id": unique_user_id,
    }
    data.update(extra)
    return {key: value for key, value in data.items() if value is not None}


def submission(
    *,
    submission_id: Any = _ABSENT,
    user_id: Any = "user-1",
    received_at: Any = "2026-11-01T10:00:00Z",
    email_id: Any = None,
    workshop_id: Any = None,
    system: str = "Linux",
    python_version: str = "3.11.6",
    successful: Sequence[str] | None = ("Git (git)",),
    failed: Sequence[str] | None = (),
    error: str = ERROR,
    **extra: Any,
) -> dict[str, Any]:
    """One stored submission as a dict; ``None`` for a top-level field leaves it out."""
    if submission_id is _ABSENT:
        submission_id = f"sub-{next(_counter):06d}"
    data: dict[str, Any] = {
        "schema_version": 1,
        "submission_id": submission_id,
        "received_at": received_at,
        "user_id": user_id,
        "key_name": "test",
        **_reported(system, python_version, email_id, workshop_id, successful, failed, error),
    }
    data.update(extra)
    return {key: value for key, value in data.items() if value is not None}


def _reported(
    system: str,
    python_version: str,
    email_id: Any,
    workshop_id: Any,
    successful: Sequence[str] | None,
    failed: Sequence[str] | None,
    error: str,
) -> dict[str, Any]:
    """The fields a body and its stored file share: the machine and what installed."""
    return {
        "user_system_info": {
            "distribution_name": "Ubuntu",
            "distribution_version": "22.04",
            "system": system,
            "machine": "x86_64",
            "python_version": python_version,
            "workshop_id": workshop_id,
            "email_id": email_id,
        },
        "successful_installs": None
        if successful is None
        else [{"name": name, "version": "1.0"} for name in successful],
        "failed_installs": None
        if failed is None
        else [{"name": name, "version": None, "error_description": error} for name in failed],
    }


def write_submission(root: Path, name: str | None = None, **fields: Any) -> Path:
    """Write one submission file below ``root/<day>/`` and return its path."""
    data = submission(**fields)
    day = str(data.get("received_at") or "2026-11-01")[:10]
    folder = root / day
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{data.get('submission_id') or next(_counter)}.json")
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def write_raw(root: Path, name: str, content: bytes) -> Path:
    """Write arbitrary bytes as a submission file (for corrupt-file tests)."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / name
    path.write_bytes(content)
    return path


def submission_paths(root: Path) -> list[Path]:
    """The submission files a reader sees, in order: every ``*.json`` outside dot-folders."""
    return sorted(
        path
        for path in root.rglob("*.json")
        if not any(part.startswith(".") for part in path.relative_to(root).parts)
    )


def read_records(root: Path) -> dict[str, dict[str, Any]]:
    """submission_id -> record of every file a reader sees below ``root``.

    Fails on a file that is not complete JSON, not in the folder of its day or not named by
    its id: whatever wrote the files (the collector, an importer) must lay them out so.
    """
    records: dict[str, dict[str, Any]] = {}
    for path in submission_paths(root):
        record = json.loads(path.read_bytes())
        assert path.parent.name == record["received_at"][:10], path
        assert path.stem == record["submission_id"], path
        records[record["submission_id"]] = record
    return records


def recorded_bars(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> list[Progress]:
    """Every ``Progress`` that ``module`` creates from now on, to check what it counted."""
    bars: list[Progress] = []

    class Recorded(Progress):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            bars.append(self)

    monkeypatch.setattr(module, "Progress", Recorded)
    return bars


def listed_folder(arg: Any) -> str:
    """The folder an ``os.scandir`` call lists, given its path or a descriptor of it."""
    return os.readlink(f"/proc/self/fd/{arg}") if isinstance(arg, int) else os.fspath(arg)


def refuse_listing(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Listing ``folder`` fails as a mode-700 folder of another user does (a ``lost+found``):
    tests run as root, who may read any folder, so only a patched ``os.scandir`` refuses."""
    real = os.scandir

    def scandir(arg: Any = ".") -> Any:
        if listed_folder(arg) == str(folder):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(folder))
        return real(arg)

    monkeypatch.setattr(os, "scandir", scandir)
