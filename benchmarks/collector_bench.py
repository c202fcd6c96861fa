"""How fast does the collector accept durable submissions, against the most this machine allows?

    .venv/bin/python benchmarks/collector_bench.py [--requests 6000] [--concurrency 32]
        [--prefill 100000] [--rounds 10] [--threads 32] [--dir D]

It starts four servers, each its own process on loopback, each served by the collector's own
``serve`` (same waitress settings, thread count, event loop and logging setup):

1. the *floor*: a bare Bottle app that stores each body with the very system calls of
   ``installdata/storage.py`` (temp file in ``.tmp/``, write, fsync, close, link into the
   day folder, unlink, fsync the day folder) and does nothing else (no parsing, no
   validation, no rate limit, no log line): the most a Python service storing submissions
   as durably as the collector can do here. The collector is measured against this one;
2. the same floor with one fsync per body and no temp file or folder fsync, the cheaper
   floor of earlier measurements, to show what the durable procedure itself costs;
3. the real collector (``python -m collector serve``, rate limit out of the way) on an empty
   submissions folder;
4. the collector again with ``--prefill`` files already in today's folder, created directly
   on disk, to show that a save costs the same however many files are stored.

They take turns (``--rounds``, order rotated each round): each turn is ``--requests /
--rounds`` POSTs of realistic bodies (15 successful and 0-3 failed installs, 1.2-3.9 KB)
from ``--concurrency`` threads, each with its own keep-alive connection. A server's rate is
its best turn: on a shared machine a neighbour's burst of work slows a turn and never
speeds one up, and the servers alternate, so the best turns of each were run under the
least disturbance. It prints that rate with the p50 and p99 latency of the same turn, the
range of rates over all turns and the p99 over all turns, the server process's CPU time
per POST, the block device's writes and cache flushes per POST, the collector/floor ratio
of the best turns (target >= 0.8, with p99 < 100 ms) with the range and median of the
ratios of turns run in the same round, what the durable procedure costs against one fsync,
and the flatness ratio; it checks that every accepted submission is really on disk. A
script that prints figures, not a test: they depend on the machine and on what else runs.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
LISTENING = re.compile(r"listening on http://([\d.]+):(\d+)")
SUBMIT_PATH = "/installation_data/"
START_TIMEOUT = 60
WARMUP_PER_CONNECTION = 2

PACKAGES = [
    ("Bash (bash)", "5.2.15"),
    ("Git (git)", "2.39.2"),
    ("Text editor (nano)", "7.2"),
    ("Python (python)", "3.11.6"),
    ("IPython (ipython)", "8.18.1"),
    ("Jupyter Notebook (jupyter-notebook)", "7.0.6"),
    ("NumPy (numpy)", "1.26.2"),
    ("Pandas (pandas)", "2.1.4"),
    ("Matplotlib (matplotlib)", "3.8.2"),
    ("SciPy (scipy)", "1.11.4"),
    ("SQLite3 (sqlite3)", "3.40.1"),
    ("Make (make)", "4.3"),
    ("Nose (nose)", "1.3.7"),
    ("EasyMercurial (hg)", "6.3.2"),
    ("R (R)", "4.3.2"),
    ("RStudio (rstudio)", "2023.12.0"),
    ("Firefox (firefox)", "120.0.1"),
    ("OpenRefine (openrefine)", "3.7.7"),
]


# --- load -------------------------------------------------------------------------------


def make_body(rng: random.Random) -> bytes:
    """One realistic submission body of about 2-4 KB."""
    installed = rng.sample(PACKAGES, 15)
    failed = rng.sample([p for p in PACKAGES if p not in installed], rng.randint(0, 3))
    body = {
        "user_system_info": {
            "distribution_name": "Ubuntu",
            "distribution_version": "22.04",
            "system": "Linux",
            "system_version": "#91-Ubuntu SMP Mon Nov 20 15:09:52 UTC 2023",
            "machine": "x86_64",
            "system_platform": "Linux-5.15.0-91-generic-x86_64-with-glibc2.35",
            "python_version": rng.choice(["3.10.12", "3.11.6", "3.12.1"]),
            "workshop_id": f"2026-05-{rng.randint(1, 28):02d}-somewhere",
            "email_id": f"learner{rng.randint(1, 10**6)}@example.org",
        },
        "successful_installs": [{"name": n, "version": v} for n, v in installed],
        "failed_installs": [
            {"name": n, "version": "unknown", "error_description": failure(n)} for n, _ in failed
        ],
        "unique_user_id": None,
    }
    return json.dumps(body).encode("utf-8")


def failure(name: str) -> str:
    """An error description as the installer scripts write it (about 800 characters)."""
    command = name.rsplit("(", 1)[-1].rstrip(")")
    cause = (
        f"  command not found: {command} (searched /usr/local/sbin:/usr/local/bin:/usr/sbin:"
        f"/usr/bin:/sbin:/bin:/usr/games:/usr/local/games:/snap/bin)\n"
    )
    return (
        f"check for {name} failed:\n"
        f"  could not find '{command}' executable for {command}\n"
        "  For instructions on installing an up-to-date version, see\n"
        "  https://carpentries.github.io/workshop-template/#setup\n"
        "  causes:\n" + cause * 4
    )


@dataclass
class Result:
    """One round against one server."""

    name: str
    accepted: int
    failed: int
    seconds: float
    latencies: list[float]  # seconds, accepted requests only
    disk: DiskCounts = field(default_factory=lambda: DiskCounts(0, 0))
    cpu_seconds: float = 0.0  # the server process's, user and system

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0


@dataclass
class Summary:
    """All turns against one server: the best one, every latency, disk and CPU work per POST."""

    name: str
    rates: list[float]  # per turn, in the order run
    best: list[float]  # the latencies of the best turn
    failed: int
    latencies: list[float]  # of every turn
    writes_per_post: float
    flushes_per_post: float
    cpu_ms_per_post: float

    @property
    def rate(self) -> float:
        """The best turn: a neighbour's burst of load slows a turn, never speeds one up."""
        return max(self.rates, default=0.0)


