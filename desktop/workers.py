"""Background work: QRunnable workers that report through signals, and the pool that owns them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from desktop.api_types import ApiClientError

log = logging.getLogger(__name__)


class WorkerSignals(QObject):
    """Lives on the GUI thread, so every slot connected here runs there."""

    chunk = Signal(object)
    done = Signal(object)
    failed = Signal(object)
    finished = Signal()


class Worker(QRunnable):
    """Runs `job(worker)` on a pool thread. Never touches a widget; catches everything."""

    def __init__(self, job: Callable[[Worker], Any], name: str = "") -> None:
        super().__init__()
        self.setAutoDelete(False)  # Python owns it: WorkerPool keeps it until `finished`.
        self.signals = WorkerSignals()
        self.name = name or getattr(job, "__name__", "worker")
        self._job = job
        self._cancelled = threading.Event()
        self._ended = threading.Event()
        self._cancel_hooks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def on_cancel(self, hook: Callable[[], None]) -> None:
        """Call `hook` when cancelled (at once if already), e.g. to close a blocking stream."""
        with self._lock:
            if not self.cancelled:
                self._cancel_hooks.append(hook)
                return
        hook()

    def cancel(self) -> None:
        """Ask the job to stop; it sends no `done` or `chunk` afterwards."""
        with self._lock:
            self._cancelled.set()
            hooks, self._cancel_hooks = self._cancel_hooks, []
        for hook in hooks:
            hook()

    def emit_chunk(self, value: object) -> None:
        if not self.cancelled:
            self.signals.chunk.emit(value)

    def run(self) -> None:
        try:
            result = self._job(self)
        except Exception as exc:  # noqa: BLE001 (a worker must never take the app down)
            if not self.cancelled:
                if isinstance(exc, ApiClientError):  # expected: the banner explains it
                    log.warning("%s failed: %s (%s)", self.name, exc.message, exc.code)
                else:
                    log.error("%s failed unexpectedly", self.name, exc_info=exc)
                self.signals.failed.emit(exc)
        else:
            if not self.cancelled:
                self.signals.done.emit(result)
        finally:
            self._ended.set()
            self.signals.finished.emit()

    def when_ended(self, callback: Callable[[], None]) -> None:
        """Call `callback` on the GUI thread once the job has ended, even if it already has
        (then `finished` was sent before this connection, and would never reach it). It may
        be called twice when the job ends just now: use it for what can be done again."""
        self.signals.finished.connect(callback)
        if self._ended.is_set():
            callback()


class WorkerPool(QObject):
    """Starts workers, keeps them alive while they run, and cancels and waits for them all."""

    def __init__(self, max_threads: int = 6, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._active: set[Worker] = set()

    def start(
        self,
        job: Callable[[Worker], Any],
        on_done: Callable[[Any], None] | None = None,
        on_failed: Callable[[BaseException], None] | None = None,
        on_chunk: Callable[[Any], None] | None = None,
        name: str = "",
        on_created: Callable[[Worker], None] | None = None,
    ) -> Worker:
        """Start `job`. `on_created` sees the worker before it runs, so what it connects
        cannot miss a fast failure, and its slots run before `on_done`/`on_failed`."""
        worker = Worker(job, name)
        if on_created is not None:
            on_created(worker)
        if on_done is not None:
            worker.signals.done.connect(on_done)
        if on_failed is not None:
            worker.signals.failed.connect(on_failed)
        if on_chunk is not None:
            worker.signals.chunk.connect(on_chunk)
        worker.signals.finished.connect(lambda: self._active.discard(worker))
        self._active.add(worker)
        self._pool.start(worker)
        return worker

    @property
    def active_count(self) -> int:
        return len(self._active)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel every worker and wait for the threads; True if they all ended in time."""
        for worker in list(self._active):
            worker.cancel()
        return self._pool.waitForDone(timeout_ms)
