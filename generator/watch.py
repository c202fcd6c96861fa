"""``python -m generator watch``: rebuild the site within seconds of new submissions arriving.

The watcher looks at the submissions folder every ``interval`` seconds (folder_state.py:
one stat per folder, no file read). Once it has changed and then been quiet for
``QUIET_SECONDS`` (a workshop room submits in bursts), or ``MAX_DELAY_SECONDS`` after the
first change however busy it stays, it runs one build: ``python -m generator build`` in a
fresh process, whose summary and errors go to stderr as they would from cron. A process of
its own per build gives back its memory when it ends, and a build that crashes or is killed
for memory cannot take the watcher with it. One build runs at a time; what arrives meanwhile
is seen at the next look, since the state compared is the one from before the build.

A failed build has left the site as it was (generator/publish.py); the watcher says so and
tries again at the next change, or after a back-off (``RETRY_SECONDS``, doubling up to
``RETRY_MAX_SECONDS``) if nothing changes. SIGTERM or SIGINT stops it: a build in progress
is abandoned (killed with its worker processes, which publishing is made to survive: the
published site is the old one or the new one, whole), its staging folder removed, exit 0.

Polling rather than inotify: it needs no watch per folder (nor a raised
``fs.inotify.max_user_watches``), loses nothing when an event queue overflows or a new day
folder is created between two events, works on network file systems where inotify sees
nothing of other machines' writes, and a look at years of day folders costs about a
millisecond.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from generator.folder_state import State, look
from generator.publish import remove_leftovers
from installdata.config import GeneratorConfig
from installdata.printing import shown

QUIET_SECONDS = 1.0
"""A build starts once the folder has been unchanged this long..."""

MAX_DELAY_SECONDS = 10.0
"""...or this long after the first change seen, if files keep arriving."""

RETRY_SECONDS = 2.0
"""After a failed build, the next try comes at the next change or this much later..."""

RETRY_MAX_SECONDS = 300.0
"""...doubling after each further failure up to this."""

TICK_SECONDS = 0.1
"""How often a waiting watcher checks whether it was told to stop."""


class Watcher:
    """Runs ``command`` (one build) whenever ``submissions_dir`` changed; see the module."""

    def __init__(
        self, command: list[str], submissions_dir: Path, site_dir: Path, interval: float
    ) -> None:
        self.command = command
        self.root = os.fspath(submissions_dir)
        self.site_dir = site_dir.resolve()
        self.interval = interval
        self.stopping = False

    def stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> int:
        """Build now, then at every change, until SIGTERM or SIGINT; exit status 0."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.stop)
        print(f"watch: watching {shown(self.root)} every {self.interval:g} s", file=sys.stderr)
        state: State = look(self.root, {})
        first_change: float | None = time.monotonic()  # build once at the start
        last_change = retry_at = 0.0
        failures = 0
        while not self.stopping:
            now = time.monotonic()
            if (
                first_change is not None
                and now >= retry_at
                and (now - last_change >= QUIET_SECONDS or now - first_change >= MAX_DELAY_SECONDS)
            ):
                status = self._build()
                if status is None:
                    break
                if status == 0:
                    first_change, failures = None, 0
                else:
                    delay = min(RETRY_SECONDS * 2**failures, RETRY_MAX_SECONDS)
                    failures += 1
                    retry_at = time.monotonic() + delay
                    print(
                        f"watch: the build failed (exit status {status}), the published site "
                        f"is unchanged; trying again at the next change or in {delay:g} s",
                        file=sys.stderr,
                    )
            if not self._sleep(self.interval):
                break
            now_state = look(self.root, state)
            if now_state != state:
                state, last_change, retry_at = now_state, time.monotonic(), 0.0
                if first_change is None:
                    first_change = last_change
        print("watch: stopped", file=sys.stderr)
        return 0

    def _sleep(self, seconds: float) -> bool:
        """Wait ``seconds``; False (at once) if told to stop."""
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(TICK_SECONDS, max(deadline - time.monotonic(), 0)))
        return not self.stopping

    def _build(self) -> int | None:
        """Run one build to its end: its exit status, or None if told to stop meanwhile."""
        # A session of its own: a Ctrl-C at the terminal reaches the watcher only, and the
        # build's worker processes share its process group, so one signal ends them all.
        build = subprocess.Popen(self.command, start_new_session=True)
        while True:
            try:
                return build.wait(TICK_SECONDS)
            except subprocess.TimeoutExpired:
                if self.stopping:
                    break
        os.killpg(build.pid, signal.SIGKILL)
        build.wait()
        # Its staging (or old) folder, now provably a leftover. (Not waited for: its workers,
        # killed at the same moment, whose last file could make this fail; the next build
        # removes what is left, as after any killed build.)
        remove_leftovers(self.site_dir)
        return None


def watch_command(
    config_path: Path,
    config: GeneratorConfig,
    *,
    submissions_dir: Path | None,
    site_dir: Path | None,
    interval: float,
) -> int:
    """``python -m generator watch``: every build is given the watcher's own options."""
    command = [sys.executable, "-m", "generator", "build", "--config", os.fspath(config_path)]
    if submissions_dir is not None:
        command += ["--submissions", os.fspath(submissions_dir)]
    if site_dir is not None:
        command += ["--site", os.fspath(site_dir)]
    watched = submissions_dir or config.submissions_dir
    return Watcher(command, watched, site_dir or config.site_dir, interval).run()
