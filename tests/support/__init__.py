"""Helpers shared by the tests of every program (found through pytest's ``pythonpath``).

collector_process   the real collector as a subprocess on a free loopback port
web                 small HTTP helpers that never raise on an error status
files               hand-made submission files, the one factory the tests use
site                hand-made report pages and the real site built from real files
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The checkout the tests run in."""
