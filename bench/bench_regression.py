"""This tree against an earlier commit, in one run: POST /chat overhead and the desktop's stalls.

Each tree runs its own `bench_chat` and `bench_desktop` in a child process (the earlier one from
`git archive BENCH_BASE`, default `HEAD~1`), alternating, BENCH_ROUNDS times (default 2); each
figure keeps its best round, so a busy moment on a shared machine can't decide the verdict.
BENCH_MODULES narrows it (e.g. `bench_desktop`).
`BENCH_BASE=<rev> python -m bench bench_regression`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

from bench.harness import ROOT

BENCHES = os.environ.get("BENCH_MODULES", "bench_chat bench_desktop").split()
ALLOWED_REGRESSION = 1.10  # the figures may be at most 10% worse than the earlier commit's
# The figures compared, by the row they are read from; each is "lower is better", in ms.
FIGURES = {
    "POST /chat added p50": re.compile(r"^(POST /chat c=\d+) .*\(\+(-?[\d.]+) ms\)"),
    "first delta added p50": re.compile(r"^(chatapp first delta c=\d+) .*\(\+(-?[\d.]+) ms\)"),
    "cold start median": re.compile(
        r"^(cold start: process start to window shown) +median +([\d.]+)"
    ),  # noqa: E501
    "longest GUI stall": re.compile(
        r"^stream \d+ tokens at \d+/s, ([^:]+): longest GUI stall ([\d.]+)"
    ),  # noqa: E501
    "p50": re.compile(r"^((?:read|list|turn) .+?) +\d+ +([\d.]+) "),  # bench_trees' rows
}
SECTION = re.compile(r"^## .*?(SQLite|PostgreSQL)")


@contextmanager
def earlier_tree(revision: str) -> Iterator[Path]:
    """The files of `revision`, unpacked into a temporary folder."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tempfile.TemporaryDirectory(prefix="chatapp-base-") as directory:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(directory, filter="data")
        yield Path(directory)


def run_bench(tree: Path, name: str) -> str:
    """One bench module run from `tree`, so its servers and clients import that tree's code."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    result = subprocess.run(
        [sys.executable, "-m", "bench", name], cwd=tree, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"{name} failed in {tree}:\n{result.stderr[-2000:]}")
    return result.stdout


def figures(output: str) -> dict[str, float]:
    """The compared figures of one bench's output, keyed by figure, section and row."""
    found: dict[str, float] = {}
    section = ""
    for line in output.splitlines():
        if match := SECTION.match(line):
            section = match.group(1)
        for figure, pattern in FIGURES.items():
            if match := pattern.match(line):
                found[f"{figure}: {match.group(1)} {section}".strip()] = float(match.group(2))
    return found


def compare(before: dict[str, float], after: dict[str, float]) -> bool:
    print(f"\n## This tree against {base_revision()} (lower is better; aim: at most x1.10)")
    print(f"{'figure':<72} {'before':>8} {'after':>8}  ratio")
    within = True
    for key in sorted(before.keys() & after.keys()):
        ratio = after[key] / before[key] if before[key] > 0 else 1.0
        verdict = "ok" if ratio <= ALLOWED_REGRESSION or after[key] <= before[key] else "WORSE"
        within &= verdict == "ok"
        print(f"{key:<72} {before[key]:>8.1f} {after[key]:>8.1f}  x{ratio:.2f} {verdict}")
    return within


def base_revision() -> str:
    return os.environ.get("BENCH_BASE", "HEAD~1")


def best(kept: dict[str, float], new: dict[str, float]) -> dict[str, float]:
    """Every figure seen so far, at its lowest."""
    return kept | {key: min(value, kept.get(key, value)) for key, value in new.items()}


def main() -> None:
    before: dict[str, float] = {}
    after: dict[str, float] = {}
    with earlier_tree(base_revision()) as base:
        for _ in range(int(os.environ.get("BENCH_ROUNDS", "2"))):
            for name in BENCHES:  # alternating, so a busier minute doesn't favour one tree
                before = best(before, figures(run_bench(base, name)))
                after = best(after, figures(run_bench(ROOT, name)))
    if not compare(before, after):
        print("Some figures are more than 10% worse than the earlier commit's.")


if __name__ == "__main__":
    main()
