"""Fine-grained checks of the collector's parts: body parsing and schema, keys, ids, and app
behaviour that needs a stand-in (a failing disk, a crashing store, an endless body), driven
through WebTest or plain WSGI calls against ``create_app``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import stat
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import msgspec
import pytest
import webtest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.app import create_app
from collector.health import PROBE_SECONDS, WatchedStore
from collector.ids import UserIds, load_id_secret, new_submission_id
from collector.keys import ANONYMOUS, KeyRing, MissingKey, WrongKey, presented_key
from collector.schema_types import UnsupportedSchema, checker
from collector.validation import (
    MAX_DETAILS,
    InvalidBody,
    _fast_check,
    _validator,
    parse_body,
    validate_submission,
)
from installdata.config import CollectorConfig
from installdata.errors import UserError
from installdata.record import format_received_at
from installdata.storage import StorageError

KEY = "validation-test-key"


@pytest.fixture
def config(tmp_path: Path) -> CollectorConfig:
    return CollectorConfig(
        submissions_dir=tmp_path / "submissions",
        keys={"test": KEY, "other": "another-test-key"},
        id_secret="a-secret-long-enough-for-tests",
        max_body_bytes=4096,
    )


def client(config: CollectorConfig, **parts) -> webtest.TestApp:
    return webtest.TestApp(create_app(config, **parts))


def post(app: webtest.TestApp, body, **headers):
    headers.setdefault("Authorization", f"Bearer {KEY}")
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return app.post(
        "/api/v1/submissions",
        raw,
        headers=headers,
        content_type=headers.pop("content_type", "application/json"),
        expect_errors=True,
    )


# --- parse_body ---------------------------------------------------------------------------


def test_parse_body_returns_the_object():
    assert parse_body(b'{"a": [1, "\\u00e9"]}') == {"a": [1, "é"]}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xc3\x28", "body is not valid UTF-8"),
        (b'{"a": NaN}', "body is not valid JSON"),
        (b'{"a": "\\udc00"}', "body is not valid JSON"),
        (b"[1, 2]", "body must be a JSON object"),
    ],
)
def test_parse_body_refuses(raw, message):
    with pytest.raises(InvalidBody) as refused:
        parse_body(raw)
    assert refused.value.message == message
    assert refused.value.problems[0].path == ""


# --- validate_submission ----------------------------------------------------------------


def problems_of(body) -> list[tuple[str, str]]:
    with pytest.raises(InvalidBody) as refused:
        validate_submission(body)
    return [(problem.path, problem.message) for problem in refused.value.problems]


def test_valid_submission_passes():
    validate_submission(
        {
            "user_system_info": {"system": "Linux", "email_id": None},
            "successful_installs": [{"name": "git", "version": None}],
            "failed_installs": [{"name": "make", "error_description": "not found"}],
            "unique_user_id": None,
        }
    )


# Bodies near the schema's edges: right and wrong types, lengths around every bound, unknown
# fields, characters outside the BMP (lengths count code points). The fast check (the schema
# as msgspec types) must accept exactly what jsonschema accepts: it alone decides for a body it
# accepts, and a body it refuses wrongly would only be slower.
_text = st.one_of(
    st.none(),
    st.integers(),
    st.booleans(),
    st.sampled_from(["", "x", "x" * 100, "x" * 101, "x" * 200, "x" * 201, "x" * 500, "x" * 501]),
    st.sampled_from(["\U0001f600" * 200, "\U0001f600" * 201, "é" * 500, "é" * 501]),
    st.text(max_size=5),
)
_entry = st.dictionaries(
    st.sampled_from(["name", "version", "error_description", "extra"]), _text, max_size=4
)
_info = st.one_of(
    st.dictionaries(
        st.one_of(st.sampled_from(["system", "email_id", "workshop_id", ""]), st.text(max_size=3)),
        _text,
        max_size=5,
    ),
    st.sampled_from([{f"k{n}": None for n in range(count)} for count in (50, 51)]),
    st.sampled_from([{"x" * 100: "a"}, {"x" * 101: "a"}]),
)
_body = st.fixed_dictionaries(
    {},
    optional={
        "user_system_info": st.one_of(_info, st.none(), st.lists(st.integers(), max_size=1)),
        "successful_installs": st.one_of(st.lists(_entry, max_size=3), st.none()),
        "failed_installs": st.one_of(st.lists(st.one_of(_entry, _text), max_size=3)),
        "unique_user_id": _text,
        "unexpected": _text,
    },
)


@settings(max_examples=500, deadline=None)
@given(_body)
def test_fast_check_accepts_exactly_what_jsonschema_accepts(body):
    reference_ok = _validator().is_valid(body)
    try:
        _fast_check()(body)
        fast_ok = True
    except msgspec.ValidationError:
        fast_ok = False
    assert fast_ok == reference_ok
    try:
        validate_submission(body)
        valid = True
    except InvalidBody as invalid:
        valid = False
        assert invalid.problems
    assert valid == reference_ok


def test_fast_check_holds_a_thousand_entries_but_not_more():
    entries = [{"name": "git", "version": None}] * 1000
    _fast_check()({"successful_installs": entries})
    with pytest.raises(msgspec.ValidationError):
        _fast_check()({"successful_installs": [*entries, {"name": "git"}]})


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "format": "email"},  # a keyword it does not translate
        {"type": "integer"},  # a type it does not translate
        {"properties": {}},  # no type
        {"type": "array"},  # no items
        {  # listed fields unlike the others
            "type": "object",
            "properties": {"a": {"type": "string"}},
            "additionalProperties": {"type": "null"},
        },
        {"type": "object", "required": ["a"], "additionalProperties": False},
    ],
)
def test_schema_types_refuse_what_they_cannot_translate_exactly(schema):
    """A new rule in the schema must fail loudly here, never be skipped by the fast check."""
    with pytest.raises(UnsupportedSchema):
        checker({"type": "object", "properties": {"x": schema}, "additionalProperties": False})


def test_pointers_escape_slash_and_tilde_in_field_names():
    assert problems_of({"user_system_info": {"a/b~c": 1}}) == [
        ("/user_system_info/a~1b~0c", "expected string or null, got number")
    ]


def test_messages_never_repeat_long_values():
    ((_, message),) = problems_of(
        {"failed_installs": [{"name": "x", "error_description": "y" * 20000}]}
    )
    assert message == "longer than 10000 characters"


def test_system_info_fields_are_bounded_in_number_and_name_length():
    too_many = {f"field{i}": "v" for i in range(51)}
    assert problems_of({"user_system_info": too_many}) == [
        ("/user_system_info", "more than 50 fields")
    ]
    ((path, message),) = problems_of({"user_system_info": {"n" * 101: "v"}})
    assert path == "/user_system_info"
    assert "is not 1 to 100 characters long" in message


def test_wrong_types_everywhere_are_all_reported():
    problems = problems_of(
        {
            "user_system_info": [],
            "successful_installs": {},
            "failed_installs": [3],
            "unique_user_id": 5,
        }
    )
    assert problems == [
        ("/failed_installs/0", "expected object, got number"),
        ("/successful_installs", "expected array, got object"),
        ("/unique_user_id", "expected string or null, got number"),
        ("/user_system_info", "expected object, got array"),
    ]


def test_problem_list_is_capped_with_a_count_of_the_rest():
    body = {"user_system_info": {f"f{i}": i for i in range(40)}}
    body["successful_installs"] = [{"name": i} for i in range(1000)]
    body["failed_installs"] = [{"name": i} for i in range(1000)]
    problems = problems_of(body)
    assert len(problems) == MAX_DETAILS + 1
    assert problems[-1] == ("", f"{2040 - MAX_DETAILS} more problems not listed")


# --- keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "x_key", "expected"),
    [
        ("Bearer abc", None, "abc"),
        ("bearer   abc  ", None, "abc"),
        (None, "xyz", "xyz"),
        ("Bearer abc", "xyz", "abc"),
        ("Basic dXNlcjpwYXNz", None, None),
        ("Bearer ", None, None),
        (None, "  ", None),
        (None, None, None),
    ],
)
def test_presented_key(authorization, x_key, expected):
    assert presented_key(authorization, x_key) == expected


def test_key_ring_names_the_matching_key_and_refuses_others():
    ring = KeyRing({"alpha": "alpha-secret", "beta": "beta-secret"}, allow_anonymous=False)
    assert ring.identify("alpha-secret") == "alpha"
    assert ring.identify("beta-secret") == "beta"
    with pytest.raises(WrongKey):
        ring.identify("alpha-secret ")
    with pytest.raises(MissingKey):
        ring.identify(None)


def test_key_ring_without_keys_needs_allow_anonymous():
    with pytest.raises(UserError, match="no submission keys configured"):
        KeyRing({}, allow_anonymous=False)
    ring = KeyRing({}, allow_anonymous=True)
    assert ring.identify(None) == ANONYMOUS
    with pytest.raises(WrongKey):
        ring.identify("anything")


# --- ids --------------------------------------------------------------------------------


def test_user_ids_verify_only_what_this_secret_issued():
    ids = UserIds(b"the first secret, long enough")
    issued = ids.issue()
    assert ids.is_valid(issued)
    assert not UserIds(b"the second secret, long enough").is_valid(issued)
    assert not ids.is_valid(issued.upper())
    assert not ids.is_valid(issued + "A")
    assert not ids.is_valid(None)
    assert not ids.is_valid(12345)
    assert ids.resolve(issued) == (issued, True)
    new, kept = ids.resolve("typed-by-hand")
    assert not kept and ids.is_valid(new) and new != issued


def test_submission_ids_sort_by_time_and_are_safe_file_names():
    early = datetime(2026, 11, 22, 10, 15, 2, 123456, tzinfo=timezone.utc)
    late = datetime(2026, 11, 22, 10, 15, 2, 123457, tzinfo=timezone.utc)
    first, second = new_submission_id(early), new_submission_id(late)
    assert first.startswith("20261122T101502123456Z-")
    assert first < second
    assert all(ch.isalnum() or ch == "-" for ch in first)
    assert format_received_at(early) == "2026-11-22T10:15:02.123456Z"


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
        datetime(2026, 3, 1, 1, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ],
)
def test_ids_and_receive_times_are_the_utc_moment_to_the_microsecond(moment):
    utc = moment.astimezone(timezone.utc)
    assert new_submission_id(moment).startswith(f"{utc:%Y%m%dT%H%M%S%fZ}-")
    assert format_received_at(moment) == f"{utc:%Y-%m-%dT%H:%M:%S.%fZ}"


def test_user_ids_are_signed_as_documented_so_earlier_ids_stay_valid():
    secret = b"a secret of some length"
    random_part, _, signature = UserIds(secret).issue().partition(".")
    mac = hmac.new(secret, b"user-id:" + random_part.encode(), hashlib.sha256).digest()[:16]
    assert signature == base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def test_id_secret_file_is_created_private_and_reused(tmp_path):
    path = tmp_path / "secrets" / "id-secret"
    secret = load_id_secret(None, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_id_secret(None, path) == secret
    assert list(path.parent.iterdir()) == [path]  # no temp file left behind


def test_processes_racing_to_create_the_secret_agree_on_one(tmp_path):
    path = tmp_path / "id-secret"
    results: list[bytes] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        results.append(load_id_secret(None, path))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert set(results) == {path.read_text().strip().encode()}


def test_environment_secret_wins_and_creates_no_file(tmp_path):
    path = tmp_path / "id-secret"
    assert load_id_secret("from-the-environment-123", path) == b"from-the-environment-123"
    assert not path.exists()


def test_short_or_unreadable_secrets_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="shorter than"):
        load_id_secret("short", tmp_path / "unused")
    (tmp_path / "short").write_text("tiny\n")
    with pytest.raises(UserError, match="shorter than"):
        load_id_secret(None, tmp_path / "short")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(UserError, match=r"id secret file .*: Not a directory$"):
        load_id_secret(None, blocker / "id-secret")


# --- the app with stand-in parts ----------------------------------------------------------


class FailingStore:
    def __init__(self, error: Exception, writable: bool = False) -> None:
        self.error = error
        self.writable = writable

    def save(self, record):
        raise self.error

    def is_writable(self, size: int) -> bool:
        return self.writable


def test_storage_failure_is_503_and_the_service_keeps_serving(config):
    app = client(config, store=FailingStore(StorageError("disk full")))
    for _ in range(2):
        response = post(app, {})
        assert response.status_int == 503
        assert response.json["error"]["status"] == 503
        assert "disk full" not in response.text
    assert app.get("/openapi.json").status_int == 200


def test_healthz_is_503_json_when_the_folder_is_not_writable(config):
    app = client(config, store=FailingStore(StorageError("x"), writable=False))
    response = app.get("/healthz", expect_errors=True)
    assert response.status_int == 503
    assert response.content_type == "application/json"
    assert response.json["error"]["status"] == 503


def test_the_health_answer_is_reused_until_a_save_says_otherwise():
    class Disk:
        def __init__(self) -> None:
            self.full = False
            self.probes: list[int] = []

        def save(self, record):
            if self.full:
                raise StorageError("disk full")

        def is_writable(self, size: int) -> bool:
            self.probes.append(size)
            return not self.full

    disk, now = Disk(), [0.0]
    watched = WatchedStore(disk, probe_bytes=4096, clock=lambda: now[0])
    assert [watched.is_writable() for _ in range(3)] == [True] * 3
    assert disk.probes == [4096]  # one probe, then its answer for PROBE_SECONDS

    disk.full = True
    with pytest.raises(StorageError):
        watched.save({})
    assert watched.is_writable() is False  # the failed save, at once: no probe needed
    disk.full = False
    watched.save({})
    assert watched.is_writable() is True  # a save after a failure lets the next call probe
    now[0] += PROBE_SECONDS
    watched.is_writable()
    assert disk.probes == [4096, 4096, 4096]


def test_unexpected_exception_is_a_json_500_without_traceback(config):
    app = client(config, store=FailingStore(RuntimeError("secret internals")))
    response = post(app, {})
    assert response.status_int == 500
    assert response.content_type == "application/json"
    assert response.json == {
        "error": {"status": 500, "message": "internal server error", "details": []}
    }
    assert "Traceback" not in response.text and "secret internals" not in response.text


def test_record_uses_the_clock_and_the_key_name(config):
    saved = []

    class RecordingStore(FailingStore):
        def save(self, record):
            saved.append(record)

    moment = datetime(2026, 11, 22, 10, 15, 2, 123456, tzinfo=timezone.utc)
    app = client(config, store=RecordingStore(None), now=lambda: moment)
    response = post(app, {}, Authorization="Bearer another-test-key")
    assert response.status_int == 200
    (record,) = saved
    assert record["received_at"] == "2026-11-22T10:15:02.123456Z"
    assert record["submission_id"].startswith("20261122T101502123456Z-")
    assert record["key_name"] == "other"
    assert response.json["submission_id"] == record["submission_id"]


class EndlessBody(io.RawIOBase):
    """A request body that never ends; counts how much the app reads."""

    def __init__(self) -> None:
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        assert size is not None and size >= 0, "the app must never read without a limit"
        self.consumed += size
        return b" " * size


def call_wsgi(app, environ_overrides: dict) -> tuple[str, dict]:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/submissions",
        "SERVER_NAME": "test",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "HTTP_AUTHORIZATION": f"Bearer {KEY}",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b"{}"),
        "wsgi.errors": io.StringIO(),
        **environ_overrides,
    }
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = status

    body = b"".join(app(environ, start_response))
    return captured["status"], json.loads(body)


def test_body_of_unknown_length_is_read_no_further_than_the_limit(config):
    stream = EndlessBody()
    status, body = call_wsgi(create_app(config), {"wsgi.input": stream})
    assert status.startswith("413")
    assert body["error"]["status"] == 413
    assert stream.consumed <= config.max_body_bytes + 1


def test_declared_oversized_body_is_not_read_at_all(config):
    stream = EndlessBody()
    status, _ = call_wsgi(create_app(config), {"wsgi.input": stream, "CONTENT_LENGTH": "999999"})
    assert status.startswith("413")
    assert stream.consumed == 0


@pytest.mark.parametrize("declared", ["abc", "-5", "1e3"])
def test_malformed_content_length_is_400(config, declared):
    status, body = call_wsgi(create_app(config), {"CONTENT_LENGTH": declared})
    assert status.startswith("400")
    assert body["error"]["status"] == 400


def test_forwarded_for_is_ignored_from_untrusted_peers(config):
    app = create_app(replace(config, rate_limit=replace(config.rate_limit, requests=1)))
    first, _ = call_wsgi(app, {"HTTP_X_FORWARDED_FOR": "203.0.113.1"})
    second, _ = call_wsgi(app, {"HTTP_X_FORWARDED_FOR": "203.0.113.2"})
    assert first.startswith("200")
    assert second.startswith("429")


def test_problems_come_in_document_order():
    problems = problems_of({"failed_installs": [{"name": 1}] * 12, "user_system_info": {"a": 1}})
    assert [path for path, _ in problems] == [
        *(f"/failed_installs/{index}/name" for index in range(12)),
        "/user_system_info/a",
    ]
