"""Command line of the generator: ``python -m generator {build,watch,import-legacy}``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from installdata.config import load_config
from installdata.errors import run_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m generator",
        description="Build the static report site from the submissions folder.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser(
        "build", help="build the report site", description="build the report site"
    )
    build.add_argument("--config", required=True, type=Path, help="path to config.yaml")
    build.add_argument(
        "--submissions", type=Path, help="submissions folder (default: generator.submissions_dir)"
    )
    build.add_argument("--site", type=Path, help="output folder (default: generator.site_dir)")
    build.add_argument(
        "--allow-shrink",
        action="store_true",
        help="publish even if the report has fewer than half the submissions of the "
        "published one (e.g. after deleting most of them on purpose)",
    )

    summary = "rebuild the report site whenever new submissions arrive, until stopped"
    watch = commands.add_parser("watch", help=summary, description=summary)
    watch.add_argument("--config", required=True, type=Path, help="path to config.yaml")
    watch.add_argument(
        "--submissions",
        type=Path,
        help="submissions folder to watch and build from (default: generator.submissions_dir)",
    )
    watch.add_argument("--site", type=Path, help="output folder (default: generator.site_dir)")
    watch.add_argument(
        "--interval",
        type=_seconds,
        default=1.0,
        help="seconds between two looks at the submissions folder (default: 1)",
    )

    summary = "turn the earlier Flask server's SQLite database into submission files"
    legacy = commands.add_parser("import-legacy", help=summary, description=summary)
    legacy.add_argument("--db", required=True, type=Path, help="the earlier server's SQLite file")
    legacy.add_argument(
        "--submissions", required=True, type=Path, help="submissions folder to write into"
    )
    legacy.add_argument(
        "--timezone",
        default="UTC",
        help="IANA time zone the earlier server's clock ran in (default: UTC)",
    )
    return parser


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0.05 <= seconds <= 3600:
        raise argparse.ArgumentTypeError(f"expected seconds from 0.05 to 3600, got {text!r}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def command() -> int:
        if args.command == "build":
            config = load_config(args.config)
            from generator.build import build_site

            return build_site(
                config.generator,
                submissions_dir=args.submissions,
                site_dir=args.site,
                allow_shrink=args.allow_shrink,
            )
        if args.command == "watch":
            from generator.watch import watch_command

            return watch_command(
                args.config,
                load_config(args.config).generator,
                submissions_dir=args.submissions,
                site_dir=args.site,
                interval=args.interval,
            )
        from generator.legacy import import_legacy_command

        return import_legacy_command(args.db, args.submissions, timezone=args.timezone)

    return run_cli(command)


def _exit_now(status: int) -> None:
    """End the process without the interpreter's teardown.

    Tearing down pandas, matplotlib and Jinja object by object takes 0.2-0.3 s (start-up
    plus teardown measured at 0.26 s with this and 0.59 s without, median of four builds of
    100,000 submissions): 4-6% of such a build, and it frees nothing the operating system does
    not reclaim at once.
    By now every file is written and closed and every worker process has been joined; only
    the standard streams may still hold output.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    _exit_now(main())
