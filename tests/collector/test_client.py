"""The reference client: against stub servers that misbehave, and against the real collector.

The stubs (a tiny ``http.server`` per test) play what the real collector never does on
purpose but networks and proxies do: hang, trickle, drop the connection, answer HTML. The
real collector (``start_collector`` fixture) checks the id round trip, the key and the CLI.
"""

from __future__ import annotations

import ast
import functools
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from installdata import record
from installdata.installtest import client
from installdata.installtest.client import Result, submit
from support.commands import run_python
from support.files import read_records
from support.web import unused_port

CLIENT_FILE = Path(client.__file__)
SCHEMA = json.loads(record.SCHEMA.read_text(encoding="utf-8"))
GIT = {"name": "Git (git)", "version": "2.39.2"}
MAKE = {"name": "Make (make)", "version": None, "error_description": "could not find 'make'"}

# --- stub servers -----------------------------------------------------------------------------

Behaviour = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Stub:
    """A loopback HTTP server that answers each POST with the next behaviour in its list."""

    behaviours: list[Behaviour]
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)  # ends hanging answers
    url: str = ""


def reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Behaviour:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()

    def behave(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(raw)))
        handler.end_headers()
        handler.wfile.write(raw)

    return behave


def accepted(user_id: str = "issued-id-1", message: str = "new id generated") -> Behaviour:
    answer = {
        "key": user_id,
        "submission_id": "s1",
        "summary": {"status": "Successful", "message": message},
    }
    return reply(200, answer)


def hang(stub: Stub) -> Behaviour:
    return lambda handler: stub.release.wait(60)


def trickle(stub: Stub) -> Behaviour:
    """Send a status line one byte at a time, each well within any per-read timeout."""

    def behave(handler: BaseHTTPRequestHandler) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000:
            if stub.release.wait(0.1):
                return
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()

    return behave


def drop_connection(handler: BaseHTTPRequestHandler) -> None:
    handler.close_connection = True  # no answer at all: the client sees the connection close


@pytest.fixture
def stub() -> Iterator[Callable[..., Stub]]:
    servers: list[tuple[ThreadingHTTPServer, Stub]] = []

    def start(*behaviours: Behaviour) -> Stub:
        state = Stub(list(behaviours))

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                state.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                behaviour = state.behaviours.pop(0) if state.behaviours else accepted()
                behaviour(self)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        state.url = f"http://127.0.0.1:{server.server_address[1]}"
        servers.append((server, state))
        return state

    yield start
    for server, state in servers:
        state.release.set()
        server.shutdown()
        server.server_close()


def send(url: str, tmp_path: Path, **options: Any) -> Result:
    options.setdefault("id_file", tmp_path / "user-id")
    options.setdefault("budget", 10)
    options.setdefault("timeout", 5)
    return submit(url, "the-key", [GIT], [MAKE], **options)


# --- behaviour against stubs --------------------------------------------------------------------


def test_sends_the_contract_body_with_the_key_and_saves_the_issued_id(stub, tmp_path) -> None:
    server = stub(accepted("id-from-server"))
    result = send(server.url, tmp_path, workshop_id="2026-05-01-ttt-oslo")
    assert result.ok and result.status == 200 and result.submission_id == "s1"
    assert result.user_id == "id-from-server"
    assert (tmp_path / "user-id").read_text().strip() == "id-from-server"
    [request] = server.requests
    assert request["path"] == "/api/v1/submissions"
    assert request["headers"]["Authorization"] == "Bearer the-key"
    assert request["headers"]["Content-Type"] == "application/json"
    body = json.loads(request["body"])
    assert set(body) == {
        "user_system_info",
        "successful_installs",
        "failed_installs",
        "unique_user_id",
    }
    assert body["unique_user_id"] is None
    assert body["successful_installs"] == [GIT]
    assert body["failed_installs"] == [MAKE]
    info = body["user_system_info"]
    assert info["workshop_id"] == "2026-05-01-ttt-oslo" and info["email_id"] is None
    assert info["python_version"] == ".".join(map(str, sys.version_info[:3]))


def test_sends_the_saved_id_and_the_legacy_path_when_given(stub, tmp_path) -> None:
    server = stub(accepted("saved-id", "pushed data with same id"))
    (tmp_path / "user-id").write_text("saved-id\n")
    result = send(server.url + "/installation_data/", tmp_path)
    assert result.ok and "pushed data with same id" in result.message
    assert server.requests[0]["path"] == "/installation_data/"
    assert json.loads(server.requests[0]["body"])["unique_user_id"] == "saved-id"


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage", b"x" * 300, b"  \n"])
def test_an_unusable_id_file_is_not_sent(stub, tmp_path, content: bytes) -> None:
    server = stub(accepted("fresh-id"))
    (tmp_path / "user-id").write_bytes(content)
    assert send(server.url, tmp_path).ok
    assert json.loads(server.requests[0]["body"])["unique_user_id"] is None
    assert (tmp_path / "user-id").read_text().strip() == "fresh-id"


