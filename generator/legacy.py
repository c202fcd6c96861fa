"""Turn the earlier Flask server's SQLite database into submission files, one per attempt.

The earlier server (docs/deploy.md, "Moving over from the earlier Flask server") kept one
``user_system_info`` row per user, overwritten on every attempt, an ``attempts`` row per run
of the installer script, and one ``successful_installs`` / ``failed_installs`` row per
package of an attempt. Each attempt becomes one file in the file-drop format
(docs/file-format.md), so the report counts the old data with the same rules as the new:
the old ``unique_user_id`` is kept as ``user_id``, every attempt of a user carries that
user's single (latest) system-info row, and ``received_at`` is the newest ``create_time``
among the attempt's install rows (else the user row's), read as local time of the old
server (``--timezone``) and stored in UTC.

The import is idempotent: a file's ``submission_id`` is derived from the database and the
attempt id, and attempts whose file already exists anywhere below the submissions folder are
skipped. Rows that make no sense are counted and reported by kind, never fatal: what no file
may hold (a time outside the years the file-drop format supports, an attempt id that is no
whole number and so no part of a file name) is treated as missing.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tqdm import tqdm

from generator.legacy_report import (
    ODD_BAD_ID,
    ODD_BAD_TIME,
    ODD_EMPTY_ATTEMPT,
    ODD_MISSING_ATTEMPT,
    ODD_MISSING_USER,
    ODD_NO_NAME,
    ODD_NO_TIME,
    ODD_NO_USER_ROW,
    ODD_NOT_UTF8,
    ODD_OUT_OF_ORDER,
    ODD_TIME_OUT_OF_RANGE,
    ImportReport,
)
from installdata.errors import UserError
from installdata.listing import find_submission_files
from installdata.people import normalise_workshop
from installdata.printing import shown
from installdata.record import (
    EARLIEST_RECEIVED_AT,
    LATEST_RECEIVED_AT,
    SYSTEM_INFO_FIELDS,
    Record,
    make_record,
)
from installdata.storage import StorageError, SubmissionExistsError, SubmissionStore

KEY_NAME = "legacy-import"
ID_PREFIX = "legacy"

#: The columns the importer reads from each table (the earlier server's schema, docs/deploy.md).
SCHEMA: dict[str, tuple[str, ...]] = {
    "user_system_info": ("id", "unique_user_id", *SYSTEM_INFO_FIELDS, "create_time"),
    "attempts": ("id", "unique_user_id"),
    "successful_installs": ("id", "name", "version", "user_id", "attempt_id", "create_time"),
    "failed_installs": (
        "id",
        "name",
        "version",
        "error_description",
        "user_id",
        "attempt_id",
        "create_time",
    ),
}


@dataclass
class _Install:
    attempt_id: int | None
    user_row_id: Any
    create_time: Any
    entry: dict[str, str | None]
    failed: bool


# --- opening and checking the database ------------------------------------------------------


def open_legacy_database(db: Path) -> sqlite3.Connection:
    """Open the database read-only and check it has the earlier server's tables."""
    if not db.is_file():
        raise UserError(f"legacy database not found: {db}")
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise UserError(f"cannot open legacy database {db}: {exc}") from None
    conn.row_factory = sqlite3.Row
    try:
        _check_schema(conn, db)
    except sqlite3.Error as exc:
        conn.close()
        raise UserError(f"cannot read legacy database {db}: {exc}") from None
    except UserError:
        conn.close()
        raise
    return conn


def _check_schema(conn: sqlite3.Connection, db: Path) -> None:
    for table, wanted in SCHEMA.items():
        have = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
        if not have:
            raise UserError(f"{db} is not the earlier server's database: no table {table}")
        missing = [column for column in wanted if column not in have]
        if missing:
            raise UserError(
                f"{db} is not the earlier server's database: "
                f"table {table} lacks column(s) {', '.join(missing)}"
            )


def database_fingerprint(conn: sqlite3.Connection) -> str:
    """A short id for this database that stays the same as the database grows.

    Derived from its first attempt (rows were only ever appended), so a newer copy of the
    same database yields the same submission ids while another server's database does not.
    """
    first = conn.execute("SELECT id, unique_user_id FROM attempts ORDER BY id LIMIT 1").fetchone()
    seed = "" if first is None else f"{first['id']}\x00{first['unique_user_id']}"
    return hashlib.sha256(seed.encode()).hexdigest()[:10]


# --- turning rows into records -------------------------------------------------------------


