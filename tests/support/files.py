"""Hand-made submission files for the generator's tests (the CONTRACT 5 file-drop format).

    path = write_submission(root, user_id="u1", failed=["make"], workshop_id="ws-1")

Every keyword has a sensible default; ``None`` leaves the field out of the file entirely,
so the lenient rules can be exercised one at a time.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from installdata.progress import Progress

_counter = itertools.count()
_ABSENT = object()


def submission(
    *,
    submission_id: Any = _ABSENT,
    user_id: Any = "user-1",
    received_at: Any = "2026-11-01T10:00:00Z",
    email_id: Any = None,
    workshop_id: Any = None,
    system: str = "Linux",
    python_version: str = "3.11.6",
    successful: list[str] | None = ("Git (git)",),
    failed: list[str] | None = (),
    error: str = "could not find 'make' executable for make",
    **extra: Any,
) -> dict[str, Any]:
    """One submission as a dict; ``None`` for a top-level field leaves it out."""
    if submission_id is _ABSENT:
        submission_id = f"sub-{next(_counter):06d}"
    data: dict[str, Any] = {
        "schema_version": 1,
        "submission_id": submission_id,
        "received_at": received_at,
        "user_id": user_id,
        "key_name": "test",
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
    data.update(extra)
    return {key: value for key, value in data.items() if value is not None}


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


def recorded_bars(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> list[Progress]:
    """Every ``Progress`` that ``module`` creates from now on, to check what it counted."""
    bars: list[Progress] = []

    class Recorded(Progress):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            bars.append(self)

    monkeypatch.setattr(module, "Progress", Recorded)
    return bars