def test_an_unwritable_id_file_still_counts_as_sent(stub, tmp_path) -> None:
    server = stub(accepted("fresh-id"))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = send(server.url, tmp_path, id_file=blocker / "user-id")
    assert result.ok
    assert "could not save the id" in result.message


def test_retries_server_errors_until_one_succeeds(stub, tmp_path) -> None:
    server = stub(
        reply(503, {"error": {"status": 503, "message": "busy"}}), reply(503, b""), accepted()
    )
    result = send(server.url, tmp_path)
    assert result.ok
    assert len(server.requests) == 3


def test_retries_a_dropped_connection(stub, tmp_path) -> None:
    server = stub(drop_connection, accepted())
    assert send(server.url, tmp_path).ok
    assert len(server.requests) == 2


def test_waits_as_long_as_retry_after_says_when_within_budget(stub, tmp_path) -> None:
    server = stub(reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "1"}), accepted())
    assert send(server.url, tmp_path).ok
    assert len(server.requests) == 2


def test_gives_up_at_once_when_retry_after_exceeds_budget(stub, tmp_path) -> None:
    limited = {"error": {"status": 429, "message": "too many submissions; retry in 3600 seconds"}}
    server = stub(reply(429, limited, {"Retry-After": "3600"}))
    result = send(server.url, tmp_path)
    assert not result.ok and result.retryable and result.status == 429
    assert "too many submissions" in result.message
    assert len(server.requests) == 1
    assert not (tmp_path / "user-id").exists()


def test_gives_up_on_persistent_server_errors_within_budget(stub, tmp_path) -> None:
    server = stub(*[reply(502, b"<html><body>502 Bad Gateway</body></html>")] * 50)
    result = send(server.url, tmp_path, budget=2)
    assert not result.ok and result.retryable and result.status == 502
    assert "gave up after" in result.message
    assert 2 <= len(server.requests) < 50


def test_a_server_that_never_answers_cannot_hold_the_installer(stub, tmp_path) -> None:
    server = stub()
    server.behaviours = [hang(server)] * 10
    result = send(server.url, tmp_path, budget=2, timeout=1)
    assert not server.release.is_set()  # the server was still holding the request
    assert not result.ok and result.retryable and result.status is None
    assert "no answer in time" in result.message


def test_a_server_that_trickles_bytes_cannot_hold_the_installer(stub, tmp_path) -> None:
    server = stub()
    server.behaviours = [trickle(server)] * 10
    result = send(server.url, tmp_path, budget=2, timeout=1)
    assert not server.release.is_set()
    assert not result.ok and result.retryable
    assert "no answer in time" in result.message


def test_html_with_200_is_not_taken_for_success_nor_retried(stub, tmp_path) -> None:
    server = stub(reply(200, b"<html>Welcome to the hotel wifi</html>"))
    result = send(server.url, tmp_path)
    assert not result.ok and not result.retryable and result.status == 200
    assert len(server.requests) == 1
    assert not (tmp_path / "user-id").exists()


def test_a_refusal_is_reported_with_the_servers_reason_and_not_retried(stub, tmp_path) -> None:
    invalid = {
        "error": {
            "status": 400,
            "message": "the submission is not valid",
            "details": [{"path": "/failed_installs/0/name", "message": "too long"}],
        }
    }
    server = stub(reply(400, invalid))
    result = send(server.url, tmp_path)
    assert not result.ok and not result.retryable and result.status == 400
    assert "not valid" in result.message and "/failed_installs/0/name" in result.message
    assert len(server.requests) == 1


def test_redirects_are_reported_not_followed(stub, tmp_path) -> None:
    server = stub(reply(301, b"", {"Location": "https://elsewhere.example.org/api/v1/submissions"}))
    result = send(server.url, tmp_path)
    assert not result.ok and result.status == 301
    assert "elsewhere.example.org" in result.message
    assert len(server.requests) == 1


def test_nothing_listening_is_a_result_not_an_exception(tmp_path) -> None:
    result = send(f"http://127.0.0.1:{unused_port()}", tmp_path, budget=1)
    assert not result.ok and result.retryable and result.status is None


