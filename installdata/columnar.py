"""A run of parsed files as one Parquet file, and back: the build cache's format.

One row per file that was used, columns as the loader's tables have them (``file``: the
name in its folder; ``submission_id``; ``received_at``, UTC; ``user_id`` and the
``SYSTEM_FIELDS``, raw; ``n_successful``, ``n_failed``; ``packages``: a list of ``{name,
version, error}``, the successful ones first), so DuckDB, Polars, Dask or Spark read it as
it is. The text columns the readers code (the system fields and the package entries) are
written as Arrow dictionaries, Parquet's dictionary encoding, straight from the readers'
codes: materialising their strings first cost five times the whole write (2.5 CPU-s at
100,000 submissions). The files that were not used, with the reason, are in the schema's
metadata (key ``installdata``, JSON), next to the file's own name, which holds its key
(installdata/cache.py): a cached build names the same skipped files as a cold one.

Pages carry checksums, and a file is used only if it is whole and its rows are exactly the
files its run expects; anything else is a miss, never an error.
"""

from __future__ import annotations

import json
import os
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import IO, Any, cast

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from installdata.cache import FORMAT
from installdata.parse import CODED_SUBMISSION_COLUMNS
from installdata.read import CODED_RESULT_COLUMNS, Chunk, ChunkColumns, Coded

METADATA_KEY = b"installdata"

_CODED = pa.dictionary(pa.int32(), pa.string())
_PACKAGE = pa.struct([pa.field(name, _CODED) for name in CODED_RESULT_COLUMNS])
_FIELDS: list[pa.Field[Any]] = [
    pa.field("file", pa.string()),
    pa.field("submission_id", pa.string()),
    pa.field("received_at", pa.timestamp("ns", tz="UTC")),
    *[pa.field(name, _CODED) for name in CODED_SUBMISSION_COLUMNS],
    pa.field("n_successful", pa.int32()),
    pa.field("n_failed", pa.int32()),
    pa.field("packages", pa.list_(_PACKAGE)),
]
SCHEMA = pa.schema(_FIELDS)
_C_TYPES = {"q": pa.int64(), "i": pa.int32()}

_ERRORS = (OSError, ValueError, KeyError, TypeError, IndexError, pa.ArrowException)
"""What a bad cache file (or an unwritable run: a file name that is not UTF-8) can raise."""


# --- writing --------------------------------------------------------------------------------


def _numbers(values: array[int]) -> pa.Array[Any]:
    """A C array as an Arrow array, sharing its memory."""
    return pa.Array.from_buffers(
        _C_TYPES[values.typecode], len(values), [None, pa.py_buffer(values)]
    )


def _texts(coded: Coded) -> pa.Array[Any]:
    """A coded text column as an Arrow dictionary; None (a value to the readers) is null,
    since Parquet cannot hold a null among a dictionary's values."""
    values, codes = coded
    indices = _numbers(codes)
    if None in values:
        none = pa.scalar(values.index(None), pa.int32())
        indices = pc.if_else(pc.equal(indices, none), None, indices)
    words = pa.array(["" if value is None else value for value in values], pa.string())
    return pa.DictionaryArray.from_arrays(indices, words)


def _batch(piece: ChunkColumns, names: list[str]) -> pa.RecordBatch:
    counts = array("i", map(sum, zip(piece["n_successful"], piece["n_failed"], strict=True)))
    offsets = array("i", accumulate(counts, initial=0))
    results = piece["coded_results"]
    packages = pa.StructArray.from_arrays(
        [_texts(results[name]) for name in CODED_RESULT_COLUMNS], fields=list(_PACKAGE)
    )
    columns: list[pa.Array[Any]] = [
        pa.array(names, pa.string()),
        pa.array(piece["submission_id"], pa.string()),
        _numbers(piece["received_ns"]).view(pa.timestamp("ns", tz="UTC")),
        *[_texts(piece["coded_subs"][name]) for name in CODED_SUBMISSION_COLUMNS],
        _numbers(piece["n_successful"]),
        _numbers(piece["n_failed"]),
        pa.ListArray.from_arrays(cast(pa.Int32Array, _numbers(offsets)), packages),
    ]
    return pa.RecordBatch.from_arrays(columns, schema=SCHEMA)