def parse_legacy_time(value: Any, zone: ZoneInfo) -> datetime | None:
    """``2016-07-26 05:18:29.610280`` in the old server's local time -> aware UTC datetime;
    None if it is no time. ``OverflowError`` if UTC falls before year 1 or after 9999."""
    if not isinstance(value, str):
        return None
    try:
        local = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if local.tzinfo is None:
        local = local.replace(tzinfo=zone)
    return local.astimezone(timezone.utc)


def _decoder(report: ImportReport) -> Callable[[bytes], str]:
    """Reads SQLite's texts: one that is not UTF-8 is counted and read with U+FFFD for what
    is not, instead of ending the import (sqlite3's default raises on it)."""

    def decode(raw: bytes) -> str:
        try:
            return raw.decode()
        except UnicodeDecodeError:
            report.odd[ODD_NOT_UTF8] += 1
            return raw.decode(errors="replace")

    return decode


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,19}")


def _whole_number(value: Any) -> int | None:
    """An attempt id as the whole number it is (``7``, ``7.0``, ``"7"``), else None.

    The earlier server's ``attempts.id`` holds integers, but a copy made with another tool may
    hold text or reals; the id becomes part of a file name, so nothing else may pass. SQLite's
    integers are 64-bit, which bounds the file name's length too.
    """
    whole = (isinstance(value, float) and value.is_integer()) or (
        isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()) is not None
    )
    if whole:
        value = int(value)
    return value if isinstance(value, int) and -(2**63) <= value < 2**63 else None


def _system_info(user_row: sqlite3.Row | None) -> dict[str, str | None]:
    if user_row is None:
        return {}
    info = {name: _text(user_row[name]) for name in SYSTEM_INFO_FIELDS}
    # "No workshop name provided" (the earlier server's placeholder) becomes no workshop.
    info["workshop_id"] = normalise_workshop(info["workshop_id"])
    return info


def _read_installs(conn: sqlite3.Connection, report: ImportReport) -> list[_Install]:
    installs = []
    for table, failed in (("successful_installs", False), ("failed_installs", True)):
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY id"):
            name = _text(row["name"])
            if name is None or not name.strip():
                report.odd[ODD_NO_NAME] += 1
                continue
            entry = {"name": name, "version": _text(row["version"])}
            if failed:
                entry["error_description"] = _text(row["error_description"])
            attempt_id = _whole_number(row["attempt_id"])
            installs.append(_Install(attempt_id, row["user_id"], row["create_time"], entry, failed))
    return installs


@dataclass
class _Users:
    """The user_system_info rows, found by row id (install rows) or unique_user_id (attempts)."""

    by_row_id: dict[Any, sqlite3.Row]
    by_uid: dict[Any, sqlite3.Row]

    @classmethod
    def read(cls, conn: sqlite3.Connection) -> _Users:
        by_row_id = {row["id"]: row for row in conn.execute("SELECT * FROM user_system_info")}
        return cls(by_row_id, {row["unique_user_id"]: row for row in by_row_id.values()})

    def for_attempt(self, attempt: sqlite3.Row, installs: list[_Install]) -> sqlite3.Row | None:
        """The attempt's user: by its unique_user_id, else by its install rows' user_id."""
        row = self.by_uid.get(attempt["unique_user_id"])
        if row is None:
            known = [i.user_row_id for i in installs if i.user_row_id in self.by_row_id]
            row = self.by_row_id[known[0]] if known else None
        return row


def _installs_by_attempt(
    conn: sqlite3.Connection, users: _Users, attempt_ids: set[int], report: ImportReport
) -> dict[int, list[_Install]]:
    grouped: dict[int, list[_Install]] = defaultdict(list)
    for install in _read_installs(conn, report):
        if install.user_row_id not in users.by_row_id:
            report.odd[ODD_MISSING_USER] += 1
        if install.attempt_id is None or install.attempt_id not in attempt_ids:
            report.odd[ODD_MISSING_ATTEMPT] += 1
            continue
        grouped[install.attempt_id].append(install)
    return grouped


