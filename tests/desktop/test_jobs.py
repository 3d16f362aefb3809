"""ApiJobs: every failure is reported once, and Retry starts the same call again by itself."""

from __future__ import annotations

from typing import Any, cast

import pytest

from desktop.api_client import ApiClient
from desktop.api_types import ApiClientError
from desktop.errors import ErrorInfo
from desktop.jobs import ApiJobs
from desktop.workers import Worker, WorkerPool
from tests.desktop.helpers import WAIT_MS

pytestmark = pytest.mark.usefixtures("qapp")


class _Client:
    """Stands in for ApiClient: the jobs below never call it."""

    rate_limit = None


def _jobs() -> tuple[ApiJobs, list[ErrorInfo]]:
    jobs = ApiJobs(WorkerPool())
    failures: list[ErrorInfo] = []
    jobs.failed.connect(failures.append)
    return jobs, failures


def _flaky(attempts: list[int]) -> Any:
    """A job that fails the first time and answers the attempt number afterwards."""

    def job(client: ApiClient, worker: Worker) -> int:
        attempts.append(len(attempts) + 1)
        if len(attempts) == 1:
            raise ApiClientError("provider_unavailable", "down", 503)
        return attempts[-1]

    return job


def test_retry_starts_the_failed_call_again_with_its_plan_and_callbacks(qtbot) -> None:  # noqa: ANN001
    jobs, failures = _jobs()
    jobs.client = cast(ApiClient, _Client())
    attempts: list[int] = []
    plans: list[str] = []
    results: list[int] = []

    def plan() -> Any:
        plans.append("shown")
        return _flaky(attempts)

    jobs.run_planned(plan, results.append, "Sending")
    qtbot.waitUntil(lambda: len(failures) == 1, timeout=WAIT_MS)
    assert failures[0].kind == "provider_down" and failures[0].message.startswith("Sending")
    jobs.retry()
    qtbot.waitUntil(lambda: results == [2], timeout=WAIT_MS)
    assert plans == ["shown", "shown"] and len(failures) == 1
    jobs.retry()  # nothing failed since: nothing to do
    assert plans == ["shown", "shown"]
    assert jobs.pool.shutdown()


def test_a_call_made_before_connecting_is_retried_once_connected(qtbot) -> None:  # noqa: ANN001
    jobs, failures = _jobs()
    results: list[str] = []
    jobs.run(lambda client, worker: "listed", results.append, "Loading chats")
    assert [(f.kind, f.message) for f in failures] == [
        ("offline", "Loading chats failed: not connected yet.")
    ]
    jobs.client = cast(ApiClient, _Client())
    jobs.retry()
    qtbot.waitUntil(lambda: results == ["listed"], timeout=WAIT_MS)
    assert jobs.pool.shutdown()


def test_only_the_latest_job_of_a_kind_delivers(qtbot) -> None:  # noqa: ANN001
    jobs, _ = _jobs()
    jobs.client = cast(ApiClient, _Client())
    results: list[str] = []
    jobs.run(lambda client, worker: "old", results.append, "Opening the chat", latest="open")
    jobs.run(lambda client, worker: "new", results.append, "Opening the chat", latest="open")
    qtbot.waitUntil(lambda: jobs.pool.active_count == 0, timeout=WAIT_MS)
    assert results == ["new"]
    assert jobs.pool.shutdown()


def test_on_start_sees_the_worker_before_it_runs_and_hears_a_failure_before_the_banner(
    qtbot,  # noqa: ANN001
) -> None:
    jobs, failures = _jobs()
    jobs.client = cast(ApiClient, _Client())
    heard: list[str] = []
    jobs.failed.connect(lambda info: heard.append("banner"))

    def watch(worker: Worker) -> None:
        heard.append("started")
        worker.signals.failed.connect(lambda exc: heard.append("session"))

    def fails_at_once(client: ApiClient, worker: Worker) -> None:
        heard.append("ran")
        raise ApiClientError("rate_limited", "slow down", 429)

    jobs.run(fails_at_once, None, "Sending", on_start=watch)
    qtbot.waitUntil(lambda: len(failures) == 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: jobs.pool.active_count == 0, timeout=WAIT_MS)
    assert heard == ["started", "ran", "session", "banner"]


def test_when_ended_calls_back_even_for_a_worker_that_already_ended(qtbot) -> None:  # noqa: ANN001
    pool = WorkerPool()
    worker = pool.start(lambda worker: None)
    qtbot.waitUntil(worker._ended.is_set, timeout=WAIT_MS)  # ended; its `finished` already sent
    calls: list[str] = []
    worker.when_ended(lambda: calls.append("ended"))
    assert calls == ["ended"]
