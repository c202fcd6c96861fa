"""The deployment files in deploy/: valid for their tools, consistent with each other and with
the real command line and config loader, and nginx really does what deploy/nginx.conf says.

nginx runs from a wrapper config in tmp_path that includes deploy/nginx.conf with only its
machine-specific parts (listen address, site root, upstream port) rewritten.
"""

from __future__ import annotations

import configparser
import gzip
import http.client
import ipaddress
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.__main__ import build_parser as collector_parser
from generator.__main__ import build_parser as generator_parser
from installdata.config import load_config
from support import REPO_ROOT
from support.collector_process import stop_process
from support.files import payload
from support.web import unused_port

DEPLOY = REPO_ROOT / "deploy"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
UNITS = sorted(DEPLOY.glob("*.service")) + sorted(DEPLOY.glob("*.timer"))
APP_HOME = "/srv/installation-results"
SITE_ROOT = "/var/lib/installation-results/site"

needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed")


def read_unit(path: Path) -> configparser.ConfigParser:
    """A unit file as sections of keys; repeated keys (SystemCallFilter=) keep the last."""
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive in systemd
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def example_config():
    return load_config(DEPLOY / "config.example.yaml", environ={})


# --- the files agree with each other ---------------------------------------------------------


def test_example_config_loads_and_trusts_the_address_nginx_proxies_from() -> None:
    config = example_config()
    nginx_conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    upstream = re.search(r"upstream installation_collector \{[^}]*?server ([\d.]+):(\d+);",
                         nginx_conf)  # fmt: skip
    assert upstream, "no upstream server in deploy/nginx.conf"
    proxy_address = ipaddress.ip_address(upstream.group(1))

    assert any(proxy_address in network for network in config.collector.trusted_proxies)
    assert (config.collector.host, config.collector.port) == (upstream.group(1), int(upstream[2]))
    body_limit = re.search(r"client_max_body_size (\d+)k;", nginx_conf)
    assert int(body_limit.group(1)) * 1024 == config.collector.max_body_bytes
    assert f"root {config.generator.site_dir};" in nginx_conf
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in nginx_conf
    assert "$proxy_add_x_forwarded_for" not in nginx_conf  # appending would let clients spoof


def test_units_run_the_real_commands_on_the_example_layout() -> None:
    config = example_config()
    for name, parser in [("installation-collector.service", collector_parser()),
                         ("installation-report.service", generator_parser()),
                         ("installation-watch.service", generator_parser()),
                         ("installation-prune.service", collector_parser())]:  # fmt: skip
        service = read_unit(DEPLOY / name)["Service"]
        argv = shlex.split(service["ExecStart"])
        assert argv[:2] == [f"{APP_HOME}/.venv/bin/python", "-m"], name
        args = parser.parse_args(argv[3:])  # exits (fails the test) on an unknown option
        assert args.config == Path("/etc/installation-results/config.yaml"), name
        assert service["User"] == "installation-results"
        assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"

    collector = read_unit(DEPLOY / "installation-collector.service")["Service"]
    assert collector["ReadWritePaths"] == str(config.collector.submissions_dir)
    assert config.collector.id_secret_file.parent == config.collector.submissions_dir
    assert config.collector.id_secret_file.name.startswith(".")  # readers skip it
    assert collector["Restart"] == "on-failure" and collector["KillSignal"] == "SIGTERM"
    assert collector["EnvironmentFile"] == "/etc/installation-results/collector.env"
    prune = read_unit(DEPLOY / "installation-prune.service")["Service"]
    assert prune["ReadWritePaths"].split() == [
        str(config.collector.submissions_dir),
        f"-{config.generator.cache_dir}",  # prune clears the cache of what it deleted
    ]
    for name in ("installation-report.service", "installation-watch.service"):
        report = read_unit(DEPLOY / name)["Service"]
        assert report["ReadWritePaths"] == str(config.generator.site_dir.parent), name
        assert report["ReadOnlyPaths"] == str(config.generator.submissions_dir), name
    watch = read_unit(DEPLOY / "installation-watch.service")["Service"]
    assert watch["KillMode"] == "mixed" and watch["KillSignal"] == "SIGTERM"
    for timer in ("installation-report.timer", "installation-prune.timer"):
        section = read_unit(DEPLOY / timer)["Timer"]
        assert section["Persistent"] == "true" and section["RandomizedDelaySec"]
        assert (DEPLOY / section["Unit"]).is_file()


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path) -> None:
    # ExecStart must name an existing executable: point the units at this checkout's venv.
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8").replace(APP_HOME, str(REPO_ROOT))
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    assert (REPO_ROOT / ".venv" / "bin" / "python").exists()

    done = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *[str(tmp_path / u.name) for u in UNITS]],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr  # warnings (unknown keys...) count too


