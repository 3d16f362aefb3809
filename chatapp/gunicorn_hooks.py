"""gunicorn's server hooks for `chatapp serve`: the Prometheus directory the workers share.

prometheus_client's multiprocess mode keeps each worker's samples in files of one directory,
named by PROMETHEUS_MULTIPROC_DIR before any worker imports it. `prepare_metrics_dir` runs in
the serving process before gunicorn forks and makes a fresh directory per start (under
TMPDIR), since samples left by an earlier run must not be counted again. A dead worker's live
gauges are dropped (child_exit), and the directory is removed when gunicorn exits (on_exit).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own name
_made: list[str] = []  # the directory this process made, to remove on exit


def prepare_metrics_dir() -> str:
    """A new, empty directory for the workers, named in the environment they inherit."""
    path = tempfile.mkdtemp(prefix="chatapp-metrics-")
    _made.append(path)
    os.environ[METRICS_DIR_VARIABLE] = path
    return path


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone: its live gauges (streams in flight) no longer count."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    """Remove the directory made for this run."""
    for directory in _made:
        shutil.rmtree(directory, ignore_errors=True)
