"""The user's own usage: loads the report and the quotas that apply, off the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from desktop.api_client import ApiClient
from desktop.errors import describe_error
from desktop.jobs import ApiJobs
from desktop.usage_data import UsageSnapshot, last_days
from desktop.workers import Worker


class UsageController(QObject):
    """Answers the Usage view with `loaded(UsageSnapshot)` or `failed(message)`."""

    loaded = Signal(object)  # UsageSnapshot
    failed = Signal(str)

    def __init__(self, jobs: ApiJobs, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs

    def load(self, days: int) -> None:
        start, end = last_days(days)

        def job(client: ApiClient, worker: Worker) -> UsageSnapshot:
            return UsageSnapshot(client.my_usage(start, end), client.me())

        # on_failed hears of a failure before any request too (e.g. not connected yet)
        self.jobs.run_planned(
            lambda: job, self.loaded.emit, "Loading usage", latest="usage", on_failed=self._fail
        )

    def _fail(self, error: BaseException) -> None:
        self.failed.emit(describe_error(error).message)
