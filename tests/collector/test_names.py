"""One rule for a package name, held by all three that check it: the published schema (in
Python's ``re`` and in ECMA-262, which other clients use), the collector, and the reader.

A name must have a character that is not white space, and white space is what Python's
``str.isspace`` says (``installdata.record.is_name``). A name the collector accepts must be
one the reader keeps: otherwise the report skips the whole file and ``forget --email`` can no
longer find the person's address in it. The zero-width space (U+200B) and the byte-order
mark (U+FEFF) are not white space by that rule (Unicode lists neither as White_Space, though
ECMA-262's ``\\s`` has U+FEFF): a name of them is accepted and kept.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from collector.validation import InvalidBody, submission_schema, validate_submission
from installdata import parse
from installdata.record import is_name
from support.collector_process import RunningCollector
from support.files import write_submission
from support.web import post_json

NODE = shutil.which("node")
SUBMIT = "/api/v1/submissions"

# name -> is it a name? The decision, written out.
TRICKY = {
    " ": False,
    "   ": False,
    "\u00a0": False,  # no-break space
    "\u2003": False,  # em space
    "\u3000": False,  # ideographic space
    "\t": False,
    "\n": False,
    " \t\r\n\v\f": False,
    "\u2028": False,  # line separator
    "\x85": False,  # next line (NEL): Python's white space, not ECMA-262's \s
    "\x1c": False,  # file separator: likewise
    "\u200b": True,  # zero-width space: a format character, not white space
    "\u200b\u200b": True,
    "\ufeff": True,  # byte-order mark: ECMA-262's \s, but not Unicode's White_Space
    "\u180e": True,  # Mongolian vowel separator: white space before Unicode 6.3, no longer
    "a": True,
    " git ": True,
    "\u00a0numpy\u00a0": True,
    "\x00": True,
}


def package_pattern() -> str:
    pattern: str = submission_schema()["$defs"]["package_name"]["pattern"]
    return pattern


def test_the_decision_is_is_name() -> None:
    assert {name: is_name(name) for name in TRICKY} == TRICKY
    assert not is_name("")


def test_the_schema_pattern_means_is_name_in_python_re_for_every_character() -> None:
    pattern = re.compile(package_pattern())
    differ = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if not 0xD800 <= code <= 0xDFFF
        and (pattern.search(chr(code)) is not None) != is_name(chr(code))
    ]
    assert differ == []


@pytest.mark.skipif(NODE is None, reason="node (an ECMA-262 regex engine) is not installed")
def test_the_schema_pattern_means_is_name_in_ecma_262_for_every_character() -> None:
    script = (
        "const pattern = new RegExp(process.argv[1], 'u'); const refused = [];"
        "for (let c = 0; c <= 0x10ffff; c++) {"
        "  if (c >= 0xd800 && c <= 0xdfff) continue;"
        "  if (!pattern.test(String.fromCodePoint(c))) refused.push(c);"
        "}"
        "const names = JSON.parse(process.argv[2]);"
        "console.log(JSON.stringify({refused, names: names.map((n) => pattern.test(n))}));"
    )
    names = list(TRICKY)
    done = subprocess.run(
        [NODE, "-e", script, package_pattern(), json.dumps(names)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer = json.loads(done.stdout)
    white_space = [code for code in range(sys.maxunicode + 1) if chr(code).isspace()]
    assert answer["refused"] == white_space
    assert dict(zip(names, answer["names"], strict=True)) == TRICKY


@pytest.mark.parametrize("name", list(TRICKY), ids=[ascii(name) for name in TRICKY])
@pytest.mark.parametrize("listed", ["successful_installs", "failed_installs"])
def test_the_validator_and_the_reader_agree(name: str, listed: str, tmp_path) -> None:
    body = {listed: [{"name": "git"}, {"name": name}]}
    try:
        validate_submission(body)
        accepted = True
    except InvalidBody as refused:
        accepted = False
        problems = [(problem.path, problem.message) for problem in refused.problems]
        assert problems == [(f"/{listed}/1/name", "has no character that is not white space")]

    successful = [name] if listed == "successful_installs" else []
    failed = [name] if listed == "failed_installs" else []
    path = write_submission(tmp_path, successful=["git", *successful], failed=failed)
    raw = path.read_bytes()
    for way in (parse.parse_file, parse._parse_checked):
        try:
            way(raw, str(path), path.stat().st_mtime_ns)
            kept = True
        except parse.UnusableFile as unusable:
            kept = False
            number = 1 if successful else 0
            assert str(unusable) == f"{listed}[{number}].name is not a non-empty string"
        assert (accepted, kept) == (TRICKY[name], TRICKY[name]), way.__name__


def test_the_collector_refuses_white_space_names_and_stores_nothing(
    collector: RunningCollector,
) -> None:
    blank = [name for name, ok in TRICKY.items() if not ok]
    body = {"failed_installs": [{"name": name, "error_description": "x"} for name in blank]}
    status, _, answer = post_json(collector.url + SUBMIT, body, key=collector.key)
    assert status == 400, answer
    assert [problem["path"] for problem in answer["error"]["details"]] == [
        f"/failed_installs/{index}/name" for index in range(len(blank))
    ]
    assert collector.submission_files() == []

    kept = [name for name, ok in TRICKY.items() if ok]
    body = {"successful_installs": [{"name": name} for name in kept]}
    status, _, answer = post_json(collector.url + SUBMIT, body, key=collector.key)
    assert status == 200, answer
    (stored,) = collector.submission_files()
    _, entries = parse.parse_file(stored.read_bytes(), str(stored), stored.stat().st_mtime_ns)
    assert [entry.name for entry in entries] == kept
