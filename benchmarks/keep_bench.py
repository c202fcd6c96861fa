"""What keeping unchanged files costs a rebuild (generator/render/keep.py), against writing.

    .venv/bin/python benchmarks/keep_bench.py SITE_FOLDER

Takes the files of a built site (best: one of 100,000 submissions, copied onto tmpfs so that
the disk's moods do not count) and puts all of them into a fresh staging folder beside it,
three ways, ``--repeat`` times each in turns, best of each:

  write       every file written anew (a first build, or one with nothing to keep);
  keep-same   every file equal to the published one: compared and hard-linked;
  keep-clock  every page and JSON twin changed in the same number of bytes (what a rebuild at
              another second does to ``generated_at``): compared in full, then written.

The staging folder is deleted after each run; the site is only read.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from generator.render.keep import SiteFiles


def run(site: Path, contents: dict[Path, bytes], *, keep: bool) -> tuple[float, int]:
    staging = site.parent / f".{site.name}.keep-bench"
    shutil.rmtree(staging, ignore_errors=True)
    for relative in contents:
        (staging / relative).parent.mkdir(parents=True, exist_ok=True)
    files = SiteFiles(staging, site if keep else None)
    started = time.perf_counter()
    kept = sum(not files.write(staging / relative, data) for relative, data in contents.items())
    seconds = time.perf_counter() - started
    shutil.rmtree(staging)
    return seconds, kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    site = args.site.resolve()
    same = {
        path.relative_to(site): path.read_bytes()
        for path in sorted(site.rglob("*"))
        if path.is_file() and not path.is_symlink() and not path.name.startswith(".")
    }
    clock = {
        relative: data[:-2] + b"!!" if relative.suffix in (".html", ".json") else data
        for relative, data in same.items()
    }
    print(f"{len(same)} files, {sum(map(len, same.values())) / 2**20:.1f} MiB")
    ways = {"write": (same, False), "keep-same": (same, True), "keep-clock": (clock, True)}
    best: dict[str, tuple[float, int]] = {}
    for _ in range(args.repeat):
        for name, (contents, keep) in ways.items():
            seconds, kept = run(site, contents, keep=keep)
            if name not in best or seconds < best[name][0]:
                best[name] = (seconds, kept)
    for name, (seconds, kept) in best.items():
        print(f"{name:10} {seconds * 1000:6.0f} ms  ({kept} kept)")


if __name__ == "__main__":
    main()
