"""``python -m collector serve``: run the app on waitress and stop gracefully on a signal.

Waitress is multi-threaded in one process, which is what the in-memory rate limiter needs.
On SIGTERM or SIGINT the listening socket is closed at once (no new connections), requests
already received are finished and their responses flushed (for up to DRAIN_SECONDS, or until
a second signal), idle keep-alive connections are dropped, and the process exits 0. A client
still sending its request (or receiving its answer) is waited for only while it moves: one
that sends nothing for STALL_SECONDS (counted from the signal at the earliest) is dropped, so
a few half-sent requests cannot hold every restart for the whole drain.
Waitress itself has no such drain, so this module runs waitress's event loop one step at a
time and checks after each step whether it may stop.
"""

from __future__ import annotations

import logging
import resource
import signal
import time
from typing import Any, cast

import orjson
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server
from waitress.task import ErrorTask

from collector.accesslog import AccessLog, WSGIApp, configure_logging
from collector.app import create_app, error_document
from installdata.config import CollectorConfig, Config
from installdata.errors import UserError

log = logging.getLogger("collector")

DRAIN_SECONDS = 30  # longest wait for in-flight requests after a stop signal
STALL_SECONDS = 5  # a half-sent request (or half-read answer) idle this long is not waited for
_LOOP_STEP_SECONDS = 0.5
# Waitress refuses bodies over this itself (JSON 413 via JsonErrorTask) before the app sees
# them; below it the app reads the body and applies max_body_bytes. nginx should cap earlier.
_WAITRESS_BODY_FACTOR = 16
# Open files besides the connections: stdio, the listeners, waitress's wake-up pipe, logs.
# Each worker thread adds up to two more while it saves (the temp file, its folder).
_SPARE_FILES = 32

Server = MultiSocketServer | BaseWSGIServer
"""What ``create_server`` returns: one listener, or several when a host name has several IPs."""


def build_wsgi_app(config: CollectorConfig) -> WSGIApp:
    """The complete WSGI application (app plus access log), shared with ``collector.wsgi``."""
    return AccessLog(create_app(config), config.trusted_proxies)


