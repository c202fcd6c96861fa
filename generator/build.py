"""``python -m generator build``: the whole report build as one readable pipeline.

    read      submission files -> compact columns       (installdata/read.py, every core)
    load      columns -> tables                        (installdata/load.py)
    people    users, latest attempts, workshops         (installdata/people.py)
    aggregate tables -> pages, one by one               (generator/pages/)
    render    pages -> files in a staging folder        (generator/render/, every core)
    publish   staging folder swapped in for site/       (generator/publish.py)

Stages overlap where that saves time: the readers start first, as lean forked processes, and
this process imports the rest of the pipeline (pandas, Jinja, matplotlib) while they work; and
pages are rendered by worker processes while later pages are still being aggregated.

The build only ever reads the submissions folder. Files it cannot use (and folders it cannot
list, links, FIFOs, files over ``generator.max_file_bytes``) are skipped, counted and named
on stderr, escaped (installdata/printing.py), and the build goes on; a failure while
writing leaves the published site as it was and exits non-zero. It publishes only over a
site it made (generator/publish.py), and not a report of far fewer submissions than the
published one (``refuse_shrinking``).
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from generator.publish import check_target, publish_site
from installdata.cache import ReadCache, check_location
from installdata.config import GeneratorConfig
from installdata.errors import UserError
from installdata.printing import shown
from installdata.read import Reading

SHOW_SKIPPED = 20
"""Skipped files named one per line in the summary; the rest are only counted."""

SHRINK_LIMIT = 0.5
"""A report of fewer submissions than this share of the published one's is refused."""

GC_THRESHOLDS = (20_000, 20, 100)
"""The cyclic garbage collector's thresholds while the pages are built (Python's: 700, 10,
10). Aggregating and rendering make millions of short-lived dicts and lists and few cycles;
at the default thresholds the collector ran some 900 times over the tables' objects and took
about a fifth of the aggregation's CPU time at 100,000 submissions (docs/performance.md)."""


@dataclass(frozen=True)
class Summary:
    files_read: int
    skipped: list[tuple[Path, str]]
    people: int
    pages: int
    files_written: int
    seconds: float
    files_kept: int = 0

    def lines(self, site_dir: Path) -> list[str]:
        """The summary for stderr: one line of figures, then each skipped file and why."""
        lines = [
            f"built {shown(site_dir)}: read {self.files_read} files, skipped {len(self.skipped)}, "
            f"{self.people} people, {self.pages} pages ({self.files_written} files, "
            f"{self.files_kept} unchanged) "
            f"in {self.seconds:.1f} s"
        ]
        lines += [
            f"  skipped {shown(path)}: {shown(reason)}"
            for path, reason in self.skipped[:SHOW_SKIPPED]
        ]
        if len(self.skipped) > SHOW_SKIPPED:
            lines.append(f"  ... and {len(self.skipped) - SHOW_SKIPPED} more skipped files")
        return lines


