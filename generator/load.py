"""Load the submissions folder (CONTRACT 5) into two pandas tables.

``generator/read.py`` reads and checks the files on every core and hands back compact
columns per chunk of files (distinct strings plus integer codes); this module stitches the
chunks into the two tables every later stage works on. Nothing here ever writes to the
submissions folder.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from generator.read import CODED_RESULT_COLUMNS, CODED_SUBMISSION_COLUMNS, Chunk, Coded, Reading


@dataclass
class LoadResult:
    """What the loader found.

    ``submissions``: one row per accepted file; columns ``path``, ``submission_id``,
    ``received_at`` (UTC), ``user_id`` (missing when the file had none), the
    ``SYSTEM_FIELDS`` (``email_id`` and ``workshop_id`` raw, as written), ``n_successful``,
    ``n_failed``. ``results``: one row per package of each submission (a package listed twice
    in one file counts once, as failed if either listing failed); ``sub`` (row number in
    ``submissions``), ``name``, ``version``, ``failed``, ``error``.
    ``skipped``: ``(path, reason)`` of every file that was not used.
    """

    submissions: pd.DataFrame
    results: pd.DataFrame
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    files_read: int = 0


# --- stitching chunks together ----------------------------------------------------------------


def _categorical(parts: list[Coded]) -> pd.Categorical:
    """Merge per-chunk (distinct values, codes) into one categorical column; None is missing."""
    mapping: dict[str, int] = {}
    codes = []
    for uniques, local in parts:
        remap = np.array(
            [-1 if value is None else mapping.setdefault(value, len(mapping)) for value in uniques],
            dtype=np.int32,
        )
        codes.append(remap[np.frombuffer(local, dtype=np.intc)])
    all_codes = np.concatenate(codes) if codes else np.empty(0, np.int32)
    return pd.Categorical.from_codes(all_codes, categories=pd.Index(list(mapping), dtype=object))


def _int_column(parts: list[array], dtype: type) -> np.ndarray:
    """C arrays of the chunks as one numpy column (``frombuffer`` shares, no copy per chunk)."""
    if not parts:
        return np.empty(0, dtype)
    arrays = [np.frombuffer(part, dtype=part.typecode) for part in parts]
    return np.concatenate(arrays).astype(dtype, copy=False)


def _tables(chunks: list[Chunk]) -> tuple[pd.DataFrame, pd.DataFrame]:
    n_successful = _int_column([c["n_successful"] for c in chunks], np.int32)
    n_failed = _int_column([c["n_failed"] for c in chunks], np.int32)
    received = _int_column([c["received_ns"] for c in chunks], np.int64)
    submissions = pd.DataFrame(
        {
            "path": pd.Series([p for c in chunks for p in c["path"]], dtype=object),
            "submission_id": pd.Series(
                [s for c in chunks for s in c["submission_id"]], dtype=object
            ),
            "received_at": pd.to_datetime(received, unit="ns", utc=True),
            **{
                name: _categorical([c["coded_subs"][name] for c in chunks])
                for name in CODED_SUBMISSION_COLUMNS
            },
            "n_successful": n_successful,
            "n_failed": n_failed,
        }
    )
    # Each submission's entries come out successful-first, then failed: rebuild that layout.
    per_sub = np.column_stack([n_successful, n_failed]).ravel()
    owner = np.repeat(np.arange(len(submissions), dtype=np.int32), n_successful + n_failed)
    failed = np.repeat(np.tile([False, True], len(submissions)), per_sub)
    results = pd.DataFrame(
        {
            "sub": owner,
            **{
                name: _categorical([c["coded_results"][name] for c in chunks])
                for name in CODED_RESULT_COLUMNS
            },
            "failed": failed,
        }
    )
    return submissions, results


# --- the public entry point -------------------------------------------------------------------


def assemble(reading: Reading) -> LoadResult:
    """Wait for ``reading`` to finish and stitch its chunks into a ``LoadResult``."""
    chunks = reading.finish()
    submissions, results = _tables(chunks)
    skipped = [(Path(path), reason) for chunk in chunks for path, reason in chunk["skipped"]]
    return LoadResult(submissions, results, skipped, files_read=len(reading.paths))


def load_submissions(
    root: Path, *, workers: int | None = None, progress: bool = False
) -> LoadResult:
    """Load every submission file below ``root`` (which must exist) into a ``LoadResult``.

    ``workers``: processes to use (default: every core; 1 reads in-process).
    """
    with Reading(root, workers, progress=progress) as reading:
        return assemble(reading)
