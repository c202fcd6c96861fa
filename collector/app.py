"""The collector's WSGI application: small explicit Bottle routes, JSON in and JSON out.

A submission passes the checks in a fixed order, cheapest and most telling first: rate limit
(so a flood costs nothing else), key, Content-Type, size, JSON syntax, schema. Only then is a
user id chosen and the record stored. Every failure is an ``ApiError`` that becomes
``{"error": {"status", "message", "details"}}``; bottle's own HTML error pages (404, 405,
500) are replaced by the same JSON shape, without tracebacks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any

import bottle
import orjson

from collector.clientip import client_ip
from collector.health import WatchedStore
from collector.ids import UserIds, load_id_secret, new_submission_id
from collector.keys import KeyRing, MissingKey, WrongKey, presented_key
from collector.openapi import SUBMISSION_PATHS, openapi_document
from collector.ratelimit import RateDecision, RateLimits
from collector.validation import InvalidBody, parse_body, submission_schema, validate_submission
from installdata.config import CollectorConfig
from installdata.record import make_record
from installdata.storage import StorageError, SubmissionStore

log = logging.getLogger("collector")

_READ_CHUNK = 64 * 1024


class ApiError(Exception):
    """A request we refuse, with the HTTP status and the JSON error it gets."""

    def __init__(self, status: int, message: str, details: Sequence[dict[str, str]] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = list(details)


def create_app(
    config: CollectorConfig,
    *,
    store: SubmissionStore | None = None,
    limiter: RateLimits | None = None,
    user_ids: UserIds | None = None,
    now: Callable[[], datetime] | None = None,
) -> bottle.Bottle:
    """Build the WSGI app; the keyword arguments let tests swap in their own parts.

    Raises ``UserError`` when no key is configured (unless anonymous submissions are
    allowed) or the id secret cannot be read or created.
    """
    submissions = Submissions(
        config,
        keys=KeyRing(config.keys, config.allow_anonymous),
        user_ids=user_ids or UserIds(load_id_secret(config.id_secret, config.id_secret_file)),
        store=WatchedStore(store or SubmissionStore(config.submissions_dir), config.max_body_bytes),
        limiter=limiter
        or RateLimits(
            config.rate_limit.requests,
            config.rate_limit.per_seconds,
            config.rate_limit.max_clients,
            config.rate_limit.overrides,
        ),
        now=now or (lambda: datetime.now(timezone.utc)),
    )
    app = bottle.Bottle()
    app.default_error_handler = _bottle_error

    @app.get("/")
    def about() -> bytes:
        return _json(200, _about(config))

    @app.get("/healthz")
    def healthz() -> bytes:
        if submissions.store.is_writable():
            return _json(200, {"status": "ok"})
        return _error(503, "the submissions folder is not writable")

    @app.get("/schema.json")
    def schema() -> bytes:
        return _json(200, submission_schema())

    @app.get("/openapi.json")
    def openapi() -> bytes:
        return _json(200, openapi_document())

    for path in SUBMISSION_PATHS:
        app.post(path, callback=submissions.handle)
        app.route(path, method=_OTHER_METHODS, callback=submissions.wrong_method)
    return app


# Other methods on a submission path are answered by the endpoint itself (not bottle's
# generic 405), so that they too count against the rate limit and carry its headers.
_OTHER_METHODS = ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"]


class Submissions:
    """The submission endpoint: checks a request, stores the record, answers with the id."""

    def __init__(
        self,
        config: CollectorConfig,
        keys: KeyRing,
        user_ids: UserIds,
        store: WatchedStore,
        limiter: RateLimits,
        now: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.keys = keys
        self.user_ids = user_ids
        self.store = store
        self.limiter = limiter
        self.now = now

    def handle(self) -> bytes:
        environ = bottle.request.environ
        try:
            self._check_rate(environ)
            key_name = self._check_key(environ)
            _check_content_type(environ)
            data = parse_body(_read_body(environ, self.config.max_body_bytes))
            validate_submission(data)
            return _json(200, self._store(data, key_name))
        except InvalidBody as exc:
            return _error(400, exc.message, [problem.as_dict() for problem in exc.problems])
        except ApiError as exc:
            return _error(exc.status, exc.message, exc.details)

    def wrong_method(self) -> bytes:
        bottle.response.set_header("Allow", "POST")
        try:
            self._check_rate(bottle.request.environ)
        except ApiError as exc:
            return _error(exc.status, exc.message, exc.details)
        return _error(405, f"use POST to submit, not {bottle.request.method}")

    def _check_rate(self, environ: dict[str, Any]) -> None:
        decision = self.limiter.hit(self._client(environ))
        _set_rate_headers(decision)
        if not decision.allowed:
            bottle.response.set_header("Retry-After", str(decision.retry_after))
            raise ApiError(429, f"too many submissions; retry in {decision.retry_after} seconds")

    def _client(self, environ: dict[str, Any]) -> str:
        """Whom the rate limit counts: the client's address, behind trusted proxies."""
        return client_ip(
            environ.get("REMOTE_ADDR", ""),
            environ.get("HTTP_X_FORWARDED_FOR"),
            self.config.trusted_proxies,
        )

    def _check_key(self, environ: dict[str, Any]) -> str:
        presented = presented_key(
            _header_text(environ, "HTTP_AUTHORIZATION"),
            _header_text(environ, "HTTP_X_SUBMISSION_KEY"),
        )
        try:
            return self.keys.identify(presented)
        except MissingKey:
            bottle.response.set_header("WWW-Authenticate", "Bearer")
            raise ApiError(401, "no submission key: send 'Authorization: Bearer <key>'") from None
        except WrongKey:
            raise ApiError(403, "the submission key is not valid") from None

    def _store(self, data: dict[str, Any], key_name: str) -> dict[str, Any]:
        user_id, kept = self.user_ids.resolve(data.get("unique_user_id"))
        received = self.now()
        record = make_record(
            submission_id=new_submission_id(received),
            received=received,
            user_id=user_id,
            key_name=key_name,
            user_system_info=data.get("user_system_info"),
            successful_installs=data.get("successful_installs", ()),
            failed_installs=data.get("failed_installs", ()),
        )
        try:
            self.store.save(record)
        except StorageError as exc:
            log.error("could not store submission %s: %s", record["submission_id"], exc)
            # We failed, not the client: its retries must not use up its budget.
            _set_rate_headers(self.limiter.refund(self._client(bottle.request.environ)))
            raise ApiError(503, "cannot store submissions right now; please retry later") from None
        log.info("stored submission %s (key %s)", record["submission_id"], key_name)
        message = "pushed data with same id" if kept else "new id generated"
        return {
            "key": user_id,
            "submission_id": record["submission_id"],
            "summary": {"status": "Successful", "message": message},
        }


