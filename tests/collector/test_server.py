"""The collector as a process: start-up and refusals, logs, restarts, graceful shutdown."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from support.collector_process import collector_env, serve_command, write_config
from support.files import payload
from support.web import get_json, post_json

SUBMIT = "/api/v1/submissions"
EMAIL = "learner.private@example.org"


def run_to_exit(config_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``collector serve`` expecting it to refuse to start."""
    return subprocess.run(
        [*serve_command(config_path), *args],
        env=collector_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_fixture_starts_a_healthy_collector_that_accepts_a_submission(collector):
    status, _, body = get_json(collector.url + "/healthz")
    assert (status, body) == (200, {"status": "ok"})
    status, _, body = post_json(collector.url + SUBMIT, {}, key=collector.key)
    assert status == 200, body
    assert len(collector.submission_files()) == 1
    assert "collector listening on http://127.0.0.1:" in collector.logs()


def test_refuses_to_start_without_keys(tmp_path):
    config_path, _ = write_config(tmp_path, {"keys": {}})
    result = run_to_exit(config_path)
    assert_one_line_error(result, "no submission keys configured", "allow_anonymous")
    assert "Traceback" not in result.stderr + result.stdout


def test_allow_anonymous_accepts_keyless_submissions_but_not_wrong_keys(start_collector):
    running = start_collector(keys={}, allow_anonymous=True)

    status, _, body = post_json(running.url + SUBMIT, {})
    assert status == 200, body
    (file,) = running.submission_files()
    assert json.loads(file.read_text())["key_name"] == "anonymous"

    status, _, body = post_json(running.url + SUBMIT, {}, key="some-wrong-key")
    assert status == 403
    assert body["error"]["status"] == 403


def test_port_in_use_is_a_one_line_error(collector, tmp_path):
    port = str(urlsplit(collector.url).port)
    config_path, _ = write_config(tmp_path)
    result = run_to_exit(config_path, "--port", port)
    assert_one_line_error(result, f"cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in result.stderr


def test_unknown_host_is_a_one_line_error(tmp_path):
    config_path, _ = write_config(tmp_path)
    result = run_to_exit(config_path, "--host", "nosuchhost.invalid")
    assert_one_line_error(result, "cannot listen on nosuchhost.invalid:0: unknown host")


def test_command_line_host_and_port_override_the_config(start_collector):
    with socket.socket() as taken:  # the configured port is busy, so only --port can work
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        taken_port = taken.getsockname()[1]
        running = start_collector(
            host="192.0.2.1", port=taken_port, args=["--host", "127.0.0.1", "--port", "0"]
        )
        address = urlsplit(running.url)
        assert address.hostname == "127.0.0.1"
        assert address.port not in (0, taken_port)
        status, _, _ = get_json(running.url + "/healthz")
        assert status == 200


def test_logs_have_one_access_line_per_request_and_no_secrets(start_collector):
    running = start_collector()
    body = payload(email_id=EMAIL)
    post_json(running.url + SUBMIT, body, key=running.key)
    post_json(running.url + SUBMIT, body, key=None, headers={"X-Submission-Key": running.key})
    post_json(running.url + SUBMIT, body, key="wrong-secret-to-hide")
    post_json(running.url + SUBMIT, b"not json " + EMAIL.encode(), key=running.key)
    get_json(running.url + "/healthz?token=query-secret")
    assert running.stop() == 0

    logs = running.logs()
    for secret in (running.key, "wrong-secret-to-hide", EMAIL, "query-secret"):
        assert secret not in logs
    assert logs.count(f"127.0.0.1 POST {SUBMIT} 200 ") == 2
    assert f"127.0.0.1 POST {SUBMIT} 403 " in logs
    assert f"127.0.0.1 POST {SUBMIT} 400 " in logs
    assert "127.0.0.1 GET /healthz 200 " in logs


def test_an_example_secret_left_in_the_config_is_warned_about(start_collector):
    running = start_collector(keys={"test": "a-real-secret-123", "demo": "demo-key-change-me"})
    assert running.stop() == 0
    logs = running.logs()
    assert "submission key 'demo' still has its example secret" in logs
    assert "'test' still has" not in logs
    assert "demo-key-change-me" not in logs


@pytest.mark.parametrize(
    ("trusted_proxies", "logged_client"),
    [(["127.0.0.1"], "203.0.113.9"), ([], "127.0.0.1")],
    ids=["trusted proxy", "untrusted peer"],
)
def test_forwarded_for_is_believed_only_from_trusted_proxies(
    start_collector, trusted_proxies, logged_client
):
    running = start_collector(trusted_proxies=trusted_proxies)
    headers = {"X-Forwarded-For": "203.0.113.9"}
    status, _, _ = post_json(running.url + SUBMIT, {}, key=running.key, headers=headers)
    assert status == 200
    assert running.stop() == 0
    assert f"collector.access: {logged_client} POST {SUBMIT} 200 " in running.logs()


def test_access_log_escapes_control_characters_in_paths(collector):
    address = urlsplit(collector.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    connection.request("GET", "/evil%0Afake-line%1B[31m")
    assert connection.getresponse().status == 404
    connection.close()
    assert collector.stop() == 0
    assert "\nfake-line" not in collector.logs()
    assert "\x1b" not in collector.logs()
    assert "GET /evil%0Afake-line%1B%5B31m 404" in collector.logs()


def test_restart_keeps_issued_ids_valid(start_collector):
    first = start_collector()
    _, _, answer = post_json(first.url + SUBMIT, {}, key=first.key)
    assert first.stop() == 0
    secret_file = first.workdir / "id-secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600

    again = start_collector(workdir=first.workdir)
    claim = {"unique_user_id": answer["key"]}
    status, _, body = post_json(again.url + SUBMIT, claim, key=again.key)

    assert status == 200
    assert body["key"] == answer["key"]
    assert body["summary"]["message"] == "pushed data with same id"


def test_id_secret_from_the_environment_is_shared_by_servers(start_collector):
    env = {"COLLECTOR_ID_SECRET": "a-shared-secret-for-two-servers"}
    one = start_collector(env=env)
    other = start_collector(env=env)
    _, _, answer = post_json(one.url + SUBMIT, {}, key=one.key)

    _, _, body = post_json(other.url + SUBMIT, {"unique_user_id": answer["key"]}, key=other.key)

    assert body["summary"]["message"] == "pushed data with same id"
    assert not (one.workdir / "id-secret").exists()


def test_ids_from_a_server_with_another_secret_are_replaced(start_collector):
    one = start_collector()
    other = start_collector()
    _, _, answer = post_json(one.url + SUBMIT, {}, key=one.key)

    _, _, body = post_json(other.url + SUBMIT, {"unique_user_id": answer["key"]}, key=other.key)

    assert body["summary"]["message"] == "new id generated"
    assert body["key"] != answer["key"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_signal_finishes_the_request_in_flight_then_exits_0(collector, signum):
    body = json.dumps(payload()).encode()
    address = urlsplit(collector.url)
    head = (
        f"POST {SUBMIT} HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Content-Type: application/json\r\nAuthorization: Bearer {collector.key}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.sendall(head + body[:10])
        time.sleep(1)  # let the server read the first half; ordering only, nothing is timed
        collector.process.send_signal(signum)
        _wait_until_refused(address.hostname, address.port)  # the signal has been handled

        connection.sendall(body[10:])
        response = http.client.HTTPResponse(connection)
        response.begin()
        answer = json.loads(response.read())

    assert response.status == 200, answer
    assert collector.process.wait(timeout=30) == 0
    (file,) = collector.submission_files()
    assert json.loads(file.read_text())["submission_id"] == answer["submission_id"]
    assert "stopped" in collector.logs()


def test_second_stop_signal_does_not_wait_for_a_stalled_request(collector):
    address = urlsplit(collector.url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.sendall(f"POST {SUBMIT} HTTP/1.1\r\nContent-Length: 100\r\n\r\n{{".encode())
        time.sleep(1)  # let the server read the start; ordering only, nothing is timed
        collector.process.send_signal(signal.SIGTERM)
        _wait_until_refused(address.hostname, address.port)
        collector.process.send_signal(signal.SIGTERM)
        assert collector.process.wait(timeout=20) == 0  # well before the 30 s drain limit
    assert "stopped with 1 requests unfinished" in collector.logs()


def test_stop_signal_on_an_idle_server_exits_0(collector):
    assert collector.stop() == 0
    assert "Traceback" not in collector.logs()


def _wait_until_refused(host: str, port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=5).close()
        except ConnectionRefusedError:
            return
        except ConnectionResetError:
            pass  # the listener closed while this probe sat in its backlog: ask again
        time.sleep(0.05)
    raise AssertionError("the collector kept accepting connections after the stop signal")


def test_wsgi_entry_point_serves_the_collector_from_collector_config(tmp_path):
    config_path, key = write_config(tmp_path)
    script = (
        "import os, webtest, collector.wsgi\n"
        "app = webtest.TestApp(collector.wsgi.application)\n"
        "headers = {'Authorization': 'Bearer ' + os.environ['TEST_KEY']}\n"
        "answer = app.post_json('/installation_data/', {}, headers=headers)\n"
        "print(answer.status_int, answer.json['summary']['message'])\n"
    )
    env = collector_env({"COLLECTOR_CONFIG": str(config_path), "TEST_KEY": key})
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "200 new id generated", result.stderr
    assert len(list((tmp_path / "submissions").glob("*/*.json"))) == 1


def test_wsgi_entry_point_without_collector_config_says_so(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import collector.wsgi"],
        env=collector_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "error: COLLECTOR_CONFIG is not set: point it at the collector's config.yaml"
    ]