def serve(config: Config, host: str | None, port: int | None) -> int:
    """Serve until SIGTERM/SIGINT; return the exit status. Raises ``UserError`` to refuse."""
    settings = config.collector
    host = host or settings.host
    port = settings.port if port is None else port
    if not 0 <= port <= 65535:
        raise UserError(f"--port: expected a port number from 0 to 65535, got {port}")
    _check_open_files(settings)
    configure_logging()
    app = build_wsgi_app(settings)
    try:
        server = create_server(
            app,
            host=host,
            port=port,
            threads=settings.threads,
            # Without nginx in front, these bound what clients that send nothing can hold.
            connection_limit=settings.connection_limit,
            channel_timeout=settings.connection_timeout,
            cleanup_interval=max(1, settings.connection_timeout // 2),
            max_request_body_size=settings.max_body_bytes * _WAITRESS_BODY_FACTOR,
            ident="collector",
            # X-Forwarded-For is judged by the app against collector.trusted_proxies;
            # waitress would otherwise delete it before the app sees it.
            clear_untrusted_proxy_headers=False,
            expose_tracebacks=False,
        )
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    except ValueError:  # waitress's word for a host name that does not resolve
        raise UserError(f"cannot listen on {host}:{port}: unknown host") from None
    for listener in _listeners(_socket_map(server)):
        listener.channel_class = JsonErrorChannel
    for url in _listening_urls(server):
        print(f"collector listening on {url}", flush=True)
    log.info("storing submissions under %s", settings.submissions_dir)
    for name, secret in sorted(settings.keys.items()):
        if "change-me" in secret:
            log.warning("submission key %r still has its example secret: set a real one", name)
    return GracefulRunner(server).run()


def _check_open_files(settings: CollectorConfig) -> None:
    """Refuse a connection limit the process could not open files for.

    Past the limit on open files, ``accept`` fails (waitress logs it and tries again at once)
    and so does every save, so a full house would look like a broken disk.
    """
    needed = settings.connection_limit + 2 * settings.threads + _SPARE_FILES
    allowed, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if allowed != resource.RLIM_INFINITY and needed > allowed:
        raise UserError(
            f"collector.connection_limit {settings.connection_limit} needs about {needed} open"
            f" files, but this process may open only {allowed} (ulimit -n; systemd:"
            " LimitNOFILE=): raise that or lower the limit"
        )


class JsonErrorTask(ErrorTask):
    """Waitress's own error responses (malformed HTTP, a body over its limit) as our JSON."""

    def execute(self) -> None:
        # waitress hands an error task the request parser (types-waitress says: the error)
        error = cast(HTTPRequestParser, self.request).error
        assert error is not None  # the parser found one, or there would be no error task
        body = orjson.dumps(error_document(error.code, error.reason.lower()))
        self.status = f"{error.code} {error.reason}"
        self.response_headers = [*self.response_headers, ("Content-Type", "application/json")]
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class JsonErrorChannel(HTTPChannel):
    error_task_class = JsonErrorTask


class GracefulRunner:
    """Drive waitress's event loop until a signal, then drain in-flight requests."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.socket_map = _socket_map(server)
        self.stop_signals = 0  # the first drains, a second one stops at once

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._request_stop)
        while not self.stop_signals:
            self._step()
        log.info("stopping: no new connections, finishing requests in flight")
        for listener in _listeners(self.socket_map):
            wasyncore.dispatcher.close(listener)  # keeps the trigger that wakes the loop
        deadline = time.monotonic() + DRAIN_SECONDS
        stopped_at = time.time()  # the clock of waitress's last_activity
        self._step()  # read what already arrived, so a request half-received counts as busy
        while (
            any(_worth_waiting_for(channel, stopped_at) for channel in self._channels())
            and time.monotonic() < deadline
            and self.stop_signals < 2
        ):
            self._step()
        unfinished = sum(1 for channel in self._channels() if _channel_busy(channel))
        if unfinished:
            log.warning("stopped with %d requests unfinished", unfinished)
        self._shut_down()
        log.info("stopped")
        return 0

    def _request_stop(self, signum: int, _frame: Any) -> None:
        self.stop_signals += 1
        for listener in _listeners(self.socket_map):
            listener.pull_trigger()  # wake the event loop now rather than at its next timeout
            break

    def _step(self) -> None:
        # poll, not select: select cannot watch file numbers past 1024 (FD_SETSIZE)
        wasyncore.loop(timeout=_LOOP_STEP_SECONDS, use_poll=True, map=self.socket_map, count=1)

    def _channels(self) -> list[HTTPChannel]:
        return [item for item in self.socket_map.values() if isinstance(item, HTTPChannel)]

    def _shut_down(self) -> None:
        self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        wasyncore.close_all(self.socket_map)


def _socket_map(server: Server) -> dict[int, Any]:
    """Waitress's map of its dispatchers (listeners, connections, its trigger) by file number.

    Read past types-waitress, which types the map as holding sockets and does not list the
    ``_map`` of a single listener; the values are Any because only isinstance sorts them.
    """
    if isinstance(server, MultiSocketServer):
        return cast("dict[int, Any]", server.map)
    return cast("dict[int, Any]", server._map)  # type: ignore[attr-defined]  # see above


def _listeners(socket_map: dict[int, Any]) -> list[BaseWSGIServer]:
    return [item for item in socket_map.values() if isinstance(item, BaseWSGIServer)]


def _channel_busy(channel: HTTPChannel) -> bool:
    """A request is being received, waits, runs, or its response is not yet sent."""
    return bool(channel.requests or channel.request is not None or channel.total_outbufs_len)


def _worth_waiting_for(channel: HTTPChannel, stopped_at: float) -> bool:
    """A request is being handled, or is still moving in or out (see STALL_SECONDS)."""
    if channel.requests:  # received whole: the app runs it, or it waits for a worker thread
        return True
    if not _channel_busy(channel):
        return False
    return time.time() - max(channel.last_activity, stopped_at) < STALL_SECONDS


def _listening_urls(server: Server) -> list[str]:
    addresses: list[tuple[str | int, ...]]
    if isinstance(server, BaseWSGIServer):
        # set by every listener's __init__, though types-waitress does not list them
        addresses = [(server.effective_host, server.effective_port)]  # type: ignore[attr-defined]
    else:
        addresses = [tuple(address) for address in server.effective_listen]
    return [
        f"http://[{host}]:{port}" if ":" in str(host) else f"http://{host}:{port}"
        for host, port in addresses
    ]
