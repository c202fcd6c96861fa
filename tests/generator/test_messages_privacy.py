"""Error messages are published, so whatever in them identifies a person must not be.

Learners paste what their machine printed: home folders with their names, their IP address,
the id from their key file. The report keeps messages readable and groups them, but neither
the grouped pattern nor the example may carry any of that into site/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator import causes, links, messages
from generator.build import build_site
from installdata.config import GeneratorConfig
from support.crawl import site_files
from support.files import write_submission

OUR_USER_ID = "41514eb74f64a98e79beb891352d6872.vzXhsC_Sr8QW0wfhW_qEbw"
LEGACY_USER_ID = "3f2b8e0e-4c1d-4c52-9a55-0e0c6f9b7d11"
PRIVATE = [
    "Bob Smith",
    "Smith",
    "Zoë",
    "Quint",
    "amina",
    "~bob",
    "192.168.12.34",
    "::ffff:10.0.0.7",
    "2001:db8::2:1",
    "fe80::1",
    OUR_USER_ID,
    LEGACY_USER_ID,
    "learner@example.org",
]
MESSAGE = (
    r"could not run C:\Users\Bob Smith\AppData\make.exe for amina at /home/amina/bin "
    "(Git Bash: /c/Users/Zoë Quint/Desktop) "
    f"(~bob) from 192.168.12.34, ::ffff:10.0.0.7, 2001:db8::2:1 and fe80::1%eth0; "
    f"key {OUR_USER_ID}, old key {LEGACY_USER_ID}, mail learner@example.org"
)


@pytest.mark.parametrize("clean", [messages.scrub, messages.normalise])
def test_nothing_identifying_survives(clean) -> None:
    result = clean(pd.Series([MESSAGE]))[0]
    for private in PRIVATE:
        if private == "amina":  # a name outside a home folder is ordinary text
            continue
        assert private not in result, (private, result)
    assert "<ip>" in result
    assert "<id>" in result


def test_scrubbed_example_stays_readable() -> None:
    example = messages.scrub(pd.Series([r"could not run C:\Users\Bob Smith\AppData\make.exe"]))
    assert example[0] == r"could not run C:\Users\<user>\AppData\make.exe"


@pytest.mark.parametrize(
    "text", ["finished at 12:30:45", "version 3.11.6 of Python", "Windows 10.0.19041.1"]
)
def test_times_and_versions_are_not_mistaken_for_addresses(text: str) -> None:
    assert "<ip>" not in messages.scrub(pd.Series([text]))[0]


def test_messages_of_different_people_still_group_together() -> None:
    patterns = messages.normalise(
        pd.Series(
            [
                r"cannot open C:\Users\Bob Smith\AppData\x.exe from 10.0.0.1",
                r"cannot open C:\Users\amina\AppData\x.exe from 10.0.0.2",
                "cannot open C:/Users/Bob Smith/AppData/x.exe from 10.0.0.3",
                "cannot open C:/Users/amina/AppData/x.exe from 10.0.0.4",
            ]
        )
    )
    assert patterns[0] == patterns[1] == patterns[2] == patterns[3]


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        # Git Bash, forward-slash Windows, MSYS, macOS, Linux: the next separator ends the name
        ("ls: /c/Users/Bob Smith/Desktop", "ls: /c/Users/<user>/Desktop"),
        (
            "C:/Users/Bob Smith/AppData/Local/x.exe is not a valid Win32 application",
            "C:/Users/<user>/AppData/Local/x.exe is not a valid Win32 application",
        ),
        ("HOME=/home/Bob Smith/ is set", "HOME=/home/<user>/ is set"),
        ("/Users/Bob Smith/miniconda3/bin/python", "/Users/<user>/miniconda3/bin/python"),
        (r"C:\Users\Seán O'Brien\AppData\x.exe", r"C:\Users\<user>\AppData\x.exe"),
        (r"C:\\USERS\\BOB SMITH\\x.exe", r"C:\\USERS\\<user>\\x.exe"),  # JSON-escaped, upper case
        # no separator follows: a quote, a colon, a line break, a prompt or the end does
        ("ls: '/home/bob smith': Permission denied", "ls: '/home/<user>': Permission denied"),
        ('"C:/Users/Bob Smith" not found', '"C:/Users/<user>" not found'),
        ("cd `/c/Users/Bob Smith` failed", "cd `/c/Users/<user>` failed"),
        ("cannot access '/home/Seán O'Brien'", "cannot access '/home/<user>'"),
        ("/Users/Bob Smith: No such file or directory", "/Users/<user>: No such file or directory"),
        ("HOME=/c/Users/Bob Smith\nPATH=/usr/bin", "HOME=/c/Users/<user>\nPATH=/usr/bin"),
        (r"PS C:\Users\Bob Smith> python --version", r"PS C:\Users\<user>> python --version"),
        ("home is /home/bob smith", "home is /home/<user>"),
        # where a name ends cannot be told: it runs on (too much scrubbed is safe)
        ("cd /home/bob smith failed", "cd /home/<user>"),
        ("found /home/bob smith and /home/ann lee/x", "found /home/<user> /home/<user>/x"),
    ],
)
def test_a_user_name_with_spaces_is_removed_whole_on_every_path_style(
    text: str, scrubbed: str
) -> None:
    assert messages.scrub(pd.Series([text]))[0] == scrubbed


# Generated names are spelled with letters no other part of the messages uses, so any of
# them left in the result is a piece of a name. Names may hold what Windows allows in one.
NAME_LETTERS = "qzjQZJøñß"
NAME_WORD = st.text(alphabet=NAME_LETTERS + "0123456789'-.,;()@!#$%&^_`{}~=+[]", max_size=7)
NAME_WORD = NAME_WORD.filter(lambda word: any(letter in word for letter in NAME_LETTERS)) | (
    st.sampled_from(["jo@qz.org", "10.0.0.1", "~zed", "Qj~1"])  # what other rules replace
)
NAMES = st.lists(NAME_WORD, min_size=2, max_size=4).map(" ".join)
# Each path style as (home folder, separator).
HOMES = [
    (r"C:\Users", "\\"),  # Windows
    ("C:/Users", "/"),  # Windows, written with forward slashes
    ("/c/Users", "/"),  # Git Bash
    ("/home", "/"),  # MSYS, Linux
    ("/Users", "/"),  # macOS
    (r"C:\Documents and Settings", "\\"),
]
# (opening, what follows the name, when that ends the name): a path deeper than the home
# folder keeps everything after the name, and so does a double quote, colon, ">" or line
# break after it ("always"). A closing quote ends it only when no other path follows on the
# line ("last"), else the name runs on to that path; "never": the name runs on.
CONTEXTS = [
    ("could not run ", "{sep}AppData{sep}tool.exe is not a valid Win32 application", "always"),
    ("could not run '", "{sep}AppData{sep}tool.exe' --version: exit status 1", "always"),
    ('cannot access "', '" (Permission denied)', "always"),
    ("", ": No such file or directory", "always"),
    ("HOME=", "\nPATH=/usr/bin", "always"),
    ("PS ", "> python --version", "always"),
    ("cannot access '", "' (Permission denied)", "last"),
    ("cd `", "` failed", "last"),
    ("HOME=", "", "never"),
    ("(in ", ")", "never"),
    ("cd ", " failed", "never"),
]
JOINTS = [" and ", "\n", "; "]


@settings(max_examples=300, deadline=None)
@given(
    paths=st.lists(
        st.tuples(NAMES, st.sampled_from(HOMES), st.sampled_from(CONTEXTS)), min_size=1, max_size=3
    ),
    joint=st.sampled_from(JOINTS),
)
def test_no_piece_of_a_name_with_spaces_survives(paths, joint) -> None:
    surroundings = [*JOINTS, *(home for home, _ in HOMES), *(o + a for o, a, _ in CONTEXTS)]
    assert not set(NAME_LETTERS) & set("".join(surroundings))  # only names use these letters
    parts, kept, open_before = [], [], False
    for number, (name, (home, sep), (opening, after, ends)) in enumerate(paths):
        rest = after.format(sep=sep)
        parts.append(f"{opening}{home}{sep}{name}{rest}")
        alone = joint == "\n" or not open_before  # nothing earlier on its line runs on into it
        last = joint == "\n" or number == len(paths) - 1
        if alone and (ends == "always" or (ends == "last" and last)):
            kept.append(rest.strip())
        open_before = joint != "\n" and (open_before or ends != "always")
    text = joint.join(parts)

    patterns, examples, _, _ = messages.analyse(pd.Series([text], dtype=object))
    for result in (messages.scrub(pd.Series([text]))[0], examples[0], patterns[0]):
        assert not set(NAME_LETTERS) & set(result), (text, result)
    for rest in kept:
        assert rest in examples[0], (text, examples[0])


# Pieces of real-looking messages: several people's home folders (which scrubbing merges),
# addresses, ids, versions, odd spacing, and long runs: shortened, or not once generalised.
FRAGMENTS = [
    "could not run",
    r"C:\Users\Bob Smith\AppData\make.exe",
    r"C:\Users\amina\AppData\make.exe",
    "C:/Users/Bob Smith/AppData/make.exe",
    "'/c/Users/Bob Smith'",
    "/home/bob smith: x",
    "/home/amina/bin/make",
    "/home/bob/bin/make",
    "~bob/x",
    "learner@example.org",
    "10.0.0.7",
    "fe80::1",
    OUR_USER_ID,
    "https://example.org/x?y=1",
    "see http://www.in-ulm.de/~mascheck/ash/.",
    "check for a (b) failed:\n  x 2\n  causes:\n  check for sqlite3 failed:\n    no /home/bob\n",
    "version 3.11.6",
    "0x7f3a2b1c0d90",
    "tmpab12_x.log",
    "exit 2",
    " \t\n ",
    "x" * 300,
    "/opt/" + "y" * 400,
]
MESSAGES = st.lists(
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=6), max_size=6).map(" ".join),
    max_size=12,
)


def _every_rule(text: str, rules: list) -> str:
    for rule in rules:
        text = re.sub(rule.pattern, rule.replacement, text)
    return text


def _one_by_one(text: str, generalise: bool) -> str:
    """The definition, message by message: the privacy rules (inside links only those for
    addresses and ids), the innermost cause, every other rule in order, strip and shorten."""
    parts = links.URL.split(text)
    text = "".join(
        _every_rule(part, messages._PRIVATE_IN_LINKS if place % 2 else messages._PRIVATE)
        for place, part in enumerate(parts)
    )
    if generalise:
        text = _every_rule(causes.innermost(text), messages._GENERALISE)
    text = text.strip()
    return text if len(text) <= messages.MAX_LENGTH else text[: messages.MAX_LENGTH - 1] + "…"


@settings(max_examples=100, deadline=None)
@given(texts=MESSAGES)
def test_analysed_patterns_and_examples_match_applying_every_rule_to_each_message(texts) -> None:
    # The pattern is worked out from the scrubbed text, once per distinct scrubbed text, and
    # rules skip messages without their clue: these shortcuts must give what applying every
    # rule to each raw message gives.
    patterns, examples, _, _ = messages.analyse(pd.Series(texts, dtype=object))

    assert patterns.tolist() == [_one_by_one(text, generalise=True) for text in texts]
    assert examples.tolist() == [_one_by_one(text, generalise=False) for text in texts]
    assert messages.normalise(pd.Series(texts, dtype=object)).tolist() == patterns.tolist()
    assert messages.scrub(pd.Series(texts, dtype=object)).tolist() == examples.tolist()


def test_built_site_holds_no_identifying_text(tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    for number in range(3):
        write_submission(
            submissions,
            user_id=f"user-{number}",
            email_id="learner@example.org",
            workshop_id="2026-05-01-ws",
            failed=["Make (make)"],
            error=MESSAGE,
        )
    site = tmp_path / "site"
    config = GeneratorConfig(submissions_dir=submissions, site_dir=site)
    assert build_site(config, submissions_dir=None, site_dir=None) == 0

    published = site_files(site)
    package_json = [
        content
        for name, content in published.items()
        if name.startswith("packages/") and "make" in name.split("/")[-1] and name.endswith(".json")
    ]
    assert any("<ip>" in json.dumps(json.loads(content)) for content in package_json)
    for name, content in published.items():
        text = content.decode("utf-8", errors="replace")
        for private in PRIVATE:
            if private == "amina":
                continue
            assert private not in text, f"{private!r} published in {name}"