def percentile_ms(latencies: list[float], fraction: float) -> float:
    if len(latencies) < 2:
        return float("nan")
    cuts = statistics.quantiles(latencies, n=1000, method="inclusive")
    return cuts[round(fraction * 1000) - 1] * 1000


def drive(name: str, port: int, key: str | None, requests: int, concurrency: int) -> Result:
    """POST ``requests`` bodies over ``concurrency`` keep-alive connections; time them."""
    rng = random.Random(42)
    bodies = [make_body(rng) for _ in range(256)]
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    tickets = itertools.count()  # next() on a count is atomic under the GIL
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    failures = [0] * concurrency
    ready = threading.Barrier(concurrency + 1)

    def post(connection: http.client.HTTPConnection, body: bytes) -> int:
        """One POST; 0 for a broken connection (then reopened by the next request)."""
        try:
            connection.request("POST", SUBMIT_PATH, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            connection.close()
            return 0

    def worker(slot: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for number in range(WARMUP_PER_CONNECTION):
            post(connection, bodies[(slot + number) % len(bodies)])
        ready.wait()
        while (ticket := next(tickets)) < requests:
            started = time.perf_counter()
            if post(connection, bodies[ticket % len(bodies)]) == 200:
                latencies[slot].append(time.perf_counter() - started)
            else:
                failures[slot] += 1
        connection.close()

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(concurrency)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    flat = [value for per_thread in latencies for value in per_thread]
    return Result(name, len(flat), sum(failures), seconds, flat)


# --- servers ----------------------------------------------------------------------------


def start_server(command: list[str], log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start a server that prints 'listening on http://HOST:PORT'; return it and its port."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO_ROOT))
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        match = LISTENING.search(log.read_text(errors="replace"))
        if match:
            return process, int(match.group(2))
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    raise SystemExit(f"server did not start: {' '.join(command)}\n{log.read_text()}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_floor(config_path: Path, durable: bool) -> None:
    """A floor server (run in a child process): store each body as a new file, and no more.

    It is served by the collector's own ``serve`` (the same waitress settings, thread count,
    event loop and logging setup, read from the same kind of config), with only the WSGI app
    swapped, so the difference to the collector is the collector's request path alone.
    ``durable`` makes the system calls of ``installdata/storage.py``'s save one for one:
    create a temp file in ``.tmp/``, write, fsync, close, link it to its final name in the
    day folder, unlink the temp name, fsync the day folder. Without it: one new file, written
    and fsynced in place (the earlier, cheaper floor, which skips the folder fsync).
    """
    import bottle

    from collector import server
    from installdata.config import load_config
    from installdata.storage import fsync_dir  # the folder fsync, nothing more

    config = load_config(config_path)
    folder = config.collector.submissions_dir
    tmp_dir = folder / ".tmp"
    day_dir = folder / datetime.now(timezone.utc).strftime("%Y-%m-%d")
    for made in (tmp_dir, day_dir):
        made.mkdir(parents=True, exist_ok=True)
    fsync_dir(folder)  # as the collector's first save of a day does
    app = bottle.Bottle()

    @app.post(SUBMIT_PATH)
    def store() -> dict[str, str]:
        body = bottle.request.body.read()
        name = secrets.token_hex(12)
        final = day_dir / f"{name}.json"
        temp = tmp_dir / f"{name}.tmp" if durable else final
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o640)
        try:
            os.write(fd, body)
            os.fsync(fd)
        finally:
            os.close(fd)
        if durable:
            os.link(temp, final)
            os.unlink(temp)
            fsync_dir(day_dir)
        return {"submission_id": name}

    server.build_wsgi_app = lambda _settings: app  # the one part swapped (see above)
    sys.exit(server.serve(config, host=None, port=None))


@dataclass
class Target:
    """A running server under test and what was measured on it so far."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    key: str | None
    folder: Path  # where its files land
    files_before: int
    rounds: list[Result] = field(default_factory=list)


def write_config(workdir: Path, name: str, args: argparse.Namespace) -> tuple[Path, str]:
    """A config for one server of the run (its own folder); return its path and its key."""
    key = "bench-" + secrets.token_urlsafe(16)
    config = {
        "collector": {
            "host": "127.0.0.1",
            "port": 0,
            "submissions_dir": str(workdir / f"submissions-{name}"),
            "id_secret_file": str(workdir / "id-secret"),
            "keys": {"bench": key},
            "rate_limit": {"requests": 10**9, "per_seconds": 1},
            "threads": args.threads,
        }
    }
    config_path = workdir / f"config-{name}.yaml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return config_path, key


def start_floor(workdir: Path, args: argparse.Namespace, durable: bool) -> Target:
    name = "durable-floor" if durable else "floor"
    config_path, _key = write_config(workdir, name, args)
    kind = "durable" if durable else "plain"
    command = [sys.executable, __file__, "_floor", str(config_path), kind]
    process, port = start_server(command, workdir / f"{name}.log")
    label = "floor: storage's system calls" if durable else "floor: one fsync per body"
    return Target(label, process, port, None, workdir / f"submissions-{name}", 0)


def start_collector(workdir: Path, args: argparse.Namespace, prefill: int) -> Target:
    config_path, key = write_config(workdir, str(prefill), args)
    submissions = workdir / f"submissions-{prefill}"
    if prefill:
        made = time.perf_counter()
        prefill_today(submissions, prefill)
        os.sync()  # else the first fsyncs measured would flush the prefill's dirty pages
        print(f"  (created {prefill} files in {time.perf_counter() - made:.1f} s)", flush=True)
    command = [sys.executable, "-m", "collector", "serve", "--config", str(config_path)]
    started = time.perf_counter()
    process, port = start_server(command, workdir / f"collector-{prefill}.log")
    print(f"  (collector started in {time.perf_counter() - started:.2f} s)", flush=True)
    name = f"collector, {prefill} files stored" if prefill else "collector"
    return Target(name, process, port, key, submissions, prefill)


def prefill_today(submissions: Path, count: int) -> None:
    """Put ``count`` small submission files into today's folder, straight onto the disk."""
    today = submissions / datetime.now(timezone.utc).strftime("%Y-%m-%d")
    today.mkdir(parents=True, exist_ok=True)
    template = '{"schema_version": 1, "submission_id": "%s", "received_at": "%sT00:00:00Z"}\n'
    for number in range(count):
        submission_id = f"prefill-{number:09d}"
        (today / f"{submission_id}.json").write_text(template % (submission_id, today.name))


def count_files(folder: Path) -> int:
    """Files a reader would see: ``*.json`` below ``folder``, skipping dot-folders."""
    count = 0
    for _folder, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith(".")]
        count += sum(1 for name in files if name.endswith(".json"))
    return count


def check_stored(target: Target, concurrency: int) -> None:
    """Warn unless every accepted POST left exactly one file (warm-up requests included)."""
    accepted = sum(r.accepted for r in target.rounds)
    warmups = len(target.rounds) * concurrency * WARMUP_PER_CONNECTION
    stored = count_files(target.folder) - target.files_before - warmups
    if stored != accepted:
        print(f"  WARNING: {target.name}: {accepted} accepted but {stored} files stored")


# --- report -----------------------------------------------------------------------------


def filesystem_of(path: Path) -> str:
    """The file system type holding ``path`` (fsync costs differ wildly between them)."""
    best, kind = "", "unknown"
    for line in Path("/proc/mounts").read_text().splitlines():
        _device, mount_point, fs_type, *_ = line.split()
        if str(path).startswith(mount_point) and len(mount_point) > len(best):
            best, kind = mount_point, fs_type
    return kind


@dataclass(frozen=True)
class DiskCounts:
    """Write requests and cache flushes the block device has completed (Linux diskstats)."""

    writes: int
    flushes: int

    def __sub__(self, other: DiskCounts) -> DiskCounts:
        return DiskCounts(self.writes - other.writes, self.flushes - other.flushes)


def disk_counts(path: Path) -> DiskCounts:
    """The counters of the device holding ``path``; zeros where Linux does not show them.

    The durability cost is in these: each fsync ends in a flush of the disk's cache, and
    the collector's two fsyncs per submission against the floor's one show up here.
    """
    device = os.stat(path).st_dev
    stat = Path(f"/sys/dev/block/{os.major(device)}:{os.minor(device)}/stat")
    try:
        fields = [int(value) for value in stat.read_text().split()]
    except (OSError, ValueError):
        return DiskCounts(0, 0)
    flushes = fields[15] if len(fields) > 15 else 0  # kernel 5.5+
    return DiskCounts(writes=fields[4], flushes=flushes)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux); 0 where it cannot be read.

    Less disturbed by other load than the rate: it shows what each POST costs the server.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summarise(target: Target) -> Summary:
    posts = sum(r.accepted + r.failed for r in target.rounds) or 1
    return Summary(
        name=target.name,
        rates=[r.rate for r in target.rounds],
        best=max(target.rounds, key=lambda r: r.rate).latencies,
        failed=sum(r.failed for r in target.rounds),
        latencies=[value for r in target.rounds for value in r.latencies],
        writes_per_post=sum(r.disk.writes for r in target.rounds) / posts,
        flushes_per_post=sum(r.disk.flushes for r in target.rounds) / posts,
        cpu_ms_per_post=sum(r.cpu_seconds for r in target.rounds) / posts * 1000,
    )


def report(floor: Summary, plain_floor: Summary, plain: Summary, full: Summary | None) -> None:
    print()
    print(
        f"{'run':<34} {'best/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'turns/s':>11} {'p99 all':>7}"
        f" {'refused':>7} {'CPU ms/POST':>11} {'writes/POST':>11} {'flushes/POST':>12}"
    )
    for r in filter(None, (floor, plain_floor, plain, full)):
        p50, p99 = percentile_ms(r.best, 0.5), percentile_ms(r.best, 0.99)
        spread = f"{min(r.rates):.0f}-{max(r.rates):.0f}"
        print(
            f"{r.name:<34} {r.rate:>7.0f} {p50:>7.1f} {p99:>7.1f} {spread:>11}"
            f" {percentile_ms(r.latencies, 0.99):>7.1f} {r.failed:>7}"
            f" {r.cpu_ms_per_post:>11.2f} {r.writes_per_post:>11.2f} {r.flushes_per_post:>12.2f}"
        )
    print()
    ratio = plain.rate / floor.rate if floor.rate else float("nan")
    # each round's collector turn against the floor's turn of the same round
    per_round = sorted(c / f for c, f in zip(plain.rates, floor.rates, strict=True) if f)
    p99 = percentile_ms(plain.best, 0.99)
    verdict = "ok" if ratio >= 0.8 and p99 < 100 else "BELOW TARGET"
    print(
        f"collector / floor with storage's system calls: {ratio:.2f} (best turns; per round "
        f"{per_round[0]:.2f}-{per_round[-1]:.2f}, median {statistics.median(per_round):.2f}); "
        f"p99 {p99:.0f} ms (target >= 0.80, p99 < 100 ms): {verdict}"
    )
    print(
        f"floor with storage's system calls / floor with one fsync: "
        f"{floor.rate / plain_floor.rate:.2f} (what the temp file, link and folder fsync cost)"
    )
    print(
        "(best/s, p50 and p99: the best turn; p99 all: every turn; CPU: the server process's "
        "user and system time, warm-up requests included; writes and flushes: the disk's own "
        "counters while each server ran, so they include whatever else wrote then)"
    )
    if full is not None:
        print(f"flatness, {full.name} / empty: {full.rate / plain.rate:.2f} (target ~1.0)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=6000, help="POSTs per server")
    parser.add_argument("--concurrency", type=int, default=32, help="client connections")
    parser.add_argument("--threads", type=int, default=32, help="server worker threads")
    parser.add_argument(
        "--prefill", type=int, default=100_000, help="files stored for the flatness run (0: skip)"
    )
    parser.add_argument(
        "--rounds", type=int, default=10, help="take turns this often; the best turn counts"
    )
    parser.add_argument("--dir", type=Path, help="work folder (default: a new temp folder)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="collector-bench-", dir=args.dir) as tmp:
        workdir = Path(tmp)
        print(
            f"{args.requests} requests in {args.rounds} rounds, {args.concurrency} connections, "
            f"{args.threads} server threads, {os.cpu_count()} CPUs, "
            f"{filesystem_of(workdir)} at {workdir}",
            flush=True,
        )
        targets: list[Target] = []
        try:
            targets.append(start_floor(workdir, args, durable=True))
            targets.append(start_floor(workdir, args, durable=False))
            targets.append(start_collector(workdir, args, prefill=0))
            if args.prefill:
                targets.append(start_collector(workdir, args, prefill=args.prefill))
            per_round = max(1, args.requests // args.rounds)
            for number in range(args.rounds):
                # Idle servers cost nothing; taking turns spreads other load on a shared
                # machine evenly over all of them, and rotating the order removes any bias.
                for target in targets[number % len(targets) :] + targets[: number % len(targets)]:
                    before, cpu_before = disk_counts(workdir), cpu_seconds(target.process.pid)
                    result = drive(
                        target.name, target.port, target.key, per_round, args.concurrency
                    )
                    result.disk = disk_counts(workdir) - before
                    result.cpu_seconds = cpu_seconds(target.process.pid) - cpu_before
                    target.rounds.append(result)
        finally:
            for target in targets:
                stop_server(target.process)
        for target in targets:
            check_stored(target, args.concurrency)
        summaries = [summarise(target) for target in targets]
        report(*summaries[:3], summaries[3] if len(summaries) > 3 else None)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["_floor"]:  # the child process started by start_floor
        run_floor(Path(sys.argv[2]), durable=sys.argv[3] == "durable")
    else:
        sys.exit(main())
