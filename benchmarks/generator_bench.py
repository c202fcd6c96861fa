"""How fast is ``generator build`` compared with merely reading every submission file?

    .venv/bin/python benchmarks/generator_bench.py            # N = 10,000
    .venv/bin/python benchmarks/generator_bench.py --n 100000 --stages

Writes N realistic synthetic submission files (generator/synthetic/) into a temporary
folder, then times, in the same run:

  floor  listing, reading and ``json.loads``-parsing every file: one process, a plain loop;
         no build can be faster than the data it must read;
  build  a full ``python -m generator build`` of the same folder, as a subprocess, so its
         peak memory can be read from ``getrusage(RUSAGE_CHILDREN)`` (the largest single
         process of the build, worker processes included), with an empty build cache
         (``generator.cache_dir``): a cold build;
  cached the same build again, every folder read from the cache;
  incremental  the build after one new day folder of 300 submissions, the rest cached.

Floor and builds run ``--repeat`` times each (default 3), in turns, and the best of each
counts: on a shared machine the slowest runs measure the neighbours, not the code. Builds
are also given in CPU seconds (user + sys of the build and its workers), which neighbours
disturb less than wall time.
It prints both times, their ratio (target: at most 2.0 at N = 100,000) and the build's peak
memory (target: under 2 GiB), repeats the build on a folder a tenth the size to split time and
memory into a fixed part and a part per file, and extrapolates both to 1,000,000 submissions.
``--stages`` also runs the stages one after the other in-process and prints what each costs
(the real build overlaps them: see generator/build.py).

Figures are noisy on a shared machine: run it twice before believing a change. And on ext4
without a journal, creating files is slow for a few minutes after many files were deleted
nearby (the kernel skips recently deleted inodes, checking each one again for every new
file), which can add seconds of kernel time to the build's 8,000 page files: leave a few
minutes after deleting a big folder (such as this benchmark's own, at its end) before
measuring again.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from generator.synthetic import write_files  # noqa: E402

TARGET_RATIO = 2.0
TARGET_MEMORY = 2 * 1024**3
EXTRAPOLATE_TO = 1_000_000


def floor_seconds(root: Path) -> float:
    """List, read and parse every ``*.json`` below ``root`` (skipping dot-folders)."""
    started = time.perf_counter()
    parsed = 0
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in files:
            if name.endswith(".json") and not name.startswith("."):
                with open(os.path.join(folder, name), "rb") as handle:
                    json.loads(handle.read())
                parsed += 1
    elapsed = time.perf_counter() - started
    assert parsed, "nothing to parse"
    return elapsed


INCREMENT = 300
"""Submissions in the new day folder of the incremental build."""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build(root: Path, site: Path, cache: Path) -> tuple[float, int, str, float]:
    """Run the real command line; return (seconds, peak RSS in bytes, its stderr's first
    line, CPU seconds)."""
    config = root.parent / "config.yaml"
    config.write_text(
        f"generator:\n  submissions_dir: {root}\n  site_dir: {site}\n  cache_dir: {cache}\n"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "generator", "build", "--config", str(config)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "SOURCE_DATE_EPOCH": "1795000000"},
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"build failed ({done.returncode}):\n{done.stderr}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak_kib <= before:  # a smaller earlier child set the maximum; cannot tell this one's
        peak_kib = before
    return elapsed, peak_kib * 1024, done.stderr.strip().splitlines()[0], _children_cpu() - cpu


def stages(root: Path, site: Path) -> dict[str, float]:
    """The pipeline in-process, stage by stage (same code the command runs)."""
    import pandas as pd

    from generator.model import pages_of
    from generator.pages import iter_pages
    from generator.publish import publish_site
    from generator.render import write_site
    from installdata.load import load_submissions
    from installdata.people import assign_people

    times: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        times[name] = now - clock
        clock = now

    loaded = load_submissions(root)
    lap("load")
    people = assign_people(loaded.submissions)
    lap("people")
    pages = list(
        pages_of(
            iter_pages(
                people,
                loaded.results,
                now=pd.Timestamp("2026-11-18T11:06:40Z"),
                generated_at="2026-11-18T11:06:40Z",
                title="Benchmark",
            )
        )
    )
    lap("aggregate")
    publish_site(
        site, lambda out: write_site(pages, out, title="Benchmark", generated_at="2026-11-18")
    )
    lap("render+publish")
    return times


def add_day(root: Path, count: int, seed: int) -> Path:
    """``count`` submissions in a day folder of their own, after every stored one."""
    with tempfile.TemporaryDirectory(dir=root.parent) as tmp:
        write_files(Path(tmp), count, seed=seed)
        day = root / "9999-12-31"  # sorts last, as tomorrow's folder would
        day.mkdir()
        for path in Path(tmp).rglob("*.json"):
            path.rename(day / path.name)
    return day


def measure(n: int, workdir: Path, repeat: int) -> dict[str, float]:
    """Best of ``repeat`` runs of the floor and of each build, taken in turns."""
    root = workdir / f"submissions-{n}"
    root.mkdir()
    started = time.perf_counter()
    write_files(root, n, seed=0)
    print(f"  wrote {n:,} files in {time.perf_counter() - started:.1f} s", flush=True)
    floor_seconds(root)  # warm the page cache so both timings read from memory
    best: dict[str, float] = {}
    peak = 0
    for run in range(repeat):
        floor = floor_seconds(root)
        cache = workdir / f"cache-{n}-{run}"
        runs = {"floor": (floor, 0.0)}
        for kind in ("build", "cached", "incremental"):
            if kind == "incremental":
                day = add_day(root, INCREMENT, seed=run + 1)
            seconds, run_peak, summary, cpu = build(root, workdir / f"site-{n}-{run}", cache)
            if kind == "incremental":
                shutil.rmtree(day)
            if kind == "build":
                peak = max(peak, run_peak)
            runs[kind] = (seconds, cpu)
        shutil.rmtree(cache)
        for kind, (seconds, cpu) in runs.items():
            best[kind] = min(best.get(kind, seconds), seconds)
            best[f"{kind} cpu"] = min(best.get(f"{kind} cpu", cpu), cpu)
        print(
            f"  floor {floor:.2f} s, "
            + ", ".join(
                f"{kind} {seconds:.2f} s (cpu {cpu:.2f} s)"
                for kind, (seconds, cpu) in runs.items()
                if kind != "floor"
            )
            + f" ({summary})",
            flush=True,
        )
    return {"n": n, **best, "peak": peak}


def at(target: int, small: dict[str, float], large: dict[str, float], key: str) -> float:
    """Straight line through two measurements (fixed cost + cost per file), read at target."""
    per_file = (large[key] - small[key]) / (large["n"] - small["n"])
    return large[key] + per_file * (target - large["n"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="submission files (default 10000)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each, best taken (default 3)"
    )
    parser.add_argument("--stages", action="store_true", help="also time each pipeline stage")
    args = parser.parse_args()
    if args.n <= 1000:
        parser.error("--n must be above 1000: a tenth of it, at least 1,000, measures the growth")

    with tempfile.TemporaryDirectory(prefix="generator-bench-") as tmp:
        workdir = Path(tmp)
        small_n = max(1000, args.n // 10)
        print(f"N = {small_n:,} (for growth)")
        small = measure(small_n, workdir, args.repeat)
        print(f"N = {args.n:,}")
        large = measure(args.n, workdir, args.repeat)

        ratio = large["build"] / large["floor"]
        per_1000 = 1000 * (large["build"] - small["build"]) / (large["n"] - small["n"])
        fixed = large["build"] - per_1000 * large["n"] / 1000

        print()
        print(f"best of {args.repeat} runs each, taken in turns:")
        print(f"floor (list, read, json.loads):      {large['floor']:8.2f} s")
        print(
            f"generator build (subprocess):        {large['build']:8.2f} s"
            f"   (cpu {large['build cpu']:.2f} s, empty cache)"
        )
        print(
            f"build, every folder cached:          {large['cached']:8.2f} s"
            f"   (cpu {large['cached cpu']:.2f} s)"
        )
        print(
            f"build after a new day of {INCREMENT} files: {large['incremental']:8.2f} s"
            f"   (cpu {large['incremental cpu']:.2f} s, the rest cached)"
        )
        verdict = "ok" if ratio <= TARGET_RATIO else "OVER TARGET"
        print(f"ratio build / floor:                 {ratio:8.2f}   (target <= 2.0: {verdict})")
        verdict = "ok" if large["peak"] < TARGET_MEMORY else "OVER TARGET"
        print(
            f"build peak memory (largest process): {large['peak'] / 2**20:8.0f} MiB "
            f"(target < 2048: {verdict})"
        )
        print(f"build = {fixed:.1f} s fixed + {per_1000:.2f} s per 1000 files (from both sizes)")
        print(
            f"estimate at {EXTRAPOLATE_TO:,} (linear): "
            f"build {at(EXTRAPOLATE_TO, small, large, 'build'):,.0f} s, "
            f"floor {at(EXTRAPOLATE_TO, small, large, 'floor'):,.0f} s, "
            f"peak memory {at(EXTRAPOLATE_TO, small, large, 'peak') / 2**30:.1f} GiB"
        )
        if args.stages:
            times = stages(workdir / f"submissions-{args.n}", workdir / "site-stages")
            total = sum(times.values())
            print(
                "in-process stages: "
                + ", ".join(
                    f"{name} {seconds:.2f} s ({seconds / total:.0%})"
                    for name, seconds in times.items()
                )
            )


if __name__ == "__main__":
    main()
