"""Command line of the collector: ``python -m collector {serve,forget,prune}``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from installdata.config import load_config
from installdata.errors import run_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m collector",
        description="Receive installation-test results from installer scripts.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve", help="run the collector web service", description="run the collector web service"
    )
    serve.add_argument("--config", required=True, type=Path, help="path to config.yaml")
    serve.add_argument("--host", help="address to listen on (default: collector.host)")
    serve.add_argument("--port", type=int, help="port to listen on (default: collector.port)")

    forget = commands.add_parser(
        "forget",
        help="delete every submission of one person (all their attempts)",
        description="delete every submission of one person (all their attempts)",
    )
    forget.add_argument("--config", required=True, type=Path, help="path to config.yaml")
    who = forget.add_mutually_exclusive_group(required=True)
    who.add_argument("--user-id", help="the user id (the 'key' the service handed out)")
    who.add_argument("--email", help="the email address the person gave")
    forget.add_argument(
        "--dry-run", action="store_true", help="list what would be deleted, delete nothing"
    )

    prune = commands.add_parser(
        "prune",
        help="delete submissions older than collector.retention_days",
        description="delete submissions older than collector.retention_days",
    )
    prune.add_argument("--config", required=True, type=Path, help="path to config.yaml")
    prune.add_argument(
        "--dry-run", action="store_true", help="count what would be deleted, delete nothing"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def command() -> int:
        config = load_config(args.config)
        if args.command == "serve":
            from collector.server import serve

            return serve(config, host=args.host, port=args.port)
        if args.command == "forget":
            from installdata.forget import forget_command

            return forget_command(
                config, user_id=args.user_id, email=args.email, dry_run=args.dry_run
            )
        from installdata.forget import prune_command

        return prune_command(config, dry_run=args.dry_run)

    return run_cli(command)


if __name__ == "__main__":
    sys.exit(main())
