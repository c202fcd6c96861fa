"""The only commands that delete submissions: ``forget`` (one person) and ``prune`` (retention).

Both find files the way the report reads them (the loader, and the people rules of
docs/counting.md), so "a person" here is exactly the person the report counts: every
submission under their user id, plus everything linked to it by a shared (email, workshop)
pair.

Both are safe while the collector is serving: they only unlink complete files (readers'
rules: dot-folders such as the collector's ``.tmp/`` are never entered), a file that
vanishes meanwhile is simply not counted, and every folder that lost a name is fsynced so
the deletion survives a crash. A submission stored after the scan began is left alone.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd

from installdata.config import Config
from installdata.errors import UserError
from installdata.load import LoadResult, load_submissions
from installdata.people import assign_people, normalise_email
from installdata.storage import fsync_dir


def _load(root: Path) -> LoadResult:
    if not root.is_dir():
        raise UserError(f"submissions folder not found: {root} (collector.submissions_dir)")
    try:
        return load_submissions(root)
    except OSError as exc:
        raise UserError(f"cannot read {root}: {exc.strerror or exc}") from None


def person_files(
    submissions: pd.DataFrame, user_id: str | None, email: str | None
) -> tuple[list[Path], int]:
    """Paths of every submission of the matching people, and how many people that is.

    By user id: that exact id. By email: every submission whose email matches (trimmed,
    case-insensitive). Either way, everyone grouped with them (docs/counting.md) comes along.
    """
    wanted = user_id.strip() if user_id is not None else normalise_email(email)
    if not wanted:
        raise UserError("--user-id is empty" if user_id is not None else "--email is empty")
    if submissions.empty:
        return [], 0
    people = assign_people(submissions)
    if user_id is not None:
        matched = people["user_id"].astype(object) == wanted
    else:
        # Mapped over the distinct addresses only (the column is categorical).
        emails = people["email_id"].map(normalise_email, na_action="ignore")
        matched = (emails == wanted).fillna(False).astype(bool)
    persons = set(people.loc[matched, "person"])
    chosen = people.loc[people["person"].isin(persons), "path"]
    return sorted(Path(path) for path in chosen), len(persons)


def remove_submission_files(root: Path, paths: Iterable[Path]) -> int:
    """Unlink the files, fsync their folders, drop folders left empty; return files removed.

    A file that cannot be removed (permissions) does not stop the others; the command then
    fails with a ``UserError`` saying how far it got.
    """
    removed = 0
    folders: set[Path] = set()
    failed: list[str] = []
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue  # removed meanwhile by someone else: not ours to count
        except OSError as exc:
            failed.append(f"{path}: {exc.strerror or exc}")
            continue
        removed += 1
        folders.add(path.parent)
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        fsync_dir(folder)
        if folder != root:
            # rmdir refuses a folder that is not empty, so a file the collector is saving
            # right now is never lost (its save re-creates the day folder if need be).
            with contextlib.suppress(OSError):
                os.rmdir(folder)
                fsync_dir(folder.parent)
    if failed:
        raise UserError(
            f"removed {removed} files but could not remove {len(failed)} (first: {failed[0]})"
        )
    return removed


def _warn_unreadable(result: LoadResult) -> None:
    """Files the loader could not read may hold anyone's data: name them for a human."""
    if result.skipped:
        print(f"warning: {len(result.skipped)} unreadable file(s) were not checked:")
        for path, reason in result.skipped:
            print(f"  {path}: {reason}")


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def forget_command(config: Config, user_id: str | None, email: str | None, dry_run: bool) -> int:
    """``python -m collector forget``: delete every submission of one person."""
    root = config.collector.submissions_dir
    result = _load(root)
    paths, people = person_files(result.submissions, user_id, email)
    given = "user id" if user_id is not None else "email address"
    whose = _plural(people, "person", "people")
    if not paths:
        print(f"no submissions found for that {given}; nothing removed")
    elif dry_run:
        print(f"would remove {_plural(len(paths), 'submission file')} of {whose}:")
        for path in paths:
            print(f"  {path.relative_to(root)}")
    else:
        removed = remove_submission_files(root, paths)
        print(f"removed {_plural(removed, 'submission file')} of {whose}")
    _warn_unreadable(result)
    return 0


def prune_command(config: Config, dry_run: bool) -> int:
    """``python -m collector prune``: delete submissions older than collector.retention_days."""
    days = config.collector.retention_days
    if days is None:
        print("retention is off (collector.retention_days is not set); nothing removed")
        return 0
    root = config.collector.submissions_dir
    result = _load(root)
    cutoff = datetime.now(timezone.utc) - timedelta(days=days)
    submissions = result.submissions
    old = submissions.loc[submissions["received_at"] < pd.Timestamp(cutoff), "path"]
    paths = sorted(Path(path) for path in old)
    since = cutoff.strftime("%Y-%m-%dT%H:%M:%SZ")
    if dry_run:
        print(f"would remove {_plural(len(paths), 'submission file')} received before {since}")
    else:
        removed = remove_submission_files(root, paths)
        print(f"removed {_plural(removed, 'submission file')} received before {since}")
    _warn_unreadable(result)
    return 0