def _set_rate_headers(decision: RateDecision) -> None:
    bottle.response.set_header("X-RateLimit-Limit", str(decision.limit))
    bottle.response.set_header("X-RateLimit-Remaining", str(decision.remaining))
    bottle.response.set_header("X-RateLimit-Reset", str(decision.reset_at))


def _header_text(environ: dict[str, Any], name: str) -> str | None:
    """A header as text: WSGI hands over its raw bytes as latin-1; keys are UTF-8."""
    value: str | None = environ.get(name)
    if value is None:
        return None
    return value.encode("latin-1", "replace").decode("utf-8", "replace")


def _check_content_type(environ: dict[str, Any]) -> None:
    media_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(415, "Content-Type must be application/json")


def _read_body(environ: dict[str, Any], limit: int) -> bytes:
    """Read the body, never holding more than ``limit + 1`` bytes; 413 beyond ``limit``.

    A declared Content-Length over the limit is refused without reading; a body of unknown
    length (chunked, behind some servers) is read until it passes the limit.
    """
    declared = (environ.get("CONTENT_LENGTH") or "").strip()
    if declared:
        if not declared.isdigit():
            raise ApiError(400, "invalid Content-Length header")
        length = int(declared)
        if length > limit:
            raise ApiError(413, f"body larger than {limit} bytes")
        body = _read_up_to(environ["wsgi.input"], length)
        if len(body) < length:
            raise ApiError(400, "body shorter than its Content-Length")
        return body
    body = _read_up_to(environ["wsgi.input"], limit + 1)
    if len(body) > limit:
        raise ApiError(413, f"body larger than {limit} bytes")
    return body


def _read_up_to(stream: Any, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(min(remaining, _READ_CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _about(config: CollectorConfig) -> dict[str, Any]:
    return {
        "service": "installation test results collector",
        "description": (
            "Installer scripts POST their installation-test results here; a nightly job "
            "publishes the aggregated report."
        ),
        "report_url": config.report_url,
        "submit": {
            "method": "POST",
            "paths": list(SUBMISSION_PATHS),
            "content_type": "application/json",
            "authentication": "Authorization: Bearer <key> (or X-Submission-Key: <key>)",
        },
        "schema": "/schema.json",
        "openapi": "/openapi.json",
        "health": "/healthz",
    }


def _bottle_error(error: bottle.HTTPError) -> bytes:
    """Bottle's own errors (404, 405, 500, ...) in our JSON shape; never a traceback."""
    status = error.status_code
    messages = {404: "no such endpoint", 405: "method not allowed for this endpoint"}
    try:
        phrase = HTTPStatus(status).phrase.lower()
    except ValueError:
        phrase = "error"
    return _error(status, messages.get(status, phrase))


def error_document(
    status: int, message: str, details: Sequence[dict[str, str]] = ()
) -> dict[str, Any]:
    """The one shape of every error response (docs/protocol.md)."""
    return {"error": {"status": status, "message": message, "details": list(details)}}


def _error(status: int, message: str, details: Sequence[dict[str, str]] = ()) -> bytes:
    return _json(status, error_document(status, message, details))


def _json(status: int, payload: Any) -> bytes:
    bottle.response.status = status
    bottle.response.content_type = "application/json"
    return orjson.dumps(payload)