@pytest.mark.parametrize(
    "arguments",
    [
        {"url": "not a url"},
        {"url": "ftp://example.org"},
        {"failed_installs": [object(), {"name": ""}, "text", {"name": 5, "version": 1.5}]},
        {"failed_installs": None, "successful_installs": None},
        {"user_system_info": {"odd": object(), "python_version": 3, "": "x", "y" * 300: "z"}},
        {"successful_installs": [{"name": "n" * 300, "version": "1.0"}] * 1500},
        {"failed_installs": [{"name": "a", "error_description": "e" * 20000}] * 100},
        {"id_file": "\0invalid"},
    ],
)
def test_odd_input_never_raises(stub, tmp_path, arguments: dict[str, Any]) -> None:
    server = stub()
    url = arguments.pop("url", server.url)
    options = {"id_file": tmp_path / "user-id", "budget": 5, **arguments}
    successful = options.pop("successful_installs", [GIT])
    failed = options.pop("failed_installs", [MAKE])
    result = submit(url, "the-key", successful, failed, quiet=True, **options)
    assert isinstance(result, Result) and result.message
    if server.requests:  # whatever was sent is what the collector accepts
        assert len(server.requests[0]["body"]) <= client.MAX_BODY_BYTES
        jsonschema.validate(json.loads(server.requests[0]["body"]), SCHEMA)


def test_a_failure_without_a_name_is_kept_not_dropped(stub, tmp_path) -> None:
    server = stub()
    failed = [{"name": "", "error_description": "boom"}, {"version": "1"}]
    submit(server.url, "the-key", [{"name": ""}], failed, quiet=True, id_file=tmp_path / "id")
    body = json.loads(server.requests[0]["body"])
    assert [entry["name"] for entry in body["failed_installs"]] == [client.UNNAMED] * 2
    assert body["failed_installs"][0]["error_description"] == "boom"
    assert body["successful_installs"] == []


def test_prints_one_line_unless_quiet(stub, tmp_path, capsys) -> None:
    server = stub(accepted(), accepted())
    send(server.url, tmp_path)
    assert capsys.readouterr().err.count("\n") == 1
    send(server.url, tmp_path, quiet=True)
    assert capsys.readouterr().err == ""


# --- system information -------------------------------------------------------------------------


def test_reads_the_distribution_from_os_release(tmp_path, monkeypatch) -> None:
    release = tmp_path / "os-release"
    release.write_text('NAME="Fedora Linux"\nVERSION_ID=41\n# comment\nPRETTY_NAME="Fedora 41"\n')
    monkeypatch.setattr(client, "OS_RELEASE_FILES", (str(tmp_path / "missing"), str(release)))
    monkeypatch.setattr(client.platform, "system", lambda: "Linux")
    info = client.system_info()
    assert (info["distribution_name"], info["distribution_version"]) == ("Fedora Linux", "41")
    release.write_text("NAME='Arch Linux'\nBUILD_ID=rolling\n")
    assert client.system_info()["distribution_version"] == "rolling"


def test_windows_11_is_named_although_older_pythons_say_10(monkeypatch) -> None:
    monkeypatch.setattr(client.platform, "system", lambda: "Windows")
    monkeypatch.setattr(client.platform, "win32_ver", lambda: ("10", "10.0.22631", "SP0", ""))
    info = client.system_info()
    assert (info["distribution_name"], info["distribution_version"]) == ("Windows", "11")


# --- the module itself ---------------------------------------------------------------------------


