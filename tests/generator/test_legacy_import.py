"""``python -m generator import-legacy`` on a database shaped exactly like the earlier server's.

The decisive check: after importing and building the report, the report's figures equal
what the earlier server's own SQL (latest attempt = MAX(attempts.id) per unique_user_id)
says about the same rows.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from support.commands import run_python
from support.files import read_records

# The earlier server's tables, as SQLAlchemy created them in SQLite (docs/deploy.md, "Moving
# over from the earlier Flask server").
LEGACY_SCHEMA = """
CREATE TABLE user_system_info (
    id INTEGER NOT NULL,
    unique_user_id VARCHAR,
    distribution_name VARCHAR,
    distribution_version VARCHAR,
    system_version VARCHAR,
    system VARCHAR,
    machine VARCHAR,
    system_platform VARCHAR,
    python_version VARCHAR,
    workshop_id VARCHAR,
    email_id VARCHAR,
    create_time DATETIME,
    PRIMARY KEY (id),
    UNIQUE (unique_user_id)
);
CREATE TABLE attempts (
    id INTEGER NOT NULL,
    unique_user_id VARCHAR,
    PRIMARY KEY (id)
);
CREATE TABLE successful_installs (
    id INTEGER NOT NULL,
    name VARCHAR,
    version VARCHAR,
    user_id INTEGER,
    attempt_id INTEGER,
    create_time DATETIME,
    PRIMARY KEY (id),
    FOREIGN KEY(user_id) REFERENCES user_system_info (id),
    FOREIGN KEY(attempt_id) REFERENCES attempts (id)
);
CREATE TABLE failed_installs (
    id INTEGER NOT NULL,
    name VARCHAR,
    version VARCHAR,
    error_description VARCHAR,
    user_id INTEGER,
    attempt_id INTEGER,
    create_time DATETIME,
    PRIMARY KEY (id),
    FOREIGN KEY(user_id) REFERENCES user_system_info (id),
    FOREIGN KEY(attempt_id) REFERENCES attempts (id)
);
"""

LINUX = ("Ubuntu", "16.04", "#47-Ubuntu SMP", "Linux", "x86_64",
         "Linux-4.4.0-31-generic-x86_64-with-Ubuntu-16.04-xenial", "3.5.2")  # fmt: skip
WINDOWS = ("", "", "10.0.10586", "Windows", "AMD64", "Windows-10-10.0.10586", "3.5.1")
MAC = ("", "", "Darwin Kernel Version 15.5.0", "Darwin", "x86_64",
       "Darwin-15.5.0-x86_64-i386-64bit", "2.7.11")  # fmt: skip

# unique_user_id -> (system, workshop_id, email_id, create_time of the row)
USERS = {
    "0b6f7a8e-1111-4c36-9c1a-5d2f0e6c0a01": (LINUX, "2016-07-26-ttt", "alice@example.org",
                                             "2016-07-26 05:18:29.610280"),
    "0b6f7a8e-2222-4c36-9c1a-5d2f0e6c0a02": (WINDOWS, "No workshop name provided", None,
                                             "2016-07-26 06:02:11.000001"),
    "0b6f7a8e-3333-4c36-9c1a-5d2f0e6c0a03": (MAC, "2016-07-26-ttt", "Carol@Example.org",
                                             "2016-07-26 07:45:00.5"),
    "0b6f7a8e-4444-4c36-9c1a-5d2f0e6c0a04": (LINUX, "2016-08-15-uni", "dave@example.org",
                                             "2016-08-15 09:00:00"),
    "0b6f7a8e-5555-4c36-9c1a-5d2f0e6c0a05": (WINDOWS, "2016-08-15-uni", None,
                                             "2016-08-15 09:05:00.123456"),
    "0b6f7a8e-6666-4c36-9c1a-5d2f0e6c0a06": (MAC, "2016-08-15-uni", "frank@example.org",
                                             "2016-08-15 09:10:00"),
}  # fmt: skip
ALICE, BOB, CAROL, DAVE, ERIN, FRANK = USERS

MAKE_ERROR = "check for make failed:\n  could not find 'make' executable for make"
GIT_ERROR = "check for Git (git) failed:\n  could not find 'git' executable for Git (git)"

# (attempt id, user, time of its rows, successes [(name, version)], failures [(name, version,
# error)]); attempt ids interleave users as a busy server's would.
ATTEMPTS = [
    (1, ALICE, "2016-07-26 05:18:29.610280", [("Python", "3.5.2")],
     [("Git (git)", None, GIT_ERROR), ("make", "unknown", MAKE_ERROR)]),
    (2, BOB, "2016-07-26 06:02:11.000001", [("Git (git)", "2.9.2.windows.1")],
     [("Python", None, "check for Python failed:\n  outdated version")]),
    (3, CAROL, "2016-07-26 07:45:00.5", [("Git (git)", "2.7.4")],
     [("make", None, MAKE_ERROR)]),
    (4, ALICE, "2016-07-26 08:30:00", [("Python", "3.5.2"), ("Git (git)", "2.7.4")],
     [("make", "unknown", MAKE_ERROR)]),  # a later attempt fixes git
    (5, DAVE, "2016-08-15 09:00:00", [("make", "4.1")],
     [("Git (git)", None, GIT_ERROR)]),
    (6, CAROL, "2016-07-26 10:15:42.999999", [("Git (git)", "2.7.4"), ("make", "3.81")], []),
    (7, ERIN, "2016-08-15 09:05:00.123456", [("Git (git)", "2.9.2"), ("make", "4.1")], []),
    (8, FRANK, "2016-08-15 09:10:00", [("Python", "2.7.11")],
     [("make", None, MAKE_ERROR), ("Git (git)", "1.9", "check for Git (git) failed:\n  old")]),
    (9, DAVE, "2016-08-15 11:00:00", [("make", "4.1")],
     [("Git (git)", None, GIT_ERROR)]),  # tried again, still failing
]  # fmt: skip


def make_legacy_db(path: Path, users=USERS, attempts=ATTEMPTS) -> Path:
    """A database with the earlier server's exact schema, filled as that server did."""
    conn = sqlite3.connect(path)
    conn.executescript(LEGACY_SCHEMA)
    row_ids = {}
    for row_id, (uid, (system, workshop, email, created)) in enumerate(users.items(), start=1):
        row_ids[uid] = row_id
        conn.execute(
            "INSERT INTO user_system_info VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (row_id, uid, *system[:2], system[2], system[3], system[4], system[5], system[6],
             workshop, email, created),
        )  # fmt: skip
    for attempt_id, uid, created, successes, failures in attempts:
        conn.execute("INSERT INTO attempts VALUES (?, ?)", (attempt_id, uid))
        for name, version in successes:
            conn.execute(
                "INSERT INTO successful_installs (name, version, user_id, attempt_id, create_time)"
                " VALUES (?,?,?,?,?)",
                (name, version, row_ids.get(uid), attempt_id, created),
            )
        for name, version, error in failures:
            conn.execute(
                "INSERT INTO failed_installs (name, version, error_description, user_id,"
                " attempt_id, create_time) VALUES (?,?,?,?,?,?)",
                (name, version, error, row_ids.get(uid), attempt_id, created),
            )
    conn.commit()
    conn.close()
    return path


