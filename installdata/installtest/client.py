"""Reference client: send installation-test results to the collector from an installer script.

One file, standard library only, Python 3.8+, so installer scripts can import it or copy it
next to themselves (``python client.py --help`` works on the copy too). It never crashes or
hangs the installer that calls it: ``submit()`` returns a ``Result`` for every outcome, prints
one line about it, and gives up when its time budget is spent.

    from client import submit   # or: from collector.client import submit
    result = submit(
        "https://results.example.org",
        key="the-workshop-key",              # or the INSTALLATION_RESULTS_KEY variable
        successful_installs=[{"name": "Git (git)", "version": "2.39.2"}],
        failed_installs=[{"name": "Make (make)", "version": None,
                          "error_description": "could not find 'make' executable for make"}],
        workshop_id="2026-05-01-ttt-oslo",   # optional
    )
    if not result.ok: ...                     # result.message says why, in one line

What it sends: the lists as given (trimmed to the server's bounds), this machine's system
description (``system_info()``), the optional workshop id and email address, and the user id
the server issued last time (kept in ``default_id_file()``). Command line:
``python -m collector.client --url URL RESULTS.json``; see ``--help`` for the exit codes.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import email.utils
import json
import os
import platform
import random
import shlex
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:  # aliases for annotations only: the file runs on Python 3.8
    _Reply = tuple[int, Message[str, str], bytes]  # status, headers, at most MAX_RESPONSE_BYTES

__all__ = [
    "Result",
    "build_payload",
    "default_id_file",
    "main",
    "saved_user_id",
    "submit",
    "system_info",
]

KEY_ENV = "INSTALLATION_RESULTS_KEY"
ENDPOINT = "/api/v1/submissions"
KNOWN_ENDPOINTS = (ENDPOINT, "/installation_data", "/installation_data/")
DEFAULT_BUDGET = 20.0  # seconds for the whole submission, retries and waits included
DEFAULT_TIMEOUT = 10.0  # seconds for one request
FIRST_BACKOFF = 0.5  # seconds before the first retry; doubles each time, with jitter
MAX_BACKOFF = 8.0
MAX_RESPONSE_BYTES = 1 << 20
OS_RELEASE_FILES = ("/etc/os-release", "/usr/lib/os-release")
# The server's bounds (docs/protocol.md); longer values are cut, so that one odd value
# never costs the rest.
MAX_ENTRIES = 1000
MAX_NAME = 200
MAX_VERSION = 200
MAX_INFO_VALUE = 500
MAX_ERROR_DESCRIPTION = 10000
MAX_USER_ID = 200
MAX_INFO_FIELDS = 50
MAX_FIELD_NAME = 100
MAX_BODY_BYTES = 262144  # the collector's default max_body_bytes

EXIT_OK = 0
EXIT_NOT_DELIVERED = 1  # network trouble, server busy or down: worth trying again later
EXIT_USAGE = 2  # bad command line or results file
EXIT_REFUSED = 3  # the server refused the submission (key, data): retrying will not help


@dataclasses.dataclass(frozen=True)
class Result:
    """What happened to one submission. ``message`` is one line, fit to show a learner."""

    ok: bool
    message: str
    status: int | None = None  # HTTP status of the last answer; None if none came
    submission_id: str | None = None
    user_id: str | None = None  # the id the server issued (also saved in the id file)
    retryable: bool = False  # True when trying again later may succeed


# --- what is sent --------------------------------------------------------------------------


class Entry(TypedDict):
    """One check that passed, as sent: the tool or package and the version found."""

    name: str
    version: str | None


class FailedEntry(Entry):
    """One check that failed, and what went wrong."""

    error_description: str | None


class Payload(TypedDict):
    """The request body (docs/protocol.md)."""

    user_system_info: dict[str, str | None]
    successful_installs: list[Entry]
    failed_installs: list[FailedEntry]
    unique_user_id: str | None


def system_info() -> dict[str, str]:
    """Describe this machine the way the collector expects (``platform`` module spelling)."""
    info = {
        "system": _safely(platform.system),
        "system_version": _safely(platform.version),
        "machine": _safely(platform.machine),
        "system_platform": _safely(platform.platform),
        "python_version": _safely(platform.python_version),
    }
    name, version = _distribution(info["system"])
    info["distribution_name"] = name
    info["distribution_version"] = version
    return info


def build_payload(
    successful_installs: Iterable[Mapping[str, Any]] = (),
    failed_installs: Iterable[Mapping[str, Any]] = (),
    workshop_id: str | None = None,
    email: str | None = None,
    user_system_info: Mapping[str, Any] | None = None,
    unique_user_id: str | None = None,
) -> Payload:
    """The request body (docs/protocol.md), cut to the server's bounds.

    ``user_system_info`` entries override what ``system_info()`` finds. Entries without a
    name are dropped; other values become strings (or stay null).
    """
    info: dict[str, Any] = dict(system_info())
    info.update(user_system_info or {})
    info["workshop_id"] = _blank_to_none(workshop_id, info.get("workshop_id"))
    info["email_id"] = _blank_to_none(email, info.get("email_id"))
    return {
        "user_system_info": _system_fields(info),
        "successful_installs": [
            {"name": name, "version": _text(entry.get("version"), MAX_VERSION)}
            for name, entry in _named(successful_installs, unnamed=None)
        ],
        "failed_installs": [
            {
                "name": name,
                "version": _text(entry.get("version"), MAX_VERSION),
                "error_description": _text(entry.get("error_description"), MAX_ERROR_DESCRIPTION),
            }
            for name, entry in _named(failed_installs, unnamed=UNNAMED)
        ],
        "unique_user_id": unique_user_id,
    }


def default_id_file() -> Path:
    """Where the user id lives between runs: a small file in the user's config folder."""
    if os.name == "nt":
        base = os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
    else:
        base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "installation-test" / "user-id"


