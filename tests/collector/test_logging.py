"""The log writer thread and the throttle on waitress's repeated queue-depth warning."""

from __future__ import annotations

import io
import logging
import queue
import sys
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.accesslog import (
    _PATH_AS_IS,
    _PATH_SAFE,
    _TOKEN_AS_IS,
    LINE_FORMAT,
    AtMostEvery,
    EnqueueHandler,
    LineFormatter,
    LogWriter,
    _escaped,
)


def make_record(message: str, name: str = "collector") -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, message, None, None)


def test_log_writer_writes_every_queued_record_in_order_before_stopping() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    records: queue.SimpleQueue[logging.LogRecord | None] = queue.SimpleQueue()
    for number in range(2500):  # more than one batch
        records.put(make_record(f"line {number}"))
    writer = LogWriter(records, handler)

    writer.start()
    writer.stop()

    assert stream.getvalue().splitlines() == [f"collector: line {n}" for n in range(2500)]
    assert not writer.thread.is_alive()


def test_log_writer_keeps_writing_after_a_record_that_cannot_be_formatted(capsys) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    records: queue.SimpleQueue[logging.LogRecord | None] = queue.SimpleQueue()
    broken = logging.LogRecord("collector", logging.INFO, __file__, 1, "%d", ("x",), None)
    for record in (make_record("before"), broken, make_record("after")):
        records.put(record)
    writer = LogWriter(records, handler)

    writer.start()
    writer.stop()

    assert stream.getvalue().splitlines() == ["before", "after"]
    assert "TypeError" in capsys.readouterr().err  # logging's own report of the bad record


def test_at_most_every_lets_one_record_through_per_period() -> None:
    now = [100.0]
    throttle = AtMostEvery(60, clock=lambda: now[0])
    passed = []
    for now[0] in (100.0, 100.5, 159.9, 160.0, 161.0, 230.0):
        passed.append(throttle.filter(make_record("Task queue depth is 3", "waitress.queue")))
    assert passed == [True, False, False, True, False, True]


def test_enqueue_handler_queues_the_record_itself_with_its_message_fixed() -> None:
    records: queue.SimpleQueue[logging.LogRecord | None] = queue.SimpleQueue()
    handler = EnqueueHandler(records)
    names = ["first"]
    record = logging.LogRecord("collector", logging.INFO, __file__, 1, "got %s", (names,), None)

    handler.handle(record)
    names.append("added later")

    queued = records.get_nowait()
    assert queued is record  # not formatted and copied in the request thread
    assert queued.getMessage() == "got ['first']"


@pytest.mark.parametrize(
    "created", [1796126400.0, 1796126400.9995, 1796126401.0004, 1796126459.999, 1796130000.5]
)
def test_line_formatter_writes_what_the_standard_formatter_writes(created: float) -> None:
    standard, ours = logging.Formatter(LINE_FORMAT), LineFormatter()
    try:
        raise ValueError("for the traceback")
    except ValueError:
        failed = logging.LogRecord(
            "waitress", logging.ERROR, __file__, 1, "x", None, sys.exc_info()
        )
    for moment in (created - 1, created, created + 0.0005, created + 1):  # cached, then not
        for record in (make_record("stored"), failed):
            record.created = moment
            record.msecs = int((moment - int(moment)) * 1000) + 0.0  # as LogRecord does
            record.exc_text = None
            assert ours.format(record) == standard.format(record)


@given(st.text(st.characters(codec="utf-8"), max_size=30))
def test_logged_paths_and_methods_are_escaped_as_quote_escapes_them(text: str) -> None:
    assert _escaped(text, _PATH_SAFE, _PATH_AS_IS) == quote(text, safe=_PATH_SAFE)
    assert _escaped(text, "", _TOKEN_AS_IS) == quote(text, safe="")
