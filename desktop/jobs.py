"""API calls as background jobs: one client, the worker pool, errors, retries and rate limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop.api_client import ApiClient, RateLimit
from desktop.errors import ErrorInfo, describe_error
from desktop.workers import Worker, WorkerPool

Job = Callable[[ApiClient, Worker], Any]


class ApiJobs(QObject):
    """Runs `job(client, worker)` off the GUI thread and reports failures as ErrorInfo."""

    failed = Signal(object)  # ErrorInfo
    rate_limit_changed = Signal(object)  # RateLimit

    def __init__(self, pool: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self.client: ApiClient | None = None
        self._retries: dict[str, Callable[[], None]] = {}
        self._latest: dict[str, int] = {}
        self._rate_limit: RateLimit | None = None

    def run(
        self,
        job: Job,
        on_done: Callable[[Any], None] | None,
        action: str,
        retry: Callable[[], None] | None = None,
        latest: str = "",
    ) -> Worker | None:
        """Start the job; None if there is no client yet. With `latest`, only the newest job
        of that kind delivers its result: an older, slower answer is dropped."""
        client = self.client
        if client is None:
            self._remember(action, retry)
            self.failed.emit(ErrorInfo("offline", f"{action} failed: not connected yet."))
            return None
        ticket = self.supersede(latest)

        def current() -> bool:
            return not latest or self._latest[latest] == ticket

        def deliver(result: Any) -> None:
            self._note_rate_limit(client)
            if on_done is not None and current():
                on_done(result)

        def fail(exc: BaseException) -> None:
            self._note_rate_limit(client)
            if current():
                self.report(exc, action, retry)

        return self.pool.start(lambda w: job(client, w), deliver, fail, name=action)

    def supersede(self, kind: str) -> int:
        """Drop the result of any running job of this kind; return the new job's ticket."""
        self._latest[kind] = self._latest.get(kind, 0) + 1
        return self._latest[kind]

    def retry(self) -> None:
        """Redo everything that failed since the last retry (each kind of action once)."""
        retries, self._retries = self._retries, {}
        for action in retries.values():
            action()

    def report(
        self, error: BaseException, action: str, retry: Callable[[], None] | None = None
    ) -> None:
        """Show a failure; Retry will call `retry`."""
        self._remember(action, retry)
        self.failed.emit(describe_error(error, action))

    def _remember(self, action: str, retry: Callable[[], None] | None) -> None:
        if retry is not None:
            self._retries[action] = retry

    def _note_rate_limit(self, client: ApiClient) -> None:
        if client.rate_limit is not None and client.rate_limit != self._rate_limit:
            self._rate_limit = client.rate_limit
            self.rate_limit_changed.emit(client.rate_limit)
