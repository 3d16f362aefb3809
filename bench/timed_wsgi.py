"""wsgi:app with a clock on every statement and on the whole request, for profile_worker.

`GET /__times` answers what was timed since the last time it was asked, and starts afresh.
Only bench/profile_worker.py serves this module; it has no place in a deployment.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from wsgi import app as chatapp

TIMES_PATH = "/__times"
_lock = threading.Lock()
_statements: dict[str, list[float]] = {}
_requests: list[float] = []


@event.listens_for(Engine, "before_cursor_execute")
def _start(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    conn.info["bench_started"] = time.perf_counter()


@event.listens_for(Engine, "after_cursor_execute")
def _stop(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    spent = (time.perf_counter() - conn.info.pop("bench_started")) * 1000
    with _lock:
        _statements.setdefault(" ".join(statement.split())[:60], []).append(spent)


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ["PATH_INFO"] == TIMES_PATH:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [_report().encode()]
    started = time.perf_counter()
    try:
        return list(chatapp(environ, start_response))
    finally:
        with _lock:
            _requests.append((time.perf_counter() - started) * 1000)


def _report() -> str:
    """One line per statement (how many, p50 ms, its start), then the requests' p50."""
    with _lock:
        lines = [
            f"{len(times):6d} {statistics.median(times):7.3f} ms  {statement}"
            for statement, times in _statements.items()
        ]
        if _requests:
            lines.append(f"{len(_requests):6d} {statistics.median(_requests):7.3f} ms  (request)")
        _statements.clear()
        _requests.clear()
    return "\n".join(lines)