def saved_user_id(id_file: str | os.PathLike[str] | None = None) -> str | None:
    """The id the collector issued last time (what ``submit`` sends back), or None."""
    return _read_user_id(_id_path(id_file))


# --- sending -------------------------------------------------------------------------------


def submit(
    url: str,
    key: str | None = None,
    successful_installs: Iterable[Mapping[str, Any]] = (),
    failed_installs: Iterable[Mapping[str, Any]] = (),
    *,
    workshop_id: str | None = None,
    email: str | None = None,
    user_system_info: Mapping[str, Any] | None = None,
    id_file: str | os.PathLike[str] | None = None,
    budget: float = DEFAULT_BUDGET,
    timeout: float = DEFAULT_TIMEOUT,
    quiet: bool = False,
) -> Result:
    """Send one set of results; never raises (except KeyboardInterrupt), never outlasts ``budget``.

    ``url`` is the collector's address (``https://host``; its submission path is added) or
    a full endpoint URL. ``key`` defaults to the ``INSTALLATION_RESULTS_KEY`` variable. The id
    the server returns is kept in ``id_file`` (default ``default_id_file()``) and sent next
    time, so re-runs count as the same person. Unless ``quiet``, the outcome is printed as one
    line on stderr.
    """
    try:
        id_path = _id_path(id_file)
        payload = build_payload(
            successful_installs,
            failed_installs,
            workshop_id,
            email,
            user_system_info,
            _read_user_id(id_path),
        )
        key = key if key is not None else os.environ.get(KEY_ENV)
        result = _send(url, key, payload, id_path, budget, timeout)
    except Exception as exc:  # the installer must go on whatever happens here
        result = Result(False, f"could not send results: unexpected {type(exc).__name__}: {exc}")
    if not quiet:
        print(_one_line(result.message), file=sys.stderr)
    return result


def _send(
    url: str, key: str | None, payload: Payload, id_path: Path, budget: float, timeout: float
) -> Result:
    """POST the payload and keep the id the server issued."""
    deadline = time.monotonic() + max(0.0, budget)
    endpoint = _endpoint(url)
    if endpoint is None:
        return Result(False, f"could not send results: not an http(s) URL: {url!r}")
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": f"installation-results-client/1 Python/{platform.python_version()}",
    }
    if key:
        headers["Authorization"] = f"Bearer {key}"
    result = _post_with_retries(endpoint, _encode(payload), headers, deadline, timeout)
    if result.ok and result.user_id and result.user_id != payload["unique_user_id"]:
        problem = _save_user_id(id_path, result.user_id)
        if problem:
            return dataclasses.replace(result, message=f"{result.message} (but {problem})")
    return result


