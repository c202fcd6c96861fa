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
import math
import queue
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import quote

from collector.clientip import IPNetwork, client_ip

log = logging.getLogger("collector.access")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_MAX_PATH_CHARS = 200
_PATH_SAFE = "/-._~!$&'()*+,;=:@"  # kept as they are in a logged path, besides letters, digits
# texts that quote() would return unchanged: ASCII letters, digits, "_.-~" and the safe ones
_PATH_AS_IS = re.compile(r"[A-Za-z0-9_.~/!$&'()*+,;=:@-]*")
_TOKEN_AS_IS = re.compile(r"[A-Za-z0-9_.~-]*")
_MAX_BATCH = 1000  # log records written at once at most
_WRITE_PAUSE_SECONDS = 0.05
QUEUE_WARNING_SECONDS = 60.0


def configure_logging(level: int = logging.INFO) -> None:
    """Timestamped lines on stderr, for the collector's and waitress's loggers.

    Request threads only put records on a queue; one writer thread formats and writes them.
    Writing to stderr under the handler's lock from every worker thread made them queue up
    behind each other (a tenth of the collector's time under load went to waiting for that
    lock). The writer is stopped, and the queue flushed, when the process exits.

    Under load a log line is written for every request, so a record is made as cheaply as
    the logging HOWTO allows: no caller lookup, thread, process or multiprocessing names
    (the format shows none of them), and waitress's "Task queue depth" warning, which it
    repeats for every request while all threads are busy, at most once per minute.
    """
    logging._srcfile = None  # no stack walk per record
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LineFormatter())
    records: queue.SimpleQueue[logging.LogRecord | None] = queue.SimpleQueue()
    writer = LogWriter(records, handler)
    writer.start()
    atexit.register(writer.stop)
    root = logging.getLogger()
    root.handlers[:] = [EnqueueHandler(records)]
    root.setLevel(level)
    logging.getLogger("waitress.queue").addFilter(AtMostEvery(QUEUE_WARNING_SECONDS))


class LineFormatter(logging.Formatter):
    """``LINE_FORMAT``, written without the general formatter's machinery where it can be.

    Each request logs two lines, and the general formatter took 29,000 machine instructions
    to format one (callgrind, December 2026), this one 10,000: the date and time of day are
    made once per second (``time.strftime`` was half of the cost; a busy second has hundreds
    of lines that share it), and a line without a traceback is one f-string. Only the
    writer thread formats, so the one cached second needs no lock.
    """

    _second: tuple[int, str] = (-1, "")

    def __init__(self) -> None:
        super().__init__(LINE_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info:
            return super().format(record)
        record.message = record.getMessage()
        return f"{self.formatTime(record)} {record.levelname} {record.name}: {record.message}"

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second, text = self._second
        if second != int(record.created):
            second = int(record.created)
            text = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = (second, text)
        msec_format = self.default_msec_format
        return msec_format % (text, record.msecs) if msec_format else text


class EnqueueHandler(logging.handlers.QueueHandler):
    """Hand a record to the writer thread as it is, with only its message fixed.

    The standard ``prepare`` formats the whole record and copies it, so that it can be
    pickled to another process; the writer is a thread of this one, so that work would only
    be done twice. It was 27,000 of the 91,000 machine instructions a record cost, and each
    request logs two (callgrind, December 2026).
    """

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record.msg = record.getMessage()  # the arguments as they are now, not when written
        record.args = None
        return record


class LogWriter:
    """The one thread that writes queued log records: all that are waiting in one write.

    After each write it pauses briefly, so under load it wakes at most ``1 /
    _WRITE_PAUSE_SECONDS`` times a second and writes all lines gathered meanwhile in one
    system call, instead of waking (and taking Python's GIL from a request thread) for every
    line. A line therefore appears at most that pause late; when idle it waits without
    polling.
    """

    def __init__(
        self, records: queue.SimpleQueue[logging.LogRecord | None], handler: logging.Handler
    ) -> None:
        self.records = records
        self.handler = handler
        self.thread = threading.Thread(target=self._run, name="log-writer", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Write what is queued, then end the thread (``None`` marks the end)."""
        self.records.put(None)
        self.thread.join()

    def _run(self) -> None:
        while True:
            batch = [self.records.get()]  # idle: sleeps here until a record comes
            while len(batch) < _MAX_BATCH and not self.records.empty():
                batch.append(self.records.get())
            done = None in batch
            self._write([record for record in batch if record is not None])
            if done:
                return
            # Busy: let lines gather rather than wake (and take the GIL) once per line.
            time.sleep(_WRITE_PAUSE_SECONDS)

    def _write(self, batch: list[logging.LogRecord]) -> None:
        lines = []
        for record in batch:
            try:
                lines.append(self.handler.format(record) + "\n")
            except Exception:
                self.handler.handleError(record)
        stream = getattr(self.handler, "stream", sys.stderr)
        try:
            stream.write("".join(lines))
            stream.flush()
        except Exception:
            self.handler.handleError(batch[-1])


class AtMostEvery(logging.Filter):
    """Let one record through per ``seconds``; the others in between are dropped.

    For a warning that says the same thing many times a second (waitress's queue depth):
    the first line tells the operator, the rest would only bury other lines.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.seconds = seconds
        self.clock = clock
        self.next_allowed = -math.inf

    def filter(self, record: logging.LogRecord) -> bool:
        now = self.clock()
        if now < self.next_allowed:
            return False
        self.next_allowed = now + self.seconds
        return True


class AccessLog:
    """Wrap a WSGI app; log each request once its response has been sent (or abandoned)."""

    def __init__(self, app: WSGIApp, trusted_proxies: tuple[IPNetwork, ...]) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterator[bytes]:
        started = time.perf_counter()
        status = ["-"]

        def recording_start_response(
            status_line: str, headers: list[tuple[str, str]], *exc_info: Any
        ) -> Any:
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
        path = _escaped(environ.get("PATH_INFO", ""), _PATH_SAFE, _PATH_AS_IS)
        if len(path) > _MAX_PATH_CHARS:
            path = path[:_MAX_PATH_CHARS] + "..."
        method = _escaped(environ.get("REQUEST_METHOD", "-"), "", _TOKEN_AS_IS)
        log.info("%s %s %s %s %.1fms", client, method, path, status, seconds * 1000)


def _escaped(text: str, safe: str, as_is: re.Pattern[str]) -> str:
    """``quote(text, safe=safe)``; text that has nothing to escape is passed on untouched.

    Two quote calls were 12,000 machine instructions per request, the regular expression
    that finds nothing to escape in an everyday path is 1,500 (callgrind, December 2026).
    """
    return text if as_is.fullmatch(text) else quote(text, safe=safe)
