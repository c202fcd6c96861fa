"""Installation test: check this computer for what the workshop needs, and tell the instructors.

Run it with the Python you will use in the workshop:

    python install-test.py --workshop 2026-05-01-somewhere

It prints one line per check, then for each failure what was found, what is needed and where
to read how to fix it. Then it asks whether it may send the results to the workshop's
collector (``--yes`` says yes without asking, ``--no-submit`` sends nothing). Exit status:
0 when every check passed, 1 when any failed, whatever happened to the submission.
Standard library only, Python 3.8 or newer, Linux, macOS and Windows (docs/install-test.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from installdata.installtest.checks import KNOWN_CHECKS
from installdata.installtest.client import build_payload, saved_user_id, submit, system_info
from installdata.installtest.probe import (
    THIS_COMPUTER,
    Finding,
    Host,
    failure_block,
    full_name,
    run_check,
)

# --- settings: the site writes in its collector; CHECKS is this workshop's list -------------
COLLECTOR_URL: str | None = None
SUBMISSION_KEY: str | None = None
CHECKS = ["virtual-shell", "virtual-editor", "virtual-browser", "git", "make", "sqlite3",
          "python", "numpy", "matplotlib", "pandas", "jupyterlab", "pytest"]  # fmt: skip
# --- end of settings ------------------------------------------------------------------------

SUBMIT_BUDGET = 20.0  # seconds for the whole submission, retries included
RUN_AGAIN = "python install-test.py"


# --- the report ---------------------------------------------------------------------------


def _paint(text: str, colour: str, enabled: bool) -> str:
    codes = {"green": "32", "red": "31;1", "bold": "1"}
    return f"\033[{codes[colour]}m{text}\033[0m" if enabled else text


def colour_enabled(stream: Any, environ: Mapping[str, str]) -> bool:
    """Colour only on a terminal that shows it, and never when NO_COLOR is set."""
    if "NO_COLOR" in environ or environ.get("TERM") == "dumb" or not stream.isatty():
        return False
    return os.name != "nt" or any(name in environ for name in ("WT_SESSION", "ANSICON", "TERM"))


def check_line(finding: Finding, colour: bool) -> str:
    name = f"check {full_name(finding.check)}..."
    if finding.error is None:
        return f"{name:<48} {_paint('pass', 'green', colour)}  {finding.version or 'unknown'}"
    return f"{name:<48} {_paint('FAIL', 'red', colour)}"


def closing_line(failed: int, total: int) -> str:
    if not failed:
        return f"All {total} checks passed: this computer is ready for the workshop."
    return (
        f"{failed} of {total} checks failed. Fix them with the instructions above, then run\n"
        f"`{RUN_AGAIN}` again; if you are stuck, send the whole output to your instructors."
    )


# --- consent and submission -----------------------------------------------------------------


def _ask(question: str) -> str:
    try:
        return input(question).strip()
    except (EOFError, KeyboardInterrupt):
        print()
        return ""


def consent(args: argparse.Namespace, url: str) -> bool:
    """Ask once whether to send, then for what is missing; nothing is asked without a terminal."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print("Results not sent: no terminal to ask you; run again with --yes to send them.")
        return False
    answer = _ask(f"Send these results to the workshop's collector at {url}? [y/N] ")
    if answer.lower() not in ("y", "yes"):
        print("Results not sent.")
        return False
    if args.workshop is None:
        args.workshop = _ask("Workshop id (press Enter to skip): ") or None
    if args.email is None:
        args.email = _ask("Email address, never published (press Enter to skip): ") or None
    return True


def run_checks(names: list[str], host: Host = THIS_COMPUTER) -> Iterator[Finding]:
    """The named checks in order, each as soon as it is done; one shared by two is run once."""
    known = {check["name"]: check for check in KNOWN_CHECKS}
    done: dict[str, Finding] = {}
    for name in names:
        yield run_check(known[name], known, done, host)


def entries(findings: list[Finding]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The protocol's two lists: each check's own version, a failure's whole message."""
    passed = [{"name": full_name(f.check), "version": f.version} for f in findings if not f.error]
    failed = [
        {"name": full_name(f.check), "version": f.version, "error_description": f.error.text()}
        for f in findings
        if f.error
    ]
    return passed, failed


# --- command line ---------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python install-test.py",
        description="Check this computer for what the workshop needs and send the results.",
    )
    parser.add_argument("--url", help="the collector's address (default: written in)")
    parser.add_argument("--key", help="the submission key (default: written in)")
    parser.add_argument("--workshop", help="workshop id, e.g. 2026-05-01-somewhere")
    parser.add_argument("--email", help="your email address (optional, never published)")
    parser.add_argument("--yes", action="store_true", help="send without asking")
    parser.add_argument("--no-submit", action="store_true", help="check and print only")
    parser.add_argument("--json", metavar="FILE", help="also write the payload to FILE")
    parser.add_argument("--only", metavar="NAME,...", help="check only these (e.g. git,make)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the checks, print the report, maybe submit; 0 when all passed, else 1 (2: usage)."""
    parser = _parser()
    args = parser.parse_args(argv)
    known = {check["name"]: check for check in KNOWN_CHECKS}
    names = [name.strip() for name in args.only.split(",")] if args.only else CHECKS
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        parser.error(f"unknown check {unknown}; known: {', '.join(sorted(known, key=str.lower))}")
    colour = colour_enabled(sys.stdout, os.environ)
    info = system_info()
    system = info["system"]
    where = " ".join(filter(None, (info["distribution_name"], info["distribution_version"])))
    print(_paint(f"Installation test on {where or system}, Python {info['python_version']}",
                 "bold", colour))  # fmt: skip
    findings = []
    for finding in run_checks(names):
        findings.append(finding)
        print(check_line(finding, colour), flush=True)
    failures = [finding for finding in findings if finding.error]
    if failures:
        print(_paint("\nFailures:", "bold", colour))
    for finding in failures:
        print("\n" + failure_block(finding, system))
    print("\n" + closing_line(len(failures), len(findings)), flush=True)
    _deliver(args, *entries(findings))
    return 1 if failures else 0


def _deliver(
    args: argparse.Namespace, passed: list[dict[str, Any]], failed: list[dict[str, Any]]
) -> None:
    """Write the payload if asked, and send it if allowed; never raises, never hangs."""
    url = args.url or COLLECTOR_URL
    sending = not args.no_submit and bool(url) and consent(args, url or "")
    if args.json:
        payload = build_payload(passed, failed, args.workshop, args.email, None, saved_user_id())
        try:
            with open(args.json, "w", encoding="utf-8") as handle:
                json.dump(payload, handle, indent=2, ensure_ascii=False)
        except OSError as exc:
            print(f"could not write {args.json}: {exc.strerror or exc}")
    if args.no_submit:
        print("Results not sent (--no-submit).")
    elif not url:
        print("Results not sent: this copy names no collector (use --url).")
    elif sending:
        key = args.key or SUBMISSION_KEY
        result = submit(url, key, passed, failed, workshop_id=args.workshop, email=args.email,
                        budget=SUBMIT_BUDGET, quiet=True)  # fmt: skip
        print(result.message)


if __name__ == "__main__":
    sys.exit(main())
