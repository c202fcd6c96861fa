"""The synthetic data generator: deterministic, shaped as docs/protocol.md and
docs/file-format.md say, realistic enough."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema

from generator.synthetic import iter_people, iter_records, write_files
from installdata.record import SCHEMA as SUBMISSION_SCHEMA

END = datetime(2026, 11, 23, tzinfo=timezone.utc)
SYSTEM_FIELDS = {
    "distribution_name", "distribution_version", "system", "system_version", "machine",
    "system_platform", "python_version", "workshop_id", "email_id",
}  # fmt: skip
FILENAME_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")
RECEIVED_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
SCHEMA = json.loads(SUBMISSION_SCHEMA.read_text(encoding="utf-8"))
VALIDATOR = jsonschema.validators.validator_for(SCHEMA)(SCHEMA)  # checked once, not per call
PAYLOAD_KEYS = ("user_system_info", "successful_installs", "failed_installs")


def check_payload(payload: dict) -> None:
    """Assert one request body (without unique_user_id) is within docs/protocol.md's bounds."""
    VALIDATOR.validate(payload)  # what the collector itself accepts
    assert set(payload) == set(PAYLOAD_KEYS)
    info = payload["user_system_info"]
    assert set(info) == SYSTEM_FIELDS
    for value in info.values():
        assert value is None or (isinstance(value, str) and len(value) <= 500)
    for entry in payload["successful_installs"]:
        assert set(entry) == {"name", "version"}
    for entry in payload["failed_installs"]:
        assert set(entry) == {"name", "version", "error_description"}
        assert isinstance(entry["error_description"], str)
        assert 0 < len(entry["error_description"]) <= 10_000
    entries = payload["successful_installs"] + payload["failed_installs"]
    assert 15 <= len(entries) <= 25
    names = [entry["name"] for entry in entries]
    assert len(names) == len(set(names))
    for entry in entries:
        assert 1 <= len(entry["name"]) <= 200
        assert entry["version"] is None or len(entry["version"]) <= 200


def test_same_seed_gives_same_data_and_another_seed_other_data() -> None:
    first = list(iter_records(300, seed=7, end=END))
    assert first == list(iter_records(300, seed=7, end=END))
    assert first != list(iter_records(300, seed=8, end=END))


def test_records_have_the_file_drop_shape() -> None:
    records = list(iter_records(500, seed=1, end=END))
    assert len(records) == 500
    assert len({record["submission_id"] for record in records}) == 500
    for record in records:
        assert record["schema_version"] == 1
        assert record["key_name"] == "synthetic"
        assert FILENAME_SAFE.match(record["submission_id"])
        assert RECEIVED_AT.match(record["received_at"])
        received = datetime.fromisoformat(record["received_at"].replace("Z", "+00:00"))
        assert END - timedelta(days=731) <= received < END
        assert isinstance(record["user_id"], str) and record["user_id"]
        payload = {key: record[key] for key in record if key.endswith(("_info", "_installs"))}
        check_payload(payload)
        json.dumps(record, allow_nan=False)  # plain JSON, as RFC 8259 wants


def test_people_rerun_in_time_order_and_mostly_fix_failures() -> None:
    people = list(iter_people(1000, seed=2, end=END))
    reruns = [person for person in people if len(person.attempts) > 1]
    assert 0.3 <= len(reruns) / len(people) <= 0.45
    assert max(len(person.attempts) for person in people) == 3
    fixed_something = 0
    for person in reruns:
        times = [attempt.received_at for attempt in person.attempts]
        assert times == sorted(times)
        failures = [{f["name"] for f in a.payload["failed_installs"]} for a in person.attempts]
        for before, after in itertools.pairwise(failures):
            assert after <= before  # a re-run never breaks what worked
            fixed_something += after < before
    assert fixed_something > len(reruns) / 3


def test_data_varies_like_real_installations() -> None:
    attempts = [a for person in iter_people(1000, seed=3, end=END) for a in person.attempts]
    infos = [attempt.payload["user_system_info"] for attempt in attempts]
    assert {info["system"] for info in infos} == {"Windows", "Darwin", "Linux"}
    assert {"arm64", "x86_64", "AMD64"} <= {info["machine"] for info in infos}
    assert len({info["workshop_id"] for info in infos}) > 20
    assert any(info["workshop_id"] is None for info in infos)
    with_email = sum(info["email_id"] is not None for info in infos)
    assert 0 < with_email < len(infos) / 4

    failed = [f for attempt in attempts for f in attempt.payload["failed_installs"]]
    make_failures = Counter(
        attempt.payload["user_system_info"]["system"]
        for attempt in attempts
        for f in attempt.payload["failed_installs"]
        if f["name"] == "Make (make)"
    )
    assert make_failures["Windows"] > make_failures["Linux"]
    texts = {f["error_description"] for f in failed}
    assert len(texts) > 50  # user names, paths and numbers make the texts differ
    assert any("C:\\Users\\" in text for text in texts)
    assert any(text.startswith("outdated version of") for text in texts)
    assert any(f["version"] is None for f in failed)


def test_write_files_lays_out_one_file_per_record_by_day(tmp_path: Path) -> None:
    assert write_files(tmp_path, 200, seed=4, end=END) == 200
    files = sorted(tmp_path.rglob("*.json"))
    assert len(files) == 200
    for path in files:
        record = json.loads(path.read_text(encoding="utf-8"))
        assert path.stem == record["submission_id"]
        assert path.parent.name == record["received_at"][:10]


def test_a_history_switches_to_the_installation_tests_words_on_the_day_it_is_told() -> None:
    """The demo's deployment changed scripts: before the day, the swc scripts' names
    ("Make (make)"); from it, the installation test's (its check table), still valid files."""
    from installdata.installtest.checks import KNOWN_CHECKS
    from installdata.installtest.probe import full_name

    end = datetime(2026, 11, 18, tzinfo=timezone.utc)
    switch = end - timedelta(days=60)
    records = list(iter_records(150, seed=3, end=end, install_test_from=switch))
    test_names = {full_name(check) for check in KNOWN_CHECKS}
    before, after = Counter(), Counter()
    for record in records:
        VALIDATOR.validate({key: record[key] for key in PAYLOAD_KEYS})
        names = {e["name"] for e in record["successful_installs"] + record["failed_installs"]}
        received = datetime.strptime(record["received_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        side = after if received.replace(tzinfo=timezone.utc) >= switch else before
        side.update(name in test_names for name in names)
    assert before[False] > 0 and after[True] > 0
    assert after[False] == 0  # from the switch on, every name is one the test prints


def test_the_simulated_computers_never_report_a_version_they_could_not_read_as_outdated() -> None:
    """A package the older scripts passed without a readable version is there and working
    on its simulated computer: the installation test must not call it "outdated: unknown"."""
    from generator.synthetic.hosts import install_test_results

    outdated, failures = [], 0
    for person in iter_people(300, seed=3):
        for attempt in person.attempts:
            failed = install_test_results(person, attempt)["failed_installs"]
            failures += len(failed)
            outdated += [e for e in failed if "unknown" in (e["error_description"] or "")]
    assert failures > 100  # the runs do fail, for other reasons
    assert outdated == []
