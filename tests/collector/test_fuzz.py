"""Fuzz the submission endpoints with requests Schemathesis derives from ``/openapi.json``.

Schemathesis generates both bodies that fit the schema ("positive": these must be stored,
200) and bodies that break it ("negative": these must be refused with a 4xx). Whatever is
sent, the service must never answer 5xx and every answer must be JSON in the documented
shape. Most examples go to the full WSGI stack in-process (fast); a smaller share goes over
real HTTP to a real collector process. Bounded to well under a minute.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
import webtest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from collector.openapi import SUBMISSION_PATHS, openapi_document
from collector.server import build_wsgi_app
from installdata.config import CollectorConfig, RateLimitConfig
from support.collector_process import RunningCollector, running_collector
from support.web import post_json

KEY = "fuzz-test-key-0123456789"
MAX_BODY = 262_144
ERROR_STATUSES = {400, 401, 403, 413, 415}

SCHEMA = schemathesis.openapi.from_dict(openapi_document())
CASES = st.one_of(
    [
        SCHEMA[path]["POST"].as_strategy(generation_mode=mode)
        for path in SUBMISSION_PATHS
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]
)
FUZZ_SETTINGS = settings(
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def encode(case) -> bytes:
    """The request body exactly as it goes on the wire."""
    if isinstance(case.body, bytes):
        return case.body
    return json.dumps(case.body).encode("utf-8")


def request_headers(case, use_real_key: bool) -> dict[str, str]:
    headers = {name: str(value) for name, value in (case.headers or {}).items()}
    if use_real_key:
        for name in list(headers):
            if name.lower() in ("authorization", "x-submission-key"):
                del headers[name]
        headers["Authorization"] = f"Bearer {KEY}"
    headers["Content-Type"] = "application/json"
    return headers


def check_answer(case, raw: bytes, use_real_key: bool, status: int, body) -> None:
    assert status < 500, (status, body)
    assert isinstance(body, dict), body
    if status == 200:
        assert set(body) == {"key", "submission_id", "summary"}
        assert body["summary"]["status"] == "Successful"
        return
    assert status in ERROR_STATUSES | {404, 405}, (status, body)
    assert set(body) == {"error"}
    assert body["error"]["status"] == status
    assert isinstance(body["error"]["message"], str)
    assert isinstance(body["error"]["details"], list)
    if _is_positive(case) and use_real_key and len(raw) <= MAX_BODY:
        pytest.fail(f"a body that fits the schema was refused: {status} {body}")


def _is_positive(case) -> bool:
    return case.meta.generation.mode == GenerationMode.POSITIVE


@pytest.fixture(scope="module")
def wsgi_app(tmp_path_factory: pytest.TempPathFactory) -> webtest.TestApp:
    folder: Path = tmp_path_factory.mktemp("fuzz-wsgi")
    config = CollectorConfig(
        submissions_dir=folder / "submissions",
        keys={"fuzz": KEY},
        id_secret="fuzz-id-secret-0123456789",
        max_body_bytes=MAX_BODY,
        rate_limit=RateLimitConfig(requests=1_000_000),
    )
    return webtest.TestApp(build_wsgi_app(config))


@pytest.fixture(scope="module")
def real_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCollector]:
    with running_collector(
        tmp_path_factory.mktemp("fuzz-http"), {"keys": {"fuzz": KEY}}
    ) as running:
        yield running


def test_fuzzed_submissions_through_the_wsgi_app(wsgi_app):
    @settings(FUZZ_SETTINGS, max_examples=400)
    @given(case=CASES, use_real_key=st.booleans())
    def run(case, use_real_key):
        raw = encode(case)
        response = wsgi_app.post(
            case.path, raw, headers=request_headers(case, use_real_key), expect_errors=True
        )
        assert response.content_type == "application/json"
        check_answer(case, raw, use_real_key, response.status_int, response.json)

    run()


@pytest.mark.slow
def test_fuzzed_submissions_over_real_http(real_server):
    @settings(FUZZ_SETTINGS, max_examples=80)
    @given(case=CASES, use_real_key=st.booleans())
    def run(case, use_real_key):
        raw = encode(case)
        headers = request_headers(case, use_real_key)
        url = real_server.url + case.path
        status, response_headers, body = post_json(url, raw, headers=headers)
        assert response_headers["Content-Type"].startswith("application/json")
        check_answer(case, raw, use_real_key, status, body)

    run()
