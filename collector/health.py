"""Is the disk taking submissions? The answer ``/healthz`` gives, cheap and honest.

Honest: the probe writes as much as the largest body the collector accepts
(``collector.max_body_bytes``), so a disk with room for a small file but not for a large
submission is reported, not discovered by the next installer. Cheap: the disk is probed at
most once every ``PROBE_SECONDS``, however often ``/healthz`` is called (a flood of it costs no
more than one of ``GET /``), and in between the last answer stands, unless a save says
otherwise: a failed save makes the answer "no" at once, and a save that succeeds after a
failure lets the next ``/healthz`` probe again.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from installdata.storage import StorageError, SubmissionExistsError, SubmissionStore

PROBE_SECONDS = 5.0  # the longest a /healthz answer is reused


class WatchedStore:
    """A ``SubmissionStore`` that remembers what its disk last said, for ``/healthz``."""

    def __init__(
        self,
        store: SubmissionStore,
        probe_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.probe_bytes = probe_bytes
        self._clock = clock
        self._lock = threading.Lock()  # one probe at a time; the others wait for its answer
        self._writable = True
        self._known_at = -math.inf  # no answer yet: the first call probes

    def save(self, record: Mapping[str, Any]) -> Path:
        """``SubmissionStore.save``, noting a failure (or the end of one) for ``/healthz``."""
        try:
            path = self.store.save(record)
        except SubmissionExistsError:
            raise  # a clash of ids, not news about the disk
        except StorageError:
            with self._lock:
                self._writable, self._known_at = False, self._clock()
            raise
        if not self._writable:  # a read without the lock: at worst one probe more
            with self._lock:
                self._known_at = -math.inf
        return path

    def is_writable(self) -> bool:
        """Could the largest acceptable submission be stored now? At most one probe a while."""
        with self._lock:
            now = self._clock()
            if now - self._known_at >= PROBE_SECONDS:
                self._writable = self.store.is_writable(self.probe_bytes)
                self._known_at = now
            return self._writable
