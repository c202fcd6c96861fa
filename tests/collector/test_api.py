"""The wire protocol (docs/protocol.md) over real HTTP against a real collector process.

One collector serves the whole module (starting one per test would cost more than the
tests); tests that need their own configuration use ``start_collector``.
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from collector.ids import UserIds
from collector.openapi import SUBMISSION_PATHS
from collector.validation import submission_schema
from support.collector_process import RunningCollector, running_collector
from support.web import get_json, post_json, request

SUBMIT = "/api/v1/submissions"
OLD_PATH = "/installation_data/"
USER_ID = re.compile(r"[0-9a-f]{32}\.[A-Za-z0-9_-]{22}")
SUBMISSION_ID = re.compile(r"\d{8}T\d{12}Z-[0-9a-f]{16}")

# What the existing installer scripts send, byte for byte in meaning: a null version, an
# unknown one, null workshop and email, and a null id on the first run.
OLD_SCRIPT_BODY = {
    "user_system_info": {
        "distribution_name": "Ubuntu",
        "distribution_version": "22.04",
        "system": "Linux",
        "system_version": "#91-Ubuntu SMP Mon Nov 20 10:00:00 UTC 2023",
        "machine": "x86_64",
        "system_platform": "Linux-5.15.0-91-generic-x86_64-with-glibc2.35",
        "python_version": "3.11.6",
        "workshop_id": None,
        "email_id": None,
    },
    "successful_installs": [
        {"name": "Git (git)", "version": "2.39.2"},
        {"name": "Python (python)", "version": None},
    ],
    "failed_installs": [
        {
            "name": "make",
            "version": "unknown",
            "error_description": "could not find 'make' executable for make",
        }
    ],
    "unique_user_id": None,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCollector]:
    with running_collector(tmp_path_factory.mktemp("api")) as running:
        yield running


def submit(server: RunningCollector, body, path: str = SUBMIT, **kwargs):
    kwargs.setdefault("key", server.key)
    return post_json(server.url + path, body, **kwargs)


def stored(server: RunningCollector, submission_id: str) -> dict:
    (path,) = server.submissions_dir.glob(f"*/{submission_id}.json")
    return json.loads(path.read_text(encoding="utf-8"))


def assert_error(status: int, headers, body, expected_status: int) -> list[dict]:
    """The error shape of docs/protocol.md; returns ``details``."""
    assert status == expected_status, body
    assert headers["Content-Type"].startswith("application/json")
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"status", "message", "details"}
    assert error["status"] == expected_status
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], list)
    assert "Traceback" not in json.dumps(body)
    return error["details"]


# --- accepted submissions ---------------------------------------------------------------


@pytest.mark.parametrize("path", SUBMISSION_PATHS)
def test_old_installer_payload_is_stored_on_every_submission_path(server, path):
    status, headers, body = submit(server, OLD_SCRIPT_BODY, path=path)

    assert status == 200, body
    assert headers["Content-Type"].startswith("application/json")
    assert set(body) == {"key", "submission_id", "summary"}
    assert body["summary"] == {"status": "Successful", "message": "new id generated"}
    assert USER_ID.fullmatch(body["key"])
    assert SUBMISSION_ID.fullmatch(body["submission_id"])
    record = stored(server, body["submission_id"])
    assert record == {
        "schema_version": 1,
        "submission_id": body["submission_id"],
        "received_at": record["received_at"],
        "user_id": body["key"],
        "key_name": "test",
        "user_system_info": OLD_SCRIPT_BODY["user_system_info"],
        "successful_installs": OLD_SCRIPT_BODY["successful_installs"],
        "failed_installs": OLD_SCRIPT_BODY["failed_installs"],
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", record["received_at"])
    file = next(server.submissions_dir.glob(f"*/{body['submission_id']}.json"))
    assert file.parent.name == record["received_at"][:10]


def test_absent_lists_and_system_info_are_stored_empty(server):
    status, _, body = submit(server, {})
    assert status == 200, body
    record = stored(server, body["submission_id"])
    assert record["user_system_info"] == {}
    assert record["successful_installs"] == []
    assert record["failed_installs"] == []


def test_empty_system_info_and_lists_are_accepted(server):
    body = {"user_system_info": {}, "successful_installs": [], "failed_installs": []}
    status, _, answer = submit(server, body)
    assert status == 200, answer


def test_unknown_system_info_fields_are_kept(server):
    body = {"user_system_info": {"shell": "/bin/zsh", "locale": None}}
    status, _, answer = submit(server, body)
    assert status == 200, answer
    assert stored(server, answer["submission_id"])["user_system_info"] == body["user_system_info"]


def test_stored_record_holds_neither_key_secret_nor_ip(server):
    status, _, body = submit(server, OLD_SCRIPT_BODY)
    assert status == 200
    (file,) = server.submissions_dir.glob(f"*/{body['submission_id']}.json")
    text = file.read_text(encoding="utf-8")
    assert server.key not in text
    assert "127.0.0.1" not in text


def test_issued_id_is_kept_on_the_next_submission(server):
    _, _, first = submit(server, OLD_SCRIPT_BODY)
    again = dict(OLD_SCRIPT_BODY, unique_user_id=first["key"])

    status, _, second = submit(server, again, path=OLD_PATH)

    assert status == 200
    assert second["key"] == first["key"]
    assert second["summary"]["message"] == "pushed data with same id"
    assert second["submission_id"] != first["submission_id"]
    assert stored(server, second["submission_id"])["user_id"] == first["key"]


def _tampered_ids(valid: str) -> dict[str, str]:
    random_part, signature = valid.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return {
        "forged signature": f"{random_part}.{flipped}",
        "truncated": valid[:-1],
        "signature of another random part": f"{'a' * 32}.{signature}",
        "typed by hand": "my-laptop",
        "legacy uuid": "3f2b8e0e-4c1d-4c52-9a55-0e0c6f9b7d11",
        "other server's": UserIds(b"some other server's secret!!").issue(),
        "empty": "",
    }


@pytest.mark.parametrize(
    "case", list(_tampered_ids("A" * 22 + "." + "B" * 22)), ids=lambda case: case
)
def test_id_not_issued_here_gets_a_new_one(server, case):
    _, _, first = submit(server, {})
    claimed = _tampered_ids(first["key"])[case]

    status, _, body = submit(server, {"unique_user_id": claimed})

    assert status == 200, body
    assert body["summary"]["message"] == "new id generated"
    assert body["key"] != claimed and body["key"] != first["key"]
    assert USER_ID.fullmatch(body["key"])
    assert stored(server, body["submission_id"])["user_id"] == body["key"]


def test_key_accepted_as_x_submission_key_header(server):
    headers = {"X-Submission-Key": server.key}
    status, _, body = submit(server, {}, key=None, headers=headers)
    assert status == 200, body


def test_non_ascii_key_is_compared_as_utf_8(start_collector):
    running = start_collector(keys={"unicode": "clé-secrète-ünïcode"})
    headers = {"Authorization": "Bearer clé-secrète-ünïcode".encode().decode("latin-1")}
    status, _, body = post_json(running.url + SUBMIT, {}, headers=headers)
    assert status == 200, body
    (file,) = running.submission_files()
    assert json.loads(file.read_text())["key_name"] == "unicode"


def test_json_content_type_with_charset_is_accepted(server):
    headers = {"Content-Type": "application/json; charset=utf-8"}
    status, _, body = submit(server, {}, headers=headers)
    assert status == 200, body


def test_chunked_body_within_limit_is_accepted(server):
    status, body = _chunked_post(server, json.dumps(OLD_SCRIPT_BODY).encode())
    assert status == 200, body


# --- bounds (docs/protocol.md) ------------------------------------------------------------


def _entry(**fields):
    return {"name": "git", "version": "1", **fields}


BOUNDS = {
    # case: (body at the limit, body just over it, pointer of the problem)
    "name length": (
        {"successful_installs": [_entry(name="n" * 200)]},
        {"successful_installs": [_entry(name="n" * 201)]},
        "/successful_installs/0/name",
    ),
    "version length": (
        {"failed_installs": [_entry(version="v" * 200)]},
        {"failed_installs": [_entry(version="v" * 201)]},
        "/failed_installs/0/version",
    ),
    "system info value length": (
        {"user_system_info": {"system": "s" * 500}},
        {"user_system_info": {"system": "s" * 501}},
        "/user_system_info/system",
    ),
    "extra system info value length": (
        {"user_system_info": {"shell": "s" * 500}},
        {"user_system_info": {"shell": "s" * 501}},
        "/user_system_info/shell",
    ),
    "error description length": (
        {"failed_installs": [_entry(error_description="e" * 10000)]},
        {"failed_installs": [_entry(error_description="e" * 10001)]},
        "/failed_installs/0/error_description",
    ),
    "unique_user_id length": (
        {"unique_user_id": "u" * 200},
        {"unique_user_id": "u" * 201},
        "/unique_user_id",
    ),
    "successful entries": (
        {"successful_installs": [{"name": "p"}] * 1000},
        {"successful_installs": [{"name": "p"}] * 1001},
        "/successful_installs",
    ),
    "failed entries": (
        {"failed_installs": [{"name": "p"}] * 1000},
        {"failed_installs": [{"name": "p"}] * 1001},
        "/failed_installs",
    ),
    "name not empty": (
        {"successful_installs": [_entry(name="n")]},
        {"successful_installs": [_entry(name="")]},
        "/successful_installs/0/name",
    ),
}


@pytest.mark.parametrize("case", list(BOUNDS))
def test_bounds_accept_the_limit_and_reject_one_more(server, case):
    at_limit, over_limit, pointer = BOUNDS[case]

    status, _, body = submit(server, at_limit)
    assert status == 200, body

    status, headers, body = submit(server, over_limit)
    details = assert_error(status, headers, body, 400)
    assert [detail["path"] for detail in details] == [pointer]


def test_nulls_are_accepted_where_the_contract_allows_them(server):
    body = {
        "user_system_info": {"workshop_id": None, "email_id": None},
        "successful_installs": [{"name": "git", "version": None}],
        "failed_installs": [{"name": "make", "version": None, "error_description": None}],
        "unique_user_id": None,
    }
    status, _, answer = submit(server, body)
    assert status == 200, answer


# --- errors ----------------------------------------------------------------------------


def test_every_problem_is_listed_with_its_pointer(server):
    body = {
        "user_system_info": {"email_id": 42},
        "successful_installs": [{"version": "1"}, {"name": "ok"}],
        "failed_installs": [{"name": "x" * 201, "error_description": 7}],
        "unique_user_id": ["not", "a", "string"],
        "typo_field": True,
    }
    status, headers, answer = submit(server, body)

    details = assert_error(status, headers, answer, 400)
    assert {(detail["path"], detail["message"]) for detail in details} >= {
        ("/user_system_info/email_id", "expected string or null, got number"),
        ("/successful_installs/0", "missing required field 'name'"),
        ("/failed_installs/0/name", "longer than 200 characters"),
        ("/failed_installs/0/error_description", "expected string or null, got number"),
        ("/unique_user_id", "expected string or null, got array"),
        ("", "unexpected field 'typo_field'"),
    }
    assert len(details) == 6


def test_no_key_is_401(server):
    status, headers, body = submit(server, OLD_SCRIPT_BODY, key=None)
    assert_error(status, headers, body, 401)


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer wrong-key-12345"},
        {"X-Submission-Key": "wrong-key-12345"},
        {"Authorization": "Bearer test-"},
    ],
    ids=["bearer", "x-submission-key", "prefix of the right key"],
)
def test_wrong_key_is_403(server, headers):
    status, response_headers, body = submit(server, OLD_SCRIPT_BODY, key=None, headers=headers)
    assert_error(status, response_headers, body, 403)


def test_wrong_key_is_403_even_with_a_bad_body(server):
    status, headers, body = submit(server, b"not json", key="wrong-key-12345")
    assert_error(status, headers, body, 403)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_body_that_is_not_declared_json_is_415(server, content_type):
    headers = {"Content-Type": content_type}
    status, response_headers, body = submit(server, OLD_SCRIPT_BODY, headers=headers)
    assert_error(status, response_headers, body, 415)


def test_oversized_body_with_content_length_is_413(server):
    body = b'{"failed_installs": [' + b" " * 262_144 + b"]}"
    status, headers, answer = submit(server, body)
    assert_error(status, headers, answer, 413)


def test_body_over_the_http_servers_own_limit_is_json_413(server):
    # Declared far beyond anything the app would read: waitress refuses it before the app.
    status, headers, answer = submit(server, b"{}", headers={"Content-Length": "99999999"})
    assert_error(status, headers, answer, 413)


def test_oversized_chunked_body_is_413(server):
    body = b'{"failed_installs": [' + b" " * 262_144 + b"]}"
    status, answer = _chunked_post(server, body)
    assert status == 413
    assert answer["error"]["status"] == 413


def test_body_of_exactly_max_bytes_is_accepted(server):
    prefix, suffix = b'{"user_system_info": {}', b"}"
    body = prefix + b" " * (262_144 - len(prefix) - len(suffix)) + suffix
    assert len(body) == 262_144
    status, _, answer = submit(server, body)
    assert status == 200, answer


@pytest.mark.parametrize(
    "raw",
    [
        b'{"unique_user_id": "\xff\xfe"}',  # invalid UTF-8
        b'{"unique_user_id": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8
        b'{"unique_user_id": "\\ud800"}',  # a lone surrogate escape
        b'{"user_system_info": {"x": NaN}}',
        b'{"user_system_info": {"x": Infinity}}',
        b'{"user_system_info": {"x": -Infinity}}',
        b"{'single': 'quotes'}",
        b'{"trailing": "comma",}',
        b"",
        b"[" * 5000 + b"]" * 5000,
        b"\xef\xbb\xbf{}",  # byte order mark
    ],
    ids=[
        "invalid utf-8",
        "utf-8 surrogate",
        "lone surrogate escape",
        "NaN",
        "Infinity",
        "-Infinity",
        "single quotes",
        "trailing comma",
        "empty",
        "deeply nested",
        "bom",
    ],
)
def test_body_that_is_not_strict_json_is_400(server, raw):
    status, headers, body = submit(server, raw)
    details = assert_error(status, headers, body, 400)
    assert details and details[0]["path"] == ""


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"42", b"null", b"true"])
def test_top_level_that_is_not_an_object_is_400(server, raw):
    status, headers, body = submit(server, raw)
    details = assert_error(status, headers, body, 400)
    assert details[0]["message"].startswith("expected an object")


def test_duplicate_keys_are_accepted(server):
    status, _, body = submit(server, b'{"unique_user_id": null, "unique_user_id": null}')
    assert status == 200, body


def test_unknown_path_is_json_404(server):
    status, headers, body = get_json(server.url + "/nothing/here")
    assert_error(status, headers, body, 404)
    status, headers, body = submit(server, {}, path="/api/v2/submissions")
    assert_error(status, headers, body, 404)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize("path", ["/installation_data/", "/installation_data", SUBMIT])
def test_wrong_method_is_json_405_with_rate_limit_headers(server, method, path):
    status, headers, body = request(method, server.url + path)
    assert_error(status, headers, body, 405)
    assert headers["Allow"] == "POST"
    # docs/protocol.md: every response of a submission endpoint carries the rate-limit headers.
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert headers[name].isdigit(), name


def test_post_to_a_read_only_endpoint_is_json_405(server):
    status, headers, body = submit(server, {}, path="/healthz")
    assert_error(status, headers, body, 405)


@pytest.mark.parametrize(
    ("body", "kwargs", "expected"),
    [
        ({}, {}, 200),
        ({}, {"key": None}, 401),
        ({}, {"key": "wrong-key-12345"}, 403),
        ({}, {"headers": {"Content-Type": "text/plain"}}, 415),
        (b"[", {}, 400),
        (b" " * 300_000, {}, 413),
    ],
)
def test_every_submission_response_carries_rate_limit_headers(server, body, kwargs, expected):
    status, headers, _ = submit(server, body, **kwargs)
    assert status == expected
    limit = int(headers["X-RateLimit-Limit"])
    remaining = int(headers["X-RateLimit-Remaining"])
    assert limit == 100_000
    assert 0 <= remaining < limit
    assert int(headers["X-RateLimit-Reset"]) > 1_700_000_000


# --- read-only endpoints ---------------------------------------------------------------


def test_healthz_is_ok_when_the_folder_is_writable(server):
    status, headers, body = get_json(server.url + "/healthz")
    assert (status, body) == (200, {"status": "ok"})
    assert headers["Content-Type"].startswith("application/json")


def test_root_says_what_the_service_is_and_where_things_are(start_collector):
    running = start_collector(report_url="https://example.org/installation-report/")
    status, _, body = get_json(running.url + "/")
    assert status == 200
    assert body["report_url"] == "https://example.org/installation-report/"
    assert body["schema"] == "/schema.json"
    assert body["openapi"] == "/openapi.json"
    assert set(body["submit"]["paths"]) == set(SUBMISSION_PATHS)


def test_schema_json_is_the_schema_the_server_validates_with(server):
    status, _, body = get_json(server.url + "/schema.json")
    assert status == 200
    assert body == submission_schema()
    assert body["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_openapi_describes_every_submission_path_with_the_same_schema(server):
    status, _, document = get_json(server.url + "/openapi.json")
    assert status == 200
    assert document["openapi"].startswith("3.1")
    schemas = document["components"]["schemas"]
    for path in SUBMISSION_PATHS:
        operation = document["paths"][path]["post"]
        content = operation["requestBody"]["content"]["application/json"]
        assert content["schema"] == {"$ref": "#/components/schemas/Submission"}
        assert {"200", "400", "401", "403", "413", "415", "429", "503"} <= set(
            operation["responses"]
        )
    source = submission_schema()
    assert set(schemas["Submission"]["properties"]) == set(source["properties"])
    assert set(source["$defs"]) <= set(schemas)
    assert "#/$defs/" not in json.dumps(document)


# --- helpers ----------------------------------------------------------------------------


def _chunked_post(server: RunningCollector, body: bytes, chunk_size: int = 16_384):
    """POST with Transfer-Encoding: chunked (no Content-Length); return (status, JSON body)."""
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.putrequest("POST", SUBMIT)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Authorization", f"Bearer {server.key}")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        for start_at in range(0, len(body), chunk_size):
            chunk = body[start_at : start_at + chunk_size]
            connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        connection.send(b"0\r\n\r\n")
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()
