"""WSGI middleware that writes one access-log line per request, and the logging setup.

A line holds the client IP (after trusted proxies), method, path, status and duration, e.g.
``127.0.0.1 POST /api/v1/submissions 200 3.1ms``. It deliberately holds nothing else: no
query string, no headers (the submission key travels in one), no body (email addresses).
The path is client text, so it is escaped before it reaches the log.
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import quote

from collector.clientip import client_ip

log = logging.getLogger("collector.access")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_MAX_PATH_CHARS = 200


def configure_logging(level: int = logging.INFO) -> None:
    """Timestamped lines on stderr, for the collector's and waitress's loggers.

    Request threads only put records on a queue; one listener thread writes them. Writing
    to stderr under the handler's lock from every worker thread made them queue up behind
    each other (a tenth of the collector's time under load went to waiting for that lock).
    The listener is stopped, and the queue flushed, when the process exits.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = logging.handlers.QueueListener(records, handler)
    listener.start()
    atexit.register(listener.stop)
    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(records)]
    root.setLevel(level)


class AccessLog:
    """Wrap a WSGI app; log each request once its response has been sent (or abandoned)."""

    def __init__(self, app: WSGIApp, trusted_proxies: tuple[Any, ...]) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterator[bytes]:
        started = time.perf_counter()
        status = ["-"]

        def recording_start_response(status_line: str, headers: Any, *exc_info: Any) -> Any:
            status[0] = status_line.split(" ", 1)[0]
            return start_response(status_line, headers, *exc_info)

        result = self.app(environ, recording_start_response)
        try:
            yield from result
        finally:
            if hasattr(result, "close"):
                result.close()
            self._log(environ, status[0], time.perf_counter() - started)

    def _log(self, environ: dict[str, Any], status: str, seconds: float) -> None:
        client = client_ip(
            environ.get("REMOTE_ADDR", ""),
            environ.get("HTTP_X_FORWARDED_FOR"),
            self.trusted_proxies,
        )
        path = quote(environ.get("PATH_INFO", ""), safe="/-._~!$&'()*+,;=:@")
        if len(path) > _MAX_PATH_CHARS:
            path = path[:_MAX_PATH_CHARS] + "..."
        method = quote(environ.get("REQUEST_METHOD", "-"), safe="")
        log.info("%s %s %s %s %.1fms", client, method, path, status, seconds * 1000)