def legacy_records(
    conn: sqlite3.Connection, zone: ZoneInfo, report: ImportReport
) -> Iterator[Record]:
    """Yield one file-drop record per attempt, in attempt order, counting odd rows."""
    conn.text_factory = _decoder(report)
    users = _Users.read(conn)
    attempts = conn.execute("SELECT id, unique_user_id FROM attempts ORDER BY id").fetchall()
    ids = [_whole_number(attempt["id"]) for attempt in attempts]
    whole = {attempt_id for attempt_id in ids if attempt_id is not None}
    installs_by_attempt = _installs_by_attempt(conn, users, whole, report)
    fingerprint = database_fingerprint(conn)
    newest_by_user: dict[str, datetime] = {}

    for attempt, attempt_id in zip(attempts, ids, strict=True):
        report.attempts_read += 1
        if attempt_id is None:
            report.odd[ODD_BAD_ID] += 1
            report.not_imported.append(attempt["id"])
            continue
        installs = installs_by_attempt.get(attempt_id, [])
        user_row = users.for_attempt(attempt, installs)
        if user_row is None:
            report.odd[ODD_NO_USER_ROW] += 1
        received = _attempt_time(installs, user_row, zone, report)
        if received is None:
            report.odd[ODD_NO_TIME] += 1
            report.not_imported.append(attempt_id)
            continue
        if not installs:
            report.odd[ODD_EMPTY_ATTEMPT] += 1
        user_id = _text(attempt["unique_user_id"])
        if user_id is None and user_row is not None:
            user_id = _text(user_row["unique_user_id"])
        if user_id:
            # The old server's latest attempt is the highest id; the report's the newest time.
            if received < newest_by_user.get(user_id, received):
                report.odd[ODD_OUT_OF_ORDER] += 1
            newest_by_user[user_id] = max(received, newest_by_user.get(user_id, received))

        yield make_record(  # without a user id the submission becomes its own user
            submission_id=f"{ID_PREFIX}-{fingerprint}-{attempt_id}",
            received=received,
            user_id=user_id,
            key_name=KEY_NAME,
            user_system_info=_system_info(user_row),
            successful_installs=[i.entry for i in installs if not i.failed],
            failed_installs=[i.entry for i in installs if i.failed],
        )


def _attempt_time(
    installs: list[_Install], user_row: sqlite3.Row | None, zone: ZoneInfo, report: ImportReport
) -> datetime | None:
    """The newest readable install-row time, else the user row's time."""
    times = [_time(install.create_time, zone, report) for install in installs]
    readable = [time for time in times if time is not None]
    if readable:
        return max(readable)
    return None if user_row is None else _time(user_row["create_time"], zone, report)


def _time(value: Any, zone: ZoneInfo, report: ImportReport) -> datetime | None:
    """A legacy time in UTC, if a file may hold it; counts a time that is there (not NULL)
    but unreadable, or outside the years the file-drop format supports (readers skip such a
    file: it would be imported and then never counted)."""
    if value is None:
        return None
    try:
        parsed = parse_legacy_time(value, zone)
    except OverflowError:  # so near year 1 or 9999 that UTC is beyond what datetime holds
        report.odd[ODD_TIME_OUT_OF_RANGE] += 1
        return None
    if parsed is None:
        report.odd[ODD_BAD_TIME] += 1
    elif not EARLIEST_RECEIVED_AT <= parsed <= LATEST_RECEIVED_AT:
        report.odd[ODD_TIME_OUT_OF_RANGE] += 1
        return None
    return parsed


# --- writing --------------------------------------------------------------------------------


def import_legacy(db: Path, submissions: Path, zone: ZoneInfo) -> ImportReport:
    """Write one submission file per attempt not imported before; return the figures."""
    report = ImportReport()
    conn = open_legacy_database(db)
    try:
        store = SubmissionStore(submissions)
        existing = _stored_ids(submissions)
        (total,) = conn.execute("SELECT COUNT(*) FROM attempts").fetchone()
        records = legacy_records(conn, zone, report)
        # A progress bar on a terminal only: every file is fsynced, so a big import takes minutes.
        for record in tqdm(records, total=total, unit="attempt", disable=None, leave=False):
            if record["submission_id"] in existing:
                report.already_imported += 1
                continue
            try:
                store.save(record)
            except SubmissionExistsError:
                report.already_imported += 1
                continue
            report.written += 1
    except sqlite3.Error as exc:
        raise UserError(f"cannot read legacy database {db}: {exc}") from None
    except StorageError as exc:
        raise UserError(f"cannot write into {shown(submissions)}: {exc}") from None
    finally:
        conn.close()
    return report


def _stored_ids(submissions: Path) -> set[str]:
    """Ids already below the folder. By id, not path: a re-run with another --timezone may
    move an attempt to another day folder, and must still not write it twice."""
    try:
        return {path.stem for path in find_submission_files(submissions)}
    except OSError as exc:
        raise UserError(f"cannot read {shown(submissions)}: {exc.strerror or exc}") from None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)"
        ) from None


def import_legacy_command(db: Path, submissions: Path, timezone: str = "UTC") -> int:
    """``python -m generator import-legacy``: import, then print the figures."""
    report = import_legacy(db, submissions, _zone(timezone))
    print("\n".join(report.lines()))
    return 0
