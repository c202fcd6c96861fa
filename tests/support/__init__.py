"""Helpers shared by the tests of every program (found through pytest's ``pythonpath``).

files               hand-made submissions, the one factory: request bodies, stored files
collector_process   the real collector as a subprocess on a free loopback port
commands            the project's other command lines as subprocesses of the checkout
web                 small HTTP helpers that never raise on an error status; a free port
site                hand-made report pages and the real site built from real files
crawl               a built site read back: its files, its pages parsed, their links
processes           processes seen through /proc: alive or not, all of one session
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The checkout the tests run in."""