# --- nginx -------------------------------------------------------------------------------------


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"deploy/nginx.conf no longer has exactly one {old!r}"
    return text.replace(old, new)


def nginx_wrapper(tmp_path: Path, port: int, upstream_port: int) -> Path:
    """A complete nginx.conf in tmp_path around deploy/nginx.conf; returns its path."""
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    server = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    server = replace_once(server, "listen 80;", f"listen 127.0.0.1:{port};")
    server = replace_once(server, "listen [::]:80;", "")
    server = replace_once(server, "server 127.0.0.1:8080;", f"server 127.0.0.1:{upstream_port};")
    server = replace_once(server, f"root {SITE_ROOT};", f"root {site};")
    (tmp_path / "site.conf").write_text(server, encoding="utf-8")
    temp = "\n".join(f"  {kind}_temp_path {tmp_path}/{kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))  # fmt: skip
    wrapper = tmp_path / "nginx.conf"
    wrapper.write_text(
        ("user root;\n" if _running_as_root() else "")
        + f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\ndaemon off;\n"
        + "events { worker_connections 64; }\n"
        + "http {\n  include /etc/nginx/mime.types;\n"
        + f"  access_log {tmp_path}/access.log;\n{temp}\n"
        + f"  include {tmp_path}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    return wrapper


def _running_as_root() -> bool:
    """As root, nginx's workers would drop to "nobody", who cannot read pytest's tmp folders."""
    return os.geteuid() == 0


def nginx_command(wrapper: Path, *extra: str) -> list[str]:
    return [NGINX, "-p", str(wrapper.parent), "-e", str(wrapper.parent / "error.log"),
            "-c", str(wrapper), *extra]  # fmt: skip


@needs_nginx
def test_nginx_accepts_the_config(tmp_path: Path) -> None:
    wrapper = nginx_wrapper(tmp_path, unused_port(), 8080)
    done = subprocess.run(nginx_command(wrapper, "-t"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr
    assert "[warn]" not in done.stderr, done.stderr


def start_nginx(tmp_path: Path, upstream_port: int) -> tuple[subprocess.Popen, int]:
    port = unused_port()
    wrapper = nginx_wrapper(tmp_path, port, upstream_port)
    process = subprocess.Popen(nginx_command(wrapper), stdout=subprocess.DEVNULL,
                               stderr=(tmp_path / "nginx.stderr").open("wb"))  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    stop_process(process)
    pytest.fail("nginx did not start: " + (tmp_path / "error.log").read_text(errors="replace"))


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator:
    """``nginx(upstream_port) -> port``: a real nginx on loopback, stopped at teardown."""
    started = []

    def start(upstream_port: int) -> int:
        process, port = start_nginx(tmp_path, upstream_port)
        started.append(process)
        return port

    yield start
    for process in started:
        stop_process(process)


def call(port: int, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None, source: str = "127.0.0.1"):  # fmt: skip
    """One request from the loopback address ``source``; returns (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def submission(key: str, forwarded_for: str | None = None) -> dict:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    return headers


def wait_for_log(running, text: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while text not in running.logs() and time.monotonic() < deadline:
        time.sleep(0.05)
    return running.logs()


BODY = json.dumps(payload(successful=[])).encode()


@needs_nginx
@pytest.mark.slow
def test_spoofed_forwarded_for_cannot_pick_a_rate_limit_bucket(start_collector, nginx) -> None:
    running = start_collector(rate_limit={"requests": 2}, trusted_proxies=["127.0.0.1"])
    port = nginx(int(running.url.rsplit(":", 1)[1]))
    spoof = "203.0.113.9"

    # Client A (127.0.0.2) uses up its two requests, each time claiming another address.
    for attempt in range(2):
        headers = submission(running.key, forwarded_for=f"{spoof}, 198.51.100.{attempt}")
        status, answer, _ = call(port, "POST", "/installation_data/", BODY, headers, "127.0.0.2")
        assert status == 200
        assert answer["X-RateLimit-Remaining"] == str(1 - attempt)
    status, answer, _ = call(port, "POST", "/installation_data/", BODY,
                             submission(running.key, forwarded_for=spoof), "127.0.0.2")  # fmt: skip
    assert status == 429 and answer["Retry-After"]

    # Client B (127.0.0.3) behind the same proxy has a bucket of its own: the collector
    # honours the address nginx saw.
    status, answer, _ = call(port, "POST", "/api/v1/submissions", BODY,
                             submission(running.key), "127.0.0.3")  # fmt: skip
    assert status == 200 and answer["X-RateLimit-Remaining"] == "1", (
        "the collector put every client in the proxy's bucket: waitress drops X-Forwarded-For "
        "from untrusted peers unless create_server(clear_untrusted_proxy_headers=False)\n"
        + running.logs()
    )

    # The access log names the real clients (its line is written just after the response).
    logs = wait_for_log(running, "127.0.0.3 POST /api/v1/submissions")
    assert "127.0.0.2 POST /installation_data/" in logs
    assert spoof not in logs


@needs_nginx
@pytest.mark.slow
def test_nginx_serves_the_site_and_answers_in_json_for_the_collector(tmp_path, nginx) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>report</title>", encoding="utf-8")
    (site / "index.json").write_text(json.dumps({"rows": ["x" * 40] * 100}), encoding="utf-8")
    (site / "chart.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>", "utf-8")
    port = nginx(unused_port())  # nothing listens upstream: the collector is "down"

    status, headers, _ = call(port, "GET", "/")
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=300"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert call(port, "GET", "/chart.svg")[1]["Cache-Control"] == "public, max-age=86400"
    status, headers, raw = call(port, "GET", "/index.json", headers={"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(raw))["rows"][0] == "x" * 40

    status, headers, raw = call(port, "POST", "/installation_data/", BODY,
                                {"Content-Type": "application/json"})  # fmt: skip
    assert status == 503 and headers["Retry-After"] == "60"
    assert json.loads(raw)["error"]["status"] == 503
    status, headers, raw = call(port, "POST", "/api/v1/submissions", b"x" * 300_000,
                                {"Content-Type": "application/json"})  # fmt: skip
    assert status == 413
    assert json.loads(raw)["error"]["status"] == 413


SECURITY_HEADERS = (
    "X-Content-Type-Options",
    "Referrer-Policy",
    "X-Frame-Options",
    "Content-Security-Policy",
    "Permissions-Policy",
)


@needs_nginx
@pytest.mark.slow
def test_nginx_own_error_answers_carry_the_security_headers(tmp_path, nginx) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<!doctype html><title>r</title>", "utf-8")
    port = nginx(unused_port())  # nothing listens upstream: the collector is "down"
    _, page, _ = call(port, "GET", "/")
    expected = {name: page[name] for name in SECURITY_HEADERS}
    assert all(expected.values()), expected

    unavailable = call(port, "POST", "/installation_data/", BODY,
                       {"Content-Type": "application/json"})  # fmt: skip
    too_large = call(port, "POST", "/api/v1/submissions", b"x" * 300_000,
                     {"Content-Type": "application/json"})  # fmt: skip
    for status, headers, _ in (unavailable, too_large):
        assert {name: headers[name] for name in SECURITY_HEADERS} == expected, status
    assert unavailable[0] == 503 and unavailable[1]["Retry-After"] == "60"
    assert unavailable[1]["Cache-Control"] == "no-store"
    assert too_large[0] == 413