def test_imports_only_the_standard_library() -> None:
    tree = ast.parse(CLIENT_FILE.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a vendored single file cannot use relative imports"
            modules.add((node.module or "").split(".")[0])
    assert modules - {"__future__"} <= sys.stdlib_module_names
    assert "collector" not in modules


def test_parses_as_python_3_8() -> None:
    ast.parse(CLIENT_FILE.read_text(encoding="utf-8"), feature_version=(3, 8))


@functools.cache
def find_old_python() -> str | None:
    """A working Python 3.8 or 3.9 (pyenv shims may exist without a usable version behind)."""
    candidates = [shutil.which("python3.8"), shutil.which("python3.9")]
    candidates += sorted(map(str, Path.home().glob(".pyenv/versions/3.[89].*/bin/python")))
    for candidate in filter(None, candidates):
        check = [candidate, "-c", "import sys; assert sys.version_info[:2] in ((3, 8), (3, 9))"]
        if subprocess.run(check, capture_output=True, timeout=30).returncode == 0:
            return candidate
    return None


@pytest.mark.skipif(find_old_python() is None, reason="no Python 3.8/3.9 interpreter here")
def test_a_vendored_copy_runs_on_old_python(tmp_path, collector) -> None:
    vendored = tmp_path / "client.py"
    shutil.copy(CLIENT_FILE, vendored)
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"successful_installs": [GIT], "failed_installs": [MAKE]}))
    run = subprocess.run(
        [find_old_python(), str(vendored), "--url", collector.url, "--key", collector.key,
         "--id-file", str(tmp_path / "id"), str(results)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "new id generated" in run.stderr
    assert len(collector.submission_files()) == 1


# --- against the real collector ------------------------------------------------------------------


def stored(collector) -> list[dict[str, Any]]:
    return list(read_records(collector.submissions_dir).values())


def test_the_issued_id_is_kept_and_sent_on_the_next_run(collector, tmp_path) -> None:
    id_file = tmp_path / "ids" / "user-id"
    first = submit(collector.url, collector.key, [GIT], [MAKE], id_file=id_file, quiet=True)
    assert first.ok and "new id generated" in first.message
    assert id_file.read_text().strip() == first.user_id
    second = submit(
        collector.url, collector.key, [GIT, {**MAKE, "version": "4.3"}], [], id_file=id_file
    )
    assert second.ok and "pushed data with same id" in second.message
    assert second.user_id == first.user_id
    records = stored(collector)
    assert len(records) == 2
    assert {record["user_id"] for record in records} == {first.user_id}
    assert {record["submission_id"] for record in records} == {
        first.submission_id,
        second.submission_id,
    }


def test_a_corrupted_id_file_gets_a_new_id(collector, tmp_path) -> None:
    id_file = tmp_path / "user-id"
    first = submit(collector.url, collector.key, [GIT], [], id_file=id_file, quiet=True)
    id_file.write_text(first.user_id[:-3] + "xyz")  # edited by hand
    second = submit(collector.url, collector.key, [GIT], [], id_file=id_file, quiet=True)
    assert second.ok and "new id generated" in second.message
    assert second.user_id != first.user_id
    assert id_file.read_text().strip() == second.user_id


def test_a_wrong_key_is_a_clear_refusal(collector, tmp_path) -> None:
    result = submit(collector.url, "wrong-key", [GIT], [], id_file=tmp_path / "id", quiet=True)
    assert not result.ok and not result.retryable and result.status == 403
    assert "key" in result.message
    assert stored(collector) == []


def test_long_error_texts_are_shortened_to_fit_the_body_limit(collector, tmp_path) -> None:
    tracebacks = [
        {"name": f"Package {n}", "version": None, "error_description": "Traceback ...\n" * 1500}
        for n in range(25)
    ]  # 25 x 21,000 characters: twice what the collector takes in one body
    result = submit(collector.url, collector.key, [GIT], tracebacks, id_file=tmp_path / "id")
    assert result.ok, result.message
    [record] = stored(collector)
    assert len(record["failed_installs"]) == 25
    assert all(
        entry["error_description"].startswith("Traceback") for entry in record["failed_installs"]
    )


def run_cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None):
    """The client's command line, with nothing of this environment but a plain PATH."""
    return run_python("-m", "collector.client", *args, env={"PATH": "/usr/bin:/bin", **(env or {})},
                      stdin=stdin, timeout=60)  # fmt: skip


def test_cli_end_to_end_with_the_key_from_the_environment(collector, tmp_path) -> None:
    results = tmp_path / "results.json"
    info = {"python_version": "3.12.4", "system": "Windows"}
    results.write_text(json.dumps({"successful_installs": [GIT], "failed_installs": [MAKE],
                                   "user_system_info": info}))  # fmt: skip
    id_file = str(tmp_path / "id")
    env = {client.KEY_ENV: collector.key}
    first = run_cli(
        "--url", collector.url, "--id-file", id_file, "--workshop", "w1", str(results), env=env
    )
    assert first.returncode == 0, first.stderr
    second = run_cli(
        "--url", collector.url, "--id-file", id_file, "-", env=env, stdin=results.read_text()
    )
    assert second.returncode == 0, second.stderr
    assert "pushed data with same id" in second.stderr
    records = sorted(stored(collector), key=lambda record: record["received_at"])
    assert [r["user_system_info"]["workshop_id"] for r in records] == ["w1", None]
    assert records[0]["user_system_info"]["system"] == "Windows"
    assert records[0]["failed_installs"] == [MAKE]


def test_cli_exit_codes(collector, tmp_path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"successful_installs": [GIT]}))
    common = ["--id-file", str(tmp_path / "id"), str(results)]
    refused = run_cli("--url", collector.url, "--key", "wrong", *common)
    assert refused.returncode == 3 and "refused" in refused.stderr
    down = run_cli("--url", f"http://127.0.0.1:{unused_port()}", "--budget", "1", *common)
    assert down.returncode == 1 and down.stderr.count("\n") == 1
    (tmp_path / "bad.json").write_text("[1, 2")
    bad = run_cli("--url", collector.url, str(tmp_path / "bad.json"))
    assert bad.returncode == 2 and "not valid JSON" in bad.stderr and "Traceback" not in bad.stderr
    wrong_url = run_cli("--url", "localhost:8080", *common)
    assert wrong_url.returncode == 2
    dry = run_cli("--url", collector.url, "--dry-run", "--email", "me@example.org", *common)
    assert (
        dry.returncode == 0
        and json.loads(dry.stdout)["user_system_info"]["email_id"] == "me@example.org"
    )
    assert stored(collector) == []