def import_legacy(db: Path, submissions: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_python("-m", "generator", "import-legacy", "--db", str(db),
                      "--submissions", str(submissions), *extra)  # fmt: skip


def by_attempt(records: dict[str, dict]) -> dict[int, dict]:
    return {int(sid.rsplit("-", 1)[1]): record for sid, record in records.items()}


@pytest.fixture
def legacy_db(tmp_path: Path) -> Path:
    return make_legacy_db(tmp_path / "app.db")


def test_one_file_per_attempt_keeping_user_ids(legacy_db: Path, tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    done = import_legacy(legacy_db, submissions)

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "9 attempts read, 9 files written, 0 skipped as already imported, 0 odd rows" in (
        done.stdout
    )
    records = by_attempt(read_records(submissions))
    assert sorted(records) == [a[0] for a in ATTEMPTS]

    fourth = records[4]  # alice's second attempt: git fixed, make still failing
    assert fourth["schema_version"] == 1
    assert fourth["user_id"] == ALICE
    assert fourth["key_name"] == "legacy-import"
    assert fourth["received_at"] == "2016-07-26T08:30:00.000000Z"
    assert fourth["user_system_info"] == {
        "distribution_name": "Ubuntu", "distribution_version": "16.04",
        "system_version": "#47-Ubuntu SMP", "system": "Linux", "machine": "x86_64",
        "system_platform": "Linux-4.4.0-31-generic-x86_64-with-Ubuntu-16.04-xenial",
        "python_version": "3.5.2", "workshop_id": "2016-07-26-ttt",
        "email_id": "alice@example.org",
    }  # fmt: skip
    assert fourth["successful_installs"] == [
        {"name": "Python", "version": "3.5.2"},
        {"name": "Git (git)", "version": "2.7.4"},
    ]
    assert fourth["failed_installs"] == [
        {"name": "make", "version": "unknown", "error_description": MAKE_ERROR}
    ]
    # Every attempt of a user carries that user's one system-info row.
    assert records[1]["user_system_info"] == fourth["user_system_info"]
    # The placeholder becomes no workshop; a null version stays null.
    assert records[2]["user_system_info"]["workshop_id"] is None
    assert records[2]["failed_installs"][0]["version"] is None
    assert records[3]["received_at"] == "2016-07-26T07:45:00.500000Z"


def test_second_run_writes_nothing_new(legacy_db: Path, tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    assert import_legacy(legacy_db, submissions).returncode == 0
    before = {p: p.stat().st_mtime_ns for p in submissions.rglob("*.json")}

    again = import_legacy(legacy_db, submissions)
    assert again.returncode == 0, again.stderr
    assert "9 attempts read, 0 files written, 9 skipped as already imported" in again.stdout
    # Even with another time zone (which moves files to other day folders) nothing is doubled.
    shifted = import_legacy(legacy_db, submissions, "--timezone", "Pacific/Auckland")
    assert "0 files written, 9 skipped as already imported" in shifted.stdout
    assert {p: p.stat().st_mtime_ns for p in submissions.rglob("*.json")} == before


def test_times_are_converted_from_the_given_zone(tmp_path: Path) -> None:
    winter = [(1, ALICE, "2016-12-01 00:30:00", [("make", "4.1")], [])]
    summer = [(2, ALICE, "2016-07-26 05:18:29.610280", [("make", "4.1")], [])]
    db = make_legacy_db(tmp_path / "app.db", attempts=winter + summer)
    submissions = tmp_path / "submissions"

    done = import_legacy(db, submissions, "--timezone", "Europe/Berlin")

    assert done.returncode == 0, done.stderr
    records = by_attempt(read_records(submissions))
    assert records[1]["received_at"] == "2016-11-30T23:30:00.000000Z"  # CET, UTC+1, day before
    assert records[2]["received_at"] == "2016-07-26T03:18:29.610280Z"  # CEST, UTC+2
    assert (submissions / "2016-11-30" / f"{records[1]['submission_id']}.json").is_file()


def test_odd_rows_are_reported_not_fatal(tmp_path: Path) -> None:
    attempts = [
        *ATTEMPTS[:2],
        (20, CAROL, "yesterday-ish", [("make", "4.1")], []),  # unparseable time
    ]
    db = make_legacy_db(tmp_path / "app.db", attempts=attempts)
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO attempts VALUES (21, ?)", (DAVE,))  # no install rows
    conn.execute("INSERT INTO attempts VALUES (22, 'ghost')")  # no rows at all: no time
    conn.execute(
        "INSERT INTO failed_installs (name, version, error_description, user_id, attempt_id,"
        " create_time) VALUES ('make', NULL, 'x', 999, 2, '2016-07-26 06:02:11')"
    )  # a missing user
    conn.execute(
        "INSERT INTO successful_installs (name, version, user_id, attempt_id, create_time)"
        " VALUES ('Git (git)', '2.7', 1, 404, '2016-07-26 06:02:11')"
    )  # a missing attempt
    conn.execute(
        "INSERT INTO successful_installs (name, version, user_id, attempt_id, create_time)"
        " VALUES ('  ', '2.7', 1, 1, '2016-07-26 06:02:11')"
    )  # no name
    conn.execute(
        "UPDATE failed_installs SET error_description = CAST(X'6d616b6520ff21' AS TEXT)"
        " WHERE attempt_id = 1 AND name = 'make'"
    )  # not UTF-8
    conn.commit()
    conn.close()
    submissions = tmp_path / "submissions"

    done = import_legacy(db, submissions)

    assert done.returncode == 0, done.stderr
    assert "5 attempts read, 4 files written" in done.stdout
    for line in (
        "1 attempts without install rows (imported with system info only)",
        "1 attempts without any readable time (not imported)",
        "not imported: attempts.id 22",
        "1 install rows pointing at a missing attempt (not imported)",
        "1 install rows pointing at a missing user",
        "1 install rows without a package name (not imported)",
        "1 unparseable times (ignored)",
        "1 texts that are not UTF-8 (imported with U+FFFD for what is not)",
    ):
        assert line in done.stdout
    records = by_attempt(read_records(submissions))
    # No readable install time: the user row's create_time stands in.
    assert records[20]["received_at"] == "2016-07-26T07:45:00.500000Z"
    assert records[21]["received_at"] == "2016-08-15T09:00:00.000000Z"
    assert records[21]["successful_installs"] == records[21]["failed_installs"] == []
    assert len(records[2]["failed_installs"]) == 2
    assert all(e["name"].strip() for e in records[1]["successful_installs"])
    assert records[1]["failed_installs"][1]["error_description"] == "make \ufffd!"


def add_install(conn: sqlite3.Connection, attempt_id: object, user_row: int, time: str) -> None:
    conn.execute(
        "INSERT INTO successful_installs (name, version, user_id, attempt_id, create_time)"
        " VALUES ('make', '4.1', ?, ?, ?)",
        (user_row, attempt_id, time),
    )


def build_reads_every_file(submissions: Path, tmp_path: Path) -> None:
    """``generator build`` skips none of the files the importer wrote."""
    written = len(list(submissions.rglob("*.json")))
    config = tmp_path / "config.yaml"
    config.write_text("generator:\n  title: Legacy import\n", encoding="utf-8")
    built = run_python("-m", "generator", "build", "--config", str(config), "--submissions",
                       str(submissions), "--site", str(tmp_path / "site"))  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert f"read {written} files, skipped 0," in built.stderr, built.stderr


def test_times_no_file_can_hold_are_unreadable(tmp_path: Path) -> None:
    # Files hold times from 1678 to 2261 (installdata/record.py); "0001-01-01 00:10" in
    # Berlin is before year 1 in UTC, past what Python's datetime holds.
    attempts = [
        *ATTEMPTS[:2],
        (30, CAROL, "0001-01-01 00:10:00", [("make", "4.1")], []),
        (31, DAVE, "1500-06-01 12:00:00", [("make", "4.1")], []),
        (32, ERIN, "9999-12-31 23:59:59", [("make", "4.1")], []),
        (33, FRANK, "2016-08-15 12:00:00", [("make", "4.1")], []),
    ]
    db = make_legacy_db(tmp_path / "app.db", attempts=attempts)
    conn = sqlite3.connect(db)
    add_install(conn, 33, 6, "2262-01-01 00:00:00")  # a later but impossible time of frank's
    conn.execute("INSERT INTO attempts VALUES (34, 'ghost')")  # no user row to fall back on
    add_install(conn, 34, 999, "1500-01-01 00:00:00")
    conn.commit()
    conn.close()
    submissions = tmp_path / "submissions"

    done = import_legacy(db, submissions, "--timezone", "Europe/Berlin")

    assert (done.returncode, done.stderr) == (0, "")
    assert "7 attempts read, 6 files written" in done.stdout
    for line in (
        "5 times outside the years 1678 to 2261 (ignored)",
        "1 attempts without any readable time (not imported)",
        "not imported: attempts.id 34",
    ):
        assert line in done.stdout, done.stdout
    records = by_attempt(read_records(submissions))
    assert sorted(records) == [1, 2, 30, 31, 32, 33]
    # The next readable time stands in: the user row's, or another install row's.
    assert records[30]["received_at"] == "2016-07-26T05:45:00.500000Z"
    assert records[31]["received_at"] == "2016-08-15T07:00:00.000000Z"
    assert records[32]["received_at"] == "2016-08-15T07:05:00.123456Z"
    assert records[33]["received_at"] == "2016-08-15T10:00:00.000000Z"
    build_reads_every_file(submissions, tmp_path)


def test_attempt_ids_that_are_no_whole_number_are_not_imported(tmp_path: Path) -> None:
    db = make_legacy_db(tmp_path / "app.db", attempts=ATTEMPTS[:2])
    conn = sqlite3.connect(db)
    # The earlier server's attempts.id holds integers only; a copy of the database made
    # with another tool may declare it without a type, and then it holds anything.
    conn.executescript(
        "ALTER TABLE attempts RENAME TO typed; CREATE TABLE attempts (id, unique_user_id);"
        "INSERT INTO attempts SELECT * FROM typed; DROP TABLE typed;"
    )
    odd = {"../../x": (ALICE, 1), 1.5: (BOB, 2), 7.0: (CAROL, 3), "8": (DAVE, 4)}
    for attempt_id, (uid, user_row) in odd.items():
        conn.execute("INSERT INTO attempts VALUES (?, ?)", (attempt_id, uid))
        add_install(conn, attempt_id, user_row, "2016-08-15 12:00:00")
    conn.commit()
    conn.close()
    submissions = tmp_path / "submissions"

    done = import_legacy(db, submissions)

    assert (done.returncode, done.stderr) == (0, "")
    assert "6 attempts read, 4 files written" in done.stdout
    assert "2 attempts whose id is not a whole number (not imported)" in done.stdout
    assert "not imported: attempts.id 1.5, '../../x'" in done.stdout  # in SQLite's order
    records = by_attempt(read_records(submissions))
    assert sorted(records) == [1, 2, 7, 8]  # 7.0 and "8" are whole numbers
    assert records[8]["successful_installs"] == [{"name": "make", "version": "4.1"}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db", "submissions"]  # no ../x
    build_reads_every_file(submissions, tmp_path)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"SQLite format 3\x00" + b"\xff" * 4000, "cannot read legacy database"),
        (b"this is not a database at all\n" * 50, "cannot read legacy database"),
        (None, "legacy database not found"),
        ("wrong schema", "is not the earlier server's database"),
    ],
)
def test_bad_database_is_one_line_error(tmp_path: Path, content, message: str) -> None:
    db = tmp_path / "app.db"
    if content == "wrong schema":
        conn = sqlite3.connect(db)
        conn.execute("CREATE TABLE attempts (id INTEGER PRIMARY KEY, user TEXT)")
        conn.close()
    elif content is not None:
        db.write_bytes(content)
    submissions = tmp_path / "submissions"

    done = import_legacy(db, submissions)

    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(submissions.rglob("*.json"))


def test_unknown_time_zone_is_one_line_error(legacy_db: Path, tmp_path: Path) -> None:
    done = import_legacy(legacy_db, tmp_path / "submissions", "--timezone", "Mars/Olympus")
    assert done.returncode == 2
    assert (
        done.stderr
        == "error: unknown time zone 'Mars/Olympus' (use an IANA name such as Europe/Berlin)\n"
    )


def test_database_is_opened_read_only(legacy_db: Path, tmp_path: Path) -> None:
    legacy_db.chmod(0o444)
    before = legacy_db.read_bytes()
    assert import_legacy(legacy_db, tmp_path / "submissions").returncode == 0
    assert legacy_db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db", "submissions"]  # no journal


# --- the report agrees with the earlier server's own queries ----------------------------------

# /view/: latest attempt per user is MAX(attempts.id) per unique_user_id; failures per package
# name among those attempts.
SQL_FAILING_PACKAGES = """
SELECT name, COUNT(*) FROM failed_installs
WHERE attempt_id IN (SELECT MAX(id) FROM attempts GROUP BY unique_user_id)
GROUP BY name
"""
SQL_USERS_WITH_FAILURES = """
SELECT COUNT(DISTINCT attempt_id) FROM failed_installs
WHERE attempt_id IN (SELECT MAX(id) FROM attempts GROUP BY unique_user_id)
"""
# /view/<workshop_id>/: the users whose (single) row names the workshop, their latest
# attempts, failures per package name among those.
SQL_WORKSHOP_PARTICIPANTS = """
SELECT workshop_id, COUNT(*) FROM user_system_info
WHERE workshop_id IS NOT NULL AND workshop_id != 'No workshop name provided'
GROUP BY workshop_id
"""
SQL_WORKSHOP_FAILING_PACKAGES = """
SELECT name, COUNT(*) FROM failed_installs
WHERE attempt_id IN (
    SELECT MAX(attempts.id) FROM attempts JOIN user_system_info
        ON user_system_info.unique_user_id = attempts.unique_user_id
    WHERE user_system_info.workshop_id = ?
    GROUP BY attempts.unique_user_id)
GROUP BY name
"""


@pytest.mark.slow
def test_report_figures_match_the_earlier_servers_queries(legacy_db: Path, tmp_path: Path) -> None:
    submissions, site = tmp_path / "submissions", tmp_path / "site"
    assert import_legacy(legacy_db, submissions).returncode == 0
    config = tmp_path / "config.yaml"
    config.write_text("generator:\n  title: Legacy import\n", encoding="utf-8")

    built = run_python("-m", "generator", "build", "--config", str(config),
                       "--submissions", str(submissions), "--site", str(site))  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr

    conn = sqlite3.connect(legacy_db)
    index = json.loads((site / "index.json").read_text(encoding="utf-8"))
    assert (
        index["totals"]["submissions"]
        == conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
    )
    assert index["totals"]["users"] == len(USERS)
    assert (
        index["totals"]["users_with_failures"]
        == conn.execute(SQL_USERS_WITH_FAILURES).fetchone()[0]
    )
    failing = {p["name"]: p["failing_users"] for p in index["failing_packages"]}
    assert {name: n for name, n in failing.items() if n} == dict(
        conn.execute(SQL_FAILING_PACKAGES).fetchall()
    )
    # Sanity of the fixture itself: the fix in alice's second attempt is visible.
    assert dict(conn.execute(SQL_FAILING_PACKAGES).fetchall()) == {
        "make": 2,
        "Git (git)": 2,
        "Python": 1,
    }

    participants = dict(conn.execute(SQL_WORKSHOP_PARTICIPANTS).fetchall())
    workshops = json.loads((site / "workshops" / "index.json").read_text(encoding="utf-8"))
    assert {w["name"]: w["participants"] for w in workshops["workshops"]} == participants
    assert index["totals"]["workshops"] == len(participants) == 2
    for workshop in workshops["workshops"]:
        page = json.loads((site / workshop["href"]).with_suffix(".json").read_text("utf-8"))
        expected = dict(conn.execute(SQL_WORKSHOP_FAILING_PACKAGES, (workshop["name"],)).fetchall())
        failing = {p["name"]: p["failing_participants"] for p in page["packages"]}
        assert {name: n for name, n in failing.items() if n} == expected
    conn.close()
