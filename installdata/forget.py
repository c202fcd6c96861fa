"""The only commands that delete submissions: ``forget`` (one person) and ``prune`` (retention).

Both find files the way the report reads them (the loader, and the people rules of
docs/counting.md), so "a person" here is exactly the person the report counts: every
submission under their user id, plus everything linked to it by a shared (email, workshop)
pair.

Both are safe while the collector is serving: they only unlink complete files (readers'
rules: dot-folders such as the collector's ``.tmp/`` are never entered), a file that
vanishes meanwhile is simply not counted, and every folder that lost a name is fsynced so
the deletion survives a crash. A submission stored after the scan began is left alone.

Both read the way the build reads (installdata/folder.py, ``generator.max_file_bytes``), so
they see exactly the files the report counts, and remove only regular files they listed,
never through a link. What they could not read is named, escaped, as not checked.

Both read through the build cache (installdata/cache.py) and then remove the cache files of
every folder they deleted from, in the same command: the cache holds the submissions' rows,
and nothing of a deleted submission may live on there.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd

from installdata.cache import ReadCache, forget_folders
from installdata.config import Config
from installdata.errors import UserError
from installdata.folder import SubmissionFolder, UnusableFile
from installdata.load import LoadResult, load_submissions
from installdata.people import assign_people, normalise_email
from installdata.printing import shown


def _load(config: Config) -> LoadResult:
    root = config.collector.submissions_dir
    if not root.is_dir():
        raise UserError(f"submissions folder not found: {shown(root)} (collector.submissions_dir)")
    limit = config.generator.max_file_bytes
    cache = ReadCache(config.generator.cache_dir, root, limit)
    return load_submissions(root, max_file_bytes=limit, cache=cache)


def _remove(config: Config, paths: list[Path]) -> int:
    """Remove the files, and the build cache of every folder they were in (it holds them)."""
    root = config.collector.submissions_dir
    folders = {os.path.relpath(path.parent, root) for path in paths}
    try:
        return remove_submission_files(root, paths)
    finally:
        forget_folders(config.generator.cache_dir, root, folders)


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

    Only a regular file is removed, never through a link (``SubmissionFolder.remove``). A
    file that cannot be removed (permissions, swapped for a link) does not stop the others;
    the command then fails with a ``UserError`` saying how far it got.
    """
    removed = 0
    folders: set[str] = set()  # relative to root
    failed: list[str] = []
    with SubmissionFolder(root) as submissions:
        for path in paths:
            try:
                folder = submissions.remove(os.fspath(path))
            except UnusableFile as exc:
                failed.append(f"{shown(path)}: {shown(str(exc))}")
                continue
            if folder is None:
                continue  # removed meanwhile by someone else: not ours to count
            removed += 1
            folders.add(folder)
        for folder in sorted(folders, key=lambda f: f.count(os.sep) if f else -1, reverse=True):
            try:
                submissions.sync(folder)
            except FileNotFoundError:
                continue  # emptied and removed by a concurrent forget or prune, which syncs
            # rmdir refuses a folder that is not empty, so a file the collector is saving
            # right now is never lost (its save re-creates the day folder if need be).
            if folder:
                submissions.remove_if_empty(folder)
    if failed:
        raise UserError(
            f"removed {removed} files but could not remove {len(failed)} (first: {failed[0]})"
        )
    return removed


def _warn_unreadable(result: LoadResult, could_hold: str) -> None:
    """What the loader could not read may hold ``could_hold``: name each entry for a human."""
    if result.skipped:
        print(
            f"warning: {_plural(len(result.skipped), 'entry', 'entries')} could not be read, "
            f"so {'it was' if len(result.skipped) == 1 else 'they were'} not checked "
            f"and may hold {could_hold}:"
        )
        for path, reason in result.skipped:
            print(f"  {shown(path)}: {shown(reason)}")


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def forget_command(config: Config, user_id: str | None, email: str | None, dry_run: bool) -> int:
    """``python -m collector forget``: delete every submission of one person."""
    root = config.collector.submissions_dir
    result = _load(config)
    paths, people = person_files(result.submissions, user_id, email)
    given = "user id" if user_id is not None else "email address"
    whose = _plural(people, "person", "people")
    if not paths:
        print(f"no submissions found for that {given}; nothing removed")
    elif dry_run:
        print(f"would remove {_plural(len(paths), 'submission file')} of {whose}:")
        for path in paths:
            print(f"  {shown(path.relative_to(root))}")
    else:
        removed = _remove(config, paths)
        print(f"removed {_plural(removed, 'submission file')} of {whose}")
    _warn_unreadable(result, f"submissions of that {given}")
    return 0


def prune_command(config: Config, dry_run: bool) -> int:
    """``python -m collector prune``: delete submissions older than collector.retention_days."""
    days = config.collector.retention_days
    if days is None:
        print("retention is off (collector.retention_days is not set); nothing removed")
        return 0
    result = _load(config)
    cutoff = datetime.now(timezone.utc) - timedelta(days=days)
    submissions = result.submissions
    old = submissions.loc[submissions["received_at"] < pd.Timestamp(cutoff), "path"]
    paths = sorted(Path(path) for path in old)
    since = cutoff.strftime("%Y-%m-%dT%H:%M:%SZ")
    if dry_run:
        print(f"would remove {_plural(len(paths), 'submission file')} received before {since}")
    else:
        removed = _remove(config, paths)
        print(f"removed {_plural(removed, 'submission file')} received before {since}")
    _warn_unreadable(result, f"submissions received before {since}")
    return 0
