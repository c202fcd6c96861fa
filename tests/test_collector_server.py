"""The collector as a process: start-up, refusal to start, logs, restart, graceful stop."""

from __future__ import annotations

from http_support import get_json, post_json


def test_fixture_starts_a_healthy_collector_that_accepts_a_submission(collector):
    status, _, body = get_json(collector.url + "/healthz")
    assert (status, body) == (200, {"status": "ok"})
    status, _, body = post_json(collector.url + "/api/v1/submissions", {}, key=collector.key)
    assert status == 200, body
    assert len(collector.submission_files()) == 1