def _post_with_retries(
    url: str, body: bytes, headers: dict[str, str], deadline: float, timeout: float
) -> Result:
    """POST until an answer settles it or the budget is spent; retry what may pass later."""
    retry = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Result(False, "could not send results: no time left to try", retryable=True)
        try:
            status, reply_headers, raw = _post_within(url, body, headers, min(timeout, remaining))
        except Exception as exc:  # connection refused, reset, timeout, TLS, DNS ...
            outcome = Result(False, f"could not send results: {_describe(exc)}", retryable=True)
            wait = _backoff(retry)
        else:
            outcome = _interpret(status, reply_headers, raw)
            if not outcome.retryable:
                return outcome
            wait = _retry_after(reply_headers) or _backoff(retry)
        if time.monotonic() + wait >= deadline:
            tries = "1 try" if retry == 0 else f"{retry + 1} tries"
            return dataclasses.replace(outcome, message=f"{outcome.message}; gave up after {tries}")
        time.sleep(wait)
        retry += 1


def _post_within(url: str, body: bytes, headers: dict[str, str], timeout: float) -> _Reply:
    """One POST that takes at most ``timeout`` seconds in total, however slowly the server talks.

    A socket timeout only bounds each read, so a server that trickles bytes could hold the
    installer forever; the request runs in a daemon thread that is abandoned when time is up.
    """
    replies: list[_Reply] = []
    errors: list[Exception] = []

    def run() -> None:
        try:
            replies.append(_post_once(url, body, headers, timeout))
        except Exception as exc:
            errors.append(exc)

    worker = threading.Thread(target=run, name="installation-results-post", daemon=True)
    worker.start()
    worker.join(timeout)
    if replies:
        return replies[0]
    if errors:
        raise errors[0]
    raise TimeoutError(f"no complete answer within {timeout:.0f} s")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirected POST would arrive as a GET without its body; report the new URL instead."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects())  # honours HTTPS_PROXY and friends


