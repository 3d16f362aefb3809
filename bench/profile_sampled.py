"""Where a gunicorn worker's time goes, sampled from outside (issue 16).

`python -m bench.profile_sampled [PATH]` (default `/system-prompts`; `/chat` sends turns on an
existing chat, `/v1/chat/completions` completions): chatapp on gunicorn gthread 1 × 8 and a
PostgreSQL with fsync on, as bench_pipeline runs them, one client loading PATH while py-spy
samples the worker at 500 Hz for 20 s. No profiler runs inside the process, so Python-heavy code
does not look bigger than waits on the database, as it does under cProfile. Printed, of the
samples taken while a thread handled a request: each package's share by the frame the sample
was in, then the functions with the largest share, counting what they called.
"""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from bench.bench_chat import DIRECT_BODY, MODEL, fake_ollama_process
from bench.bench_pipeline import UNLIMITED, next_turn, seed
from bench.harness import gunicorn_server, load, postgres_database, prepared_env

SECONDS, RATE, TOP = 20, 500, 40
# The dev extras install py-spy beside this Python, which `make bench` runs without the
# virtualenv's bin on PATH.
PY_SPY = shutil.which("py-spy", path=Path(sys.executable).parent) or "py-spy"
IN_A_REQUEST = "handle_request"  # gthread's frame around each request
Stack = tuple[list[str], int]


def main(path: str = "/system-prompts") -> None:
    with fake_ollama_process() as ollama, postgres_database(durable=True) as database_url:
        env, admin_key = prepared_env(database_url, OLLAMA_HOST=ollama, **UNLIMITED)
        headers = {"Authorization": f"Bearer {admin_key}"}
        with gunicorn_server("wsgi:app", env, workers=1, threads=8) as url:
            method, body = request_for(path, seed(url, headers))
            loading = threading.Event()
            loading.set()

            def client() -> None:
                while loading.is_set():
                    load(url + path, method, headers, body, requests_total=200)

            thread = threading.Thread(target=client)
            thread.start()
            try:
                stacks = sampled(worker_pid(url))
            finally:
                loading.clear()
                thread.join()
    report(path, [stack for stack in stacks if any(IN_A_REQUEST in f for f in stack[0])])


def request_for(path: str, replies: dict[str, str]) -> tuple[str, Any]:
    if path == "/chat":
        return "POST", next_turn(replies)
    if path == "/v1/chat/completions":
        return "POST", {"model": MODEL, "messages": DIRECT_BODY["messages"]}
    return "GET", None


def worker_pid(url: str) -> int:
    """The gunicorn worker serving `url`: the process of that command line whose parent has it
    too (the master)."""
    bind = url.removeprefix("http://")
    found = subprocess.run(["pgrep", "-f", bind], capture_output=True, text=True, check=True)
    pids = {int(pid) for pid in found.stdout.split()}
    for pid in pids:
        parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        if parent in pids:
            return pid
    raise RuntimeError(f"no gunicorn worker found for {url}")


def sampled(pid: int) -> list[Stack]:
    """py-spy's samples of `pid`: each stack, outermost frame first, and how often it was seen."""
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "samples.txt"
        command = [PY_SPY, "record", "-p", str(pid), "-r", str(RATE), "-d", str(SECONDS)]
        command += ["-f", "raw", "-o", str(out)]
        subprocess.run(command, check=True, capture_output=True)
        lines = out.read_text().splitlines()
    stacks = []
    for line in filter(None, lines):
        frames, count = line.rsplit(" ", 1)
        stacks.append((frames.split(";"), int(count)))
    return stacks


def report(path: str, stacks: list[Stack]) -> None:
    total = sum(count for _, count in stacks)
    packages: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    for frames, count in stacks:
        packages[package_of(frames[-1])] += count
        below = frames[next(i for i, f in enumerate(frames) if IN_A_REQUEST in f) + 1 :]
        for function in {re.sub(r":\d+\)$", ")", frame) for frame in below}:
            inclusive[function] += count
    print(f"\n== {path}: {total} samples in requests; by the package of the frame sampled:")
    for package, count in packages.most_common(15):
        print(f"{count / total:6.1%}  {package}")
    print("\n== the functions holding the most samples, with what they called (any line):")
    for frame, count in inclusive.most_common(TOP):
        print(f"{count / total:6.1%}  {frame[:140]}")


def package_of(frame: str) -> str:
    """`sqlalchemy` for `Connection.execute (sqlalchemy/engine/base.py:1494)`; a file of the
    standard library is named by itself."""
    where = re.search(r"\(([^():]+)(?::\d+)?\)$", frame)
    file = where.group(1) if where else frame
    return file.split("/")[0]


if __name__ == "__main__":
    main(*sys.argv[1:])
