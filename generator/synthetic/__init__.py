"""Realistic synthetic installation-test results, for the demo, tests and benchmarks.

The data imitates what the Software Carpentry installation test script reports: people on
Windows, macOS and Linux (system fields as Python's ``platform`` module spells them), in
workshops or on their own, checking 15-25 tools and packages. Failures depend on the
operating system (``make`` is rarely on Windows, macOS lacks the command line tools), and
error texts carry paths, user names and numbers, so the report's error grouping has real
work to do. About a third of people run the script again, usually after fixing something.

Everything is drawn from one ``random.Random(seed)``: the same seed and ``end`` give the
same data. Times lie in the two years before ``end`` (default: the start of today, UTC),
busier towards the end.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import orjson

from generator.synthetic.hosts import install_test_payload
from generator.synthetic.learners import Attempt, Payload, Person, Workshops, draw_person
from installdata.record import Record, make_record

__all__ = ["KEY_NAME", "Attempt", "Payload", "Person", "iter_people", "iter_records", "write_files"]

KEY_NAME = "synthetic"


def iter_people(count: int, seed: int = 0, end: datetime | None = None) -> Iterator[Person]:
    """Yield ``count`` people, each with 1-3 attempts in time order."""
    rng = random.Random(seed)
    end = _day_start(end)
    workshops = Workshops(rng, end, max(1, count // 25))
    for _ in range(count):
        yield draw_person(rng, workshops, end)


def iter_records(
    count: int,
    seed: int = 0,
    end: datetime | None = None,
    install_test_from: datetime | None = None,
) -> Iterator[Record]:
    """Yield ``count`` complete file-drop records (docs/file-format.md), one per attempt.

    ``install_test_from``: attempts from then on are what the installation test sends
    (``hosts.install_test_payload``: its check names and messages), the earlier ones what the
    Software Carpentry scripts sent, as for a deployment that switched scripts that day.
    """
    # ids come from a stream of their own, so payloads are the same as iter_people's
    rng = random.Random(seed ^ 0x5EED)
    produced = 0
    for person in iter_people(count, seed, end):
        user_id = _hex(rng, 24)
        for attempt in person.attempts:
            if produced == count:
                return
            if attempt.lost_id:
                user_id = _hex(rng, 24)
            yield make_record(
                submission_id=f"{attempt.received_at:%Y%m%dT%H%M%S}-{_hex(rng, 12)}",
                received=attempt.received_at,
                user_id=user_id,
                key_name=KEY_NAME,
                **(
                    install_test_payload(person, attempt)
                    if install_test_from is not None and attempt.received_at >= install_test_from
                    else attempt.payload
                ),
            )
            produced += 1


def write_files(
    root: Path,
    count: int,
    seed: int = 0,
    end: datetime | None = None,
    install_test_from: datetime | None = None,
) -> int:
    """Write ``count`` records as ``root/<YYYY-MM-DD>/<submission_id>.json``; return count.
    ``install_test_from``: as for ``iter_records``.

    Fast rather than careful (no temporary files, no fsync): for tests and benchmarks that
    fill a folder nobody is reading yet.
    """
    made: set[str] = set()
    written = 0
    for record in iter_records(count, seed, end, install_test_from):
        day = record["received_at"][:10]
        if day not in made:
            (root / day).mkdir(parents=True, exist_ok=True)
            made.add(day)
        (root / day / f"{record['submission_id']}.json").write_bytes(orjson.dumps(record))
        written += 1
    return written


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def _day_start(end: datetime | None) -> datetime:
    end = end or datetime.now(timezone.utc)
    if end.tzinfo is None:
        end = end.replace(tzinfo=timezone.utc)
    return end.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