def _post_once(url: str, body: bytes, headers: dict[str, str], timeout: float) -> _Reply:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read(MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as error:  # a 4xx/5xx answer is still an answer
        with error:
            return error.code, error.headers, error.read(MAX_RESPONSE_BYTES)


def _interpret(status: int, headers: Message[str, str], raw: bytes) -> Result:
    """Turn one HTTP answer into a Result; ``retryable`` marks answers worth another try."""
    answer = _json_object(raw) or {}
    if 200 <= status < 300:
        user_id = answer.get("key")
        if not isinstance(user_id, str) or not user_id:
            message = "could not send results: the answer was not the collector's"
            return Result(False, message, status)
        submission_id = answer.get("submission_id")
        submission_id = submission_id if isinstance(submission_id, str) else None
        summary = answer.get("summary")
        said = summary.get("message") if isinstance(summary, dict) else None
        message = f"Installation results sent, thank you (submission {submission_id}; {said})."
        return Result(True, message, status, submission_id, user_id)
    reason = _error_message(answer) or f"HTTP {status}"
    if status in (301, 302, 303, 307, 308):
        where = headers.get("Location") or "another address"
        return Result(False, f"could not send results: the server moved to {where}", status)
    if status == 429:
        return Result(
            False, f"could not send results: server busy ({reason})", status, retryable=True
        )
    if status >= 500:
        return Result(
            False, f"could not send results: server error ({reason})", status, retryable=True
        )
    return Result(False, f"the server refused the results: {reason}", status)


def _error_message(answer: dict[str, Any]) -> str | None:
    """The collector's error text plus its first detail, e.g. for a 400."""
    error = answer.get("error")
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return None
    message: str = error["message"]
    details = error.get("details")
    if isinstance(details, list) and details and isinstance(details[0], dict):
        first = details[0]
        message += f" ({first.get('path', '')}: {first.get('message', '')})"
        if len(details) > 1:
            message += f" and {len(details) - 1} more"
    return message


def _retry_after(headers: Message[str, str]) -> float | None:
    """Seconds the server asked us to wait (``Retry-After``: seconds or an HTTP date)."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _backoff(retry: int) -> float:
    """Exponential backoff with jitter, so many installers do not retry in lockstep."""
    return min(MAX_BACKOFF, FIRST_BACKOFF * 2.0**retry) * random.uniform(0.5, 1.0)


# --- the id file ----------------------------------------------------------------------------


def _id_path(id_file: str | os.PathLike[str] | None) -> Path:
    return Path(id_file) if id_file is not None else default_id_file()


def _read_user_id(path: Path) -> str | None:
    """The saved id, or None when there is none or it is unusable (the server then issues one)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not text or len(text) > MAX_USER_ID or not text.isprintable():
        return None
    return text


def _save_user_id(path: Path, user_id: str) -> str | None:
    """Write the id atomically; return a problem description instead of raising."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(user_id + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except (OSError, ValueError) as exc:  # ValueError: a path with a NUL byte
        with contextlib.suppress(OSError, ValueError):
            temporary.unlink()
        return f"could not save the id in {path}: {getattr(exc, 'strerror', None) or exc}"
    return None


# --- small helpers --------------------------------------------------------------------------


def _distribution(system: str) -> tuple[str, str]:
    """(name, version) of the operating system release, e.g. ("Ubuntu", "22.04")."""
    try:
        if system == "Linux":
            release = _os_release()
            version = release.get("VERSION_ID") or release.get("BUILD_ID", "")  # Arch: rolling
            return release.get("NAME", "Linux"), version
        if system == "Darwin":
            return "macOS", platform.mac_ver()[0]
        if system == "Windows":
            windows, version = platform.win32_ver()[:2]
            build = version.split(".")[2] if version.count(".") >= 2 else ""
            # Windows 11 still calls itself 10 to older Pythons; its builds start at 22000
            return "Windows", "11" if build.isdigit() and int(build) >= 22000 else windows
        return system, platform.release()
    except Exception:
        return "", ""


def _os_release() -> dict[str, str]:
    """Parse /etc/os-release (platform.freedesktop_os_release exists only from Python 3.10)."""
    for candidate in OS_RELEASE_FILES:
        try:
            lines = Path(candidate).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        fields: dict[str, str] = {}
        for line in lines:
            name, sep, value = line.strip().partition("=")
            if not sep or name.startswith("#"):
                continue
            try:
                words = shlex.split(value)
            except ValueError:
                words = [value.strip("\"'")]
            fields[name] = words[0] if words else ""
        return fields
    return {}


UNNAMED = "(unnamed check)"


def _named(
    entries: Iterable[object] | None, unnamed: str | None
) -> Iterator[tuple[str, Mapping[Any, Any]]]:
    """The entries the collector can take, with their names; odd ones are mended, never fatal.

    Entries that are not mappings are skipped, and at most ``MAX_ENTRIES`` are kept. An entry
    without a name is named ``unnamed``, or dropped when that is None: a successful entry
    without a name says nothing, but a failed one still reports a failure, so it is kept
    under ``UNNAMED`` rather than silently lost.
    """
    kept = 0
    for entry in entries or ():
        if not isinstance(entry, Mapping):
            continue
        name = _text(entry.get("name"), MAX_NAME) or unnamed
        if not name:
            continue
        yield name, entry
        kept += 1
        if kept == MAX_ENTRIES:
            return


def _system_fields(info: Mapping[str, Any]) -> dict[str, str | None]:
    fields: dict[str, str | None] = {}
    for name, value in info.items():
        name = str(name)[:MAX_FIELD_NAME]
        if name and len(fields) < MAX_INFO_FIELDS:
            fields[name] = _text(value, MAX_INFO_VALUE)
    return fields


def _encode(payload: Payload) -> bytes:
    """The body as UTF-8 JSON, error texts shortened if needed to fit ``MAX_BODY_BYTES``."""
    body = json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
    for limit in (2000, 500, 100, 0):
        if len(body) <= MAX_BODY_BYTES:
            break
        for entry in payload["failed_installs"]:
            if entry["error_description"]:
                entry["error_description"] = entry["error_description"][:limit] or None
        body = json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
    return body


def _text(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    return (value if isinstance(value, str) else str(value))[:limit]


def _blank_to_none(value: str | None, fallback: Any) -> Any:
    chosen = fallback if value is None else value
    if isinstance(chosen, str) and not chosen.strip():
        return None
    return chosen


def _endpoint(url: str) -> str | None:
    """The URL to POST to: ``url`` itself if it names an endpoint, else its submission path."""
    try:
        parts = urllib.parse.urlsplit(str(url).strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    if parts.path.endswith(KNOWN_ENDPOINTS):
        return parts.geturl()
    return parts._replace(path=parts.path.rstrip("/") + ENDPOINT).geturl()


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw.decode("utf-8"))
    except ValueError:  # also UnicodeDecodeError
        return None
    return value if isinstance(value, dict) else None


def _describe(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)  # URLError wraps the socket error
    inner = reason if isinstance(reason, BaseException) else exc
    text = str(inner) or type(inner).__name__
    if isinstance(inner, TimeoutError) or "timed out" in text:
        return f"no answer in time ({text})"
    return text


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _safely(function: Callable[[], str]) -> str:
    try:
        return str(function())
    except Exception:
        return ""


# --- command line ---------------------------------------------------------------------------

_EPILOG = """\
RESULTS.json is a JSON object with "successful_installs" and "failed_installs" lists and,
optionally, "user_system_info" fields that override what this machine reports ("-" reads
standard input). The key may also come from the INSTALLATION_RESULTS_KEY environment variable.

exit status:
  0  the collector stored the results
  1  not delivered (network trouble, server busy or down): try again later
  2  usage error: bad arguments or an unreadable results file
  3  the collector refused the results (wrong key, invalid data): retrying will not help
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m collector.client",
        description="Send an installation-test results file to the collector.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("results", metavar="RESULTS.json", help="the results file, or -")
    parser.add_argument("--url", required=True, help="the collector's address")
    parser.add_argument("--key", help=f"submission key (default: ${KEY_ENV})")
    parser.add_argument(
        "--id-file", help=f"where the user id is kept (default: {_default_id_text()})"
    )
    parser.add_argument("--workshop", help="workshop id, e.g. 2026-05-01-ttt-oslo")
    parser.add_argument("--email", help="email address (optional, never published)")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET, help="seconds in all")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per try")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the request body, send nothing"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        results = _read_results(args.results)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    lists = {name: results.get(name) or [] for name in ("successful_installs", "failed_installs")}
    if args.dry_run:
        payload = build_payload(
            lists["successful_installs"],
            lists["failed_installs"],
            args.workshop,
            args.email,
            results.get("user_system_info"),
            _read_user_id(_id_path(args.id_file)),
        )
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return EXIT_OK
    if _endpoint(args.url) is None:
        print(
            f"error: --url must be an http:// or https:// address, got {args.url!r}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    result = submit(
        args.url,
        args.key,
        lists["successful_installs"],
        lists["failed_installs"],
        workshop_id=args.workshop,
        email=args.email,
        user_system_info=results.get("user_system_info"),
        id_file=args.id_file,
        budget=args.budget,
        timeout=args.timeout,
    )
    if result.ok:
        return EXIT_OK
    return EXIT_NOT_DELIVERED if result.retryable or result.status is None else EXIT_REFUSED


def _read_results(name: str) -> dict[str, Any]:
    """Load and check the results file; raise ValueError with a one-line reason."""
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        data = json.loads(text)
    except OSError as exc:
        raise ValueError(f"cannot read {name}: {exc.strerror or exc}") from None
    except ValueError as exc:  # also UnicodeDecodeError
        raise ValueError(f"{name} is not valid JSON: {_one_line(str(exc))}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{name} must hold a JSON object")
    for field in ("successful_installs", "failed_installs"):
        if not isinstance(data.get(field) or [], list):
            raise ValueError(f"{name}: {field} must be a list")
    if not isinstance(data.get("user_system_info") or {}, dict):
        raise ValueError(f"{name}: user_system_info must be an object")
    return data


def _default_id_text() -> str:
    try:
        return str(default_id_file())
    except RuntimeError:  # no home folder
        return "a file in your config folder"


if __name__ == "__main__":
    sys.exit(main())