def build_time(environ: dict[str, str] | os._Environ[str] = os.environ) -> datetime:
    """Now (UTC), or SOURCE_DATE_EPOCH when set, so that the same data builds the same site."""
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return datetime.now(timezone.utc).replace(microsecond=0)
    try:
        return datetime.fromtimestamp(int(epoch), timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise UserError(
            f"SOURCE_DATE_EPOCH must be whole seconds since 1970, got {epoch!r}"
        ) from None


def _check_folders(submissions_dir: Path, site_dir: Path) -> None:
    if not submissions_dir.is_dir():
        raise UserError(f"submissions folder not found: {submissions_dir}")
    submissions, site = submissions_dir.resolve(), site_dir.resolve()
    if site == submissions or submissions in site.parents or site in submissions.parents:
        raise UserError(
            f"the site folder {site_dir} and the submissions folder {submissions_dir} must not "
            "contain each other (the build never writes into submissions)"
        )


def _published_submissions(site_dir: Path) -> int | None:
    """``totals.submissions`` of the published site's index.json; None if unreadable."""
    try:
        count = json.loads((site_dir / "index.json").read_bytes())["totals"]["submissions"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return count if isinstance(count, int) else None


def refuse_shrinking(
    site_dir: Path, submissions_dir: Path, *, files_read: int, submissions: int
) -> None:
    """Raise ``UserError`` rather than publish a report far smaller than the published one.

    An empty or unmounted submissions folder, or one that lost most of its files, would
    otherwise replace a good report with an empty one. Where nothing is published yet, any
    report is news, an empty one included.
    """
    if not check_target(site_dir):
        return
    published = _published_submissions(site_dir)
    anyway = "nothing was changed (--allow-shrink publishes it anyway)"
    if files_read == 0 and published != 0:
        counts = "" if published is None else f", which counts {published} submissions"
        raise UserError(
            f"refusing to publish an empty report over {site_dir}{counts}: no submission file "
            f"found in {submissions_dir} (is it mounted?); {anyway}"
        )
    if published is not None and submissions < published * SHRINK_LIMIT:
        raise UserError(
            f"refusing to publish a report of {submissions} submissions over {site_dir}, which "
            f"counts {published} (fewer than half: is {submissions_dir} complete?); {anyway}"
        )


def _collect_less() -> None:
    """Keep the garbage collector off the loaded tables and away from the young objects.

    What exists now (the tables, the imported modules) lives until the build ends: frozen
    (``gc.freeze``), no collection scans it again. Forked workers freeze once more before
    they start (installdata/parallel.py).
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def build_site(
    config: GeneratorConfig,
    submissions_dir: Path | None = None,
    site_dir: Path | None = None,
    *,
    allow_shrink: bool = False,
) -> int:
    """Build the report site; return the exit status (0). Raises ``UserError`` for bad input.

    ``allow_shrink``: publish even a report far smaller than the published one.
    """
    started = time.monotonic()
    submissions_dir = submissions_dir or config.submissions_dir
    site_dir = (site_dir or config.site_dir).resolve()  # a symlinked site: publish its target
    _check_folders(submissions_dir, site_dir)
    check_location(config.cache_dir, submissions_dir, site_dir)  # it holds e-mail addresses
    check_target(site_dir)  # now, not after minutes of reading
    now = build_time()
    generated_at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    progress = sys.stderr.isatty()

    # Unchanged folders come from the cache of what earlier builds read (installdata/cache.py).
    cache = ReadCache(config.cache_dir, submissions_dir, config.max_file_bytes)
    with Reading(
        submissions_dir, progress=progress, max_file_bytes=config.max_file_bytes, cache=cache
    ) as reading:
        # The readers are working; import the rest now (about 1 s of CPU, see the docstring).
        import pandas as pd

        from generator.install_test import write_into as write_install_test
        from generator.pages import iter_pages
        from generator.render import Written, prepare, write_site
        from installdata.load import assemble
        from installdata.people import assign_people

        prepare()
        loaded = assemble(reading)
    files_read, skipped, results = loaded.files_read, loaded.skipped, loaded.results
    if not allow_shrink:
        refuse_shrinking(
            site_dir, submissions_dir, files_read=files_read, submissions=len(loaded.submissions)
        )
    _collect_less()
    people = assign_people(loaded.submissions)
    del loaded  # the people table supersedes the loaded one: one copy in memory is enough
    n_people = int(people["person"].nunique())
    pages = iter_pages(
        people,
        results,
        now=pd.Timestamp(now),
        generated_at=generated_at,
        title=config.title,
        min_workshop_participants=config.min_workshop_participants,
        events=config.events,
        collector_url=config.collector_url,
        install_test=config.install_test is not None,
        package_aliases=config.package_aliases,
        help_urls=config.help_urls,
    )
    del people, results  # the pages (being aggregated) hold what they still need
    try:

        def write(staging: Path) -> Written:  # the pages, then the installer
            written = write_site(
                pages,
                staging,
                title=config.title,
                generated_at=generated_at,
                progress=progress,
                previous=site_dir,  # its unchanged files are kept (render/keep.py)
            )
            if config.install_test is not None:  # docs/install-test.md
                write_install_test(staging, config.install_test, previous=site_dir)
            return written

        written = publish_site(site_dir, write)
    except OSError as exc:
        raise UserError(
            f"cannot write the site ({exc.strerror or exc}: {exc.filename}); "
            f"the published site {site_dir} is unchanged"
        ) from None

    summary = Summary(
        files_read=files_read,
        skipped=skipped,
        people=n_people,
        pages=written.pages,
        files_written=written.files,
        files_kept=written.kept,
        seconds=time.monotonic() - started,
    )
    print("\n".join(summary.lines(site_dir)), file=sys.stderr)
    return 0
