"""Load the submissions folder (docs/file-format.md) into two pandas tables.

``installdata/read.py`` reads and checks the files on every core and hands back compact
columns per chunk of files (distinct strings plus integer codes); this module stitches the
chunks into the two tables every later stage works on. Nothing here ever writes to the
submissions folder.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from installdata.cache import ReadCache
from installdata.folder import MAX_FILE_BYTES
from installdata.parse import CODED_SUBMISSION_COLUMNS
from installdata.read import CODED_RESULT_COLUMNS, Chunk, Coded, Reading


@dataclass
class LoadResult:
    """What the loader found.

    ``submissions``: one row per accepted file; columns ``path``, ``submission_id``,
    ``received_at`` (UTC), ``user_id`` (missing when the file had none), the
    ``SYSTEM_FIELDS`` (``email_id`` and ``workshop_id`` raw, as written), ``n_successful``,
    ``n_failed``. ``results``: one row per package of each submission (a package listed twice
    in one file counts once, as failed if either listing failed); ``sub`` (row number in
    ``submissions``), ``name``, ``version``, ``failed``, ``error``.
    ``skipped``: ``(path, reason)`` of every file that was not used, and of every entry the
    listing left out (a folder it could not list, a link, a FIFO), in path order; print
    them ``shown`` (installdata/printing.py): they are anyone's names.
    """

    submissions: pd.DataFrame
    results: pd.DataFrame
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    files_read: int = 0


# --- stitching chunks together ----------------------------------------------------------------


class _Categories:
    """One text column, merged chunk by chunk: a category per distinct value, None missing."""

    def __init__(self) -> None:
        self.mapping: dict[str, int] = {}
        self.codes: list[np.ndarray] = []

    def add(self, coded: Coded) -> None:
        uniques, local = coded
        remap = np.array(
            [
                -1 if value is None else self.mapping.setdefault(value, len(self.mapping))
                for value in uniques
            ],
            dtype=np.int32,
        )
        self.codes.append(remap[np.frombuffer(local, dtype=np.intc)])

    def column(self) -> pd.Categorical:
        codes = np.concatenate(self.codes) if self.codes else np.empty(0, np.int32)
        return pd.Categorical.from_codes(
            codes, categories=pd.Index(list(self.mapping), dtype=object)
        )


class _Tables:
    """The two tables, put together chunk by chunk as the readers hand the chunks back.

    Merging a chunk's distinct values into the columns' categories is most of the work, and
    done on arrival it overlaps the reading instead of following it.
    """

    def __init__(self) -> None:
        self.lists: dict[str, list[Any]] = {"path": [], "submission_id": [], "skipped": []}
        self.numbers: dict[str, list[array[int]]] = {
            name: [] for name in ("received_ns", "n_successful", "n_failed")
        }
        self.submission_columns = {name: _Categories() for name in CODED_SUBMISSION_COLUMNS}
        self.result_columns = {name: _Categories() for name in CODED_RESULT_COLUMNS}

    def add(self, chunk: Chunk) -> None:
        self.lists["path"] += chunk["path"]
        self.lists["submission_id"] += chunk["submission_id"]
        self.lists["skipped"] += chunk["skipped"]
        self.numbers["received_ns"].append(chunk["received_ns"])
        self.numbers["n_successful"].append(chunk["n_successful"])
        self.numbers["n_failed"].append(chunk["n_failed"])
        for name, column in self.submission_columns.items():
            column.add(chunk["coded_subs"][name])
        for name, column in self.result_columns.items():
            column.add(chunk["coded_results"][name])

    def _numbers(self, name: str, dtype: type) -> np.ndarray:
        """A number column from the chunks' C arrays (``frombuffer`` shares, no copy each)."""
        parts = [np.frombuffer(part, dtype=part.typecode) for part in self.numbers[name]]
        return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype)

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        n_successful = self._numbers("n_successful", np.int32)
        n_failed = self._numbers("n_failed", np.int32)
        submissions = pd.DataFrame(
            {
                "path": pd.Series(self.lists["path"], dtype=object),
                "submission_id": pd.Series(self.lists["submission_id"], dtype=object),
                "received_at": pd.to_datetime(
                    self._numbers("received_ns", np.int64), unit="ns", utc=True
                ),
                **{name: c.column() for name, c in self.submission_columns.items()},
                "n_successful": n_successful,
                "n_failed": n_failed,
            }
        )
        # Each submission's entries come out successful-first, then failed: rebuild that.
        per_sub = np.column_stack([n_successful, n_failed]).ravel()
        owner = np.repeat(np.arange(len(submissions), dtype=np.int32), n_successful + n_failed)
        failed = np.repeat(np.tile([False, True], len(submissions)), per_sub)
        results = pd.DataFrame(
            {
                "sub": owner,
                **{name: c.column() for name, c in self.result_columns.items()},
                "failed": failed,
            }
        )
        return submissions, results


# --- the public entry point -------------------------------------------------------------------


def assemble(reading: Reading) -> LoadResult:
    """Stitch ``reading``'s chunks into a ``LoadResult``, each as soon as the readers return it."""
    tables = _Tables()
    for chunk in reading.chunks():
        tables.add(chunk)
    submissions, results = tables.frames()
    both = sorted(tables.lists["skipped"] + reading.unlisted)
    skipped = [(Path(path), reason) for path, reason in both]
    return LoadResult(submissions, results, skipped, files_read=reading.files_read)


def load_submissions(
    root: Path,
    *,
    workers: int | None = None,
    progress: bool = False,
    max_file_bytes: int = MAX_FILE_BYTES,
    cache: ReadCache | None = None,
) -> LoadResult:
    """Load every submission file below ``root`` (which must exist) into a ``LoadResult``.

    ``workers``: processes to use (default: every core; 1 reads in-process);
    ``max_file_bytes``: larger files are skipped unread (``generator.max_file_bytes``);
    ``cache``: the build cache, which unchanged folders are read from (installdata/cache.py).
    """
    with Reading(
        root, workers, progress=progress, max_file_bytes=max_file_bytes, cache=cache
    ) as reading:
        return assemble(reading)
