"""API calls as background jobs: one client, the worker pool, errors, retries and rate limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop.api_client import ApiClient
from desktop.api_types import ApiClientError, RateLimit
from desktop.errors import describe_error
from desktop.workers import Worker, WorkerPool

Job = Callable[[ApiClient, Worker], Any]  # an API call, run off the GUI thread
Work = Callable[[Worker], Any]  # what a worker runs: a Job bound to the client, or other work
Plan = Callable[[], Work | None]  # the GUI-thread step before each attempt; None: do nothing


@dataclass(frozen=True)
class _Call:
    """Everything needed to start a piece of work, and so to start it again on Retry."""

    plan: Plan
    on_done: Callable[[Any], None] | None
    action: str
    latest: str
    on_start: Callable[[Worker], None] | None
    on_failed: Callable[[BaseException], None] | None = None


class ApiJobs(QObject):
    """Runs work off the GUI thread, reports failures as ErrorInfo, and retries them.

    A failed call is remembered under its action; `retry()` starts each one again, exactly
    as it was first started. Callers never pass a retry of their own.
    """

    failed = Signal(object)  # ErrorInfo
    rate_limit_changed = Signal(object)  # RateLimit

    def __init__(self, pool: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self.client: ApiClient | None = None
        self._retries: dict[str, _Call] = {}
        self._latest: dict[str, int] = {}
        self._rate_limit: RateLimit | None = None

    def run(
        self,
        job: Job,
        on_done: Callable[[Any], None] | None,
        action: str,
        *,
        latest: str = "",
        on_start: Callable[[Worker], None] | None = None,
    ) -> Worker | None:
        """Call `job(client, worker)` off the GUI thread and hand its result to `on_done`.

        With `latest`, only the newest job of that kind delivers: an older, slower answer is
        dropped. `on_start` gets each worker started, the first time and on Retry."""
        return self.run_planned(lambda: job, on_done, action, latest=latest, on_start=on_start)

    def run_planned(
        self,
        plan: Callable[[], Job | None],
        on_done: Callable[[Any], None] | None,
        action: str,
        *,
        latest: str = "",
        on_start: Callable[[Worker], None] | None = None,
        on_failed: Callable[[BaseException], None] | None = None,
    ) -> Worker | None:
        """Like `run`, with a GUI-thread step first: `plan()` updates what the window shows
        and returns the job, or None to do nothing. Retry calls `plan()` again.
        `on_failed` hears of each failed attempt, before or after `plan()` ran."""

        def bound() -> Work | None:
            client = self.client
            if client is None:
                raise ApiClientError("not_connected", "not connected yet")
            job = plan()
            return None if job is None else partial(job, client)

        return self._attempt(_Call(bound, on_done, action, latest, on_start, on_failed))

    def start(
        self,
        plan: Plan,
        on_done: Callable[[Any], None] | None,
        action: str,
        *,
        latest: str = "",
        on_start: Callable[[Worker], None] | None = None,
    ) -> Worker | None:
        """Work that needs no API client (e.g. starting the local server), as `run_planned`."""
        return self._attempt(_Call(plan, on_done, action, latest, on_start))

    def supersede(self, kind: str) -> int:
        """Drop the result of any running job of this kind; return the new job's ticket."""
        self._latest[kind] = self._latest.get(kind, 0) + 1
        return self._latest[kind]

    def retry(self) -> None:
        """Redo everything that failed since the last retry (each kind of action once)."""
        calls, self._retries = self._retries, {}
        for call in calls.values():
            self._attempt(call)

    def _attempt(self, call: _Call) -> Worker | None:
        try:
            work = call.plan()
        except ApiClientError as exc:
            self._report(exc, call)
            return None
        if work is None:
            return None
        ticket = self.supersede(call.latest)

        def current() -> bool:
            return not call.latest or self._latest[call.latest] == ticket

        def deliver(result: Any) -> None:
            self._note_rate_limit()
            if call.on_done is not None and current():
                call.on_done(result)

        def fail(exc: BaseException) -> None:
            self._note_rate_limit()
            if current():
                self._report(exc, call)

        return self.pool.start(work, deliver, fail, name=call.action, on_created=call.on_start)

    def _report(self, error: BaseException, call: _Call) -> None:
        """Show a failure; Retry will start the same call again."""
        self._retries[call.action] = call
        if call.on_failed is not None:
            call.on_failed(error)
        self.failed.emit(describe_error(error, call.action))

    def _note_rate_limit(self) -> None:
        client = self.client
        if client is not None and client.rate_limit not in (None, self._rate_limit):
            self._rate_limit = client.rate_limit
            self.rate_limit_changed.emit(client.rate_limit)
