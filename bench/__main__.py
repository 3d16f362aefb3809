"""Run every `bench/bench_*.py` module's `main()` (or the ones named on the command line)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main() -> None:
    names = sys.argv[1:] or sorted(path.stem for path in Path(__file__).parent.glob("bench_*.py"))
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n# {name}", flush=True)
        module.main()


if __name__ == "__main__":
    main()