def write_run(
    out: IO[bytes], entry: str, used: Sequence[str], pieces: Sequence[ChunkColumns]
) -> bool:
    """Write a run's pieces (the rows of the files ``used``, in order) as the cache file
    ``entry`` into ``out``; False if it cannot be kept (a file name that is not UTF-8, which
    Parquet cannot hold).

    Without column statistics: nothing filters on them (a cache file is read whole), and
    they were 40% of the time of writing a day's file."""
    skipped = [
        (path.rpartition(os.sep)[2], why) for piece in pieces for path, why in piece["skipped"]
    ]
    about = {"format": FORMAT, "entry": entry, "skipped": skipped}
    names = [path.rpartition(os.sep)[2] for path in used]
    starts = list(accumulate((len(piece["submission_id"]) for piece in pieces), initial=0))
    try:
        batches = [
            _batch(piece, names[start:end])
            for piece, start, end in zip(pieces, starts, starts[1:], strict=False)
        ]
        table = pa.Table.from_batches(batches, schema=SCHEMA)
        table = table.replace_schema_metadata({METADATA_KEY: json.dumps(about)})
        pq.write_table(table, out, write_statistics=False, write_page_checksum=True)
    except (UnicodeError, *_ERRORS):
        return False
    return True


# --- reading --------------------------------------------------------------------------------


def _c_array(typecode: str, values: pa.Array[Any]) -> array[int]:
    """An Arrow number array (no nulls) as a C array, as the readers send them."""
    out = array(typecode)
    if len(values):
        data = values.buffers()[1]
        assert data is not None
        start = values.offset * out.itemsize
        out.frombytes(memoryview(data)[start : start + len(values) * out.itemsize])
    return out


def _coded(values: pa.DictionaryArray[Any, Any]) -> Coded:
    """A dictionary column as the readers code it: distinct values in the order they first
    appear (None among them), C codes. The files' dictionaries, unified when the runs were
    combined, may hold values no row uses: the codes are encoded anew from the indices, a
    hash of integers, not of the strings (which at 1,000,000 submissions took seconds)."""
    encoded = cast(
        "pa.DictionaryArray[Any, Any]",
        pc.dictionary_encode(values.indices, null_encoding="encode"),
    )
    words = values.dictionary.take(encoded.dictionary).to_pylist()
    return words, _c_array("i", encoded.indices)


@dataclass(frozen=True)
class Kept:
    """A run as its cache file keeps it: its rows, the paths they are of, what was skipped."""

    table: pa.Table
    path: list[str]
    skipped: list[tuple[str, str]]


def read_run(path: Path, entry: str, paths: Sequence[str]) -> Kept | None:
    """The run of ``paths`` as the cache file at ``path`` keeps it; None if not usable."""
    try:
        # Read whole, then parsed from memory: half the time of pq.read_table on a small file.
        data = pa.BufferReader(path.read_bytes())
        table = pq.ParquetFile(data, page_checksum_verification=True).read(use_threads=False)
        about = json.loads((table.schema.metadata or {})[METADATA_KEY])
        if about["entry"] != entry or table.schema.remove_metadata() != SCHEMA:
            return None
        folder = paths[0].rpartition(os.sep)[0] + os.sep
        skipped = [(folder + name, why) for name, why in about["skipped"]]
        left_out = {path for path, _ in skipped}
        used = [path for path in paths if path not in left_out]
        names = [path.rpartition(os.sep)[2] for path in used]
        if len(left_out) != len(skipped) or table.column("file").to_pylist() != names:
            return None  # not this run's files: never guess which row is whose
    except _ERRORS:
        return None
    return Kept(table, used, skipped)


def merge(runs: Sequence[Kept]) -> Chunk:
    """Runs read from the cache as one chunk: one conversion for them all, not one each."""
    table = pa.concat_tables([run.table for run in runs])
    column: dict[str, Any] = {name: table.column(name).combine_chunks() for name in SCHEMA.names}
    entries = column["packages"].flatten().flatten()  # list -> struct -> its fields
    return {
        "path": [path for run in runs for path in run.path],
        "submission_id": column["submission_id"].to_pylist(),
        "received_ns": _c_array("q", column["received_at"].view(pa.int64())),
        "n_successful": _c_array("i", column["n_successful"]),
        "n_failed": _c_array("i", column["n_failed"]),
        "coded_subs": {name: _coded(column[name]) for name in CODED_SUBMISSION_COLUMNS},
        "coded_results": {
            name: _coded(values) for name, values in zip(CODED_RESULT_COLUMNS, entries, strict=True)
        },
        "skipped": [skip for run in runs for skip in run.skipped],
    }
