"""The Admin view's work: users, the admin's own keys, usage per user and the audit log."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop.api_client import ApiClient
from desktop.api_types import AuditPage, KeyInfo, NewUser, User, UserUsage
from desktop.errors import describe_error
from desktop.jobs import ApiJobs, Job
from desktop.usage_data import last_days
from desktop.workers import Worker

AUDIT_PAGE = 50  # audit entries per page


class AdminController(QObject):
    """Each load answers with its `*_loaded` signal; any failure with `failed(part, message)`,
    `part` being the tab that asked ("users", "keys", "usage" or "audit")."""

    users_loaded = Signal(list)  # list[User]
    user_created = Signal(object)  # NewUser: its key is shown once
    keys_loaded = Signal(list)  # list[KeyInfo]
    key_created = Signal(object)  # NewKey: shown once
    usage_loaded = Signal(list)  # list[UserUsage]
    audit_loaded = Signal(object, int)  # AuditPage, its offset
    failed = Signal(str, str)  # part, message

    def __init__(self, jobs: ApiJobs, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs

    # Users
    def load_users(self) -> None:
        job, done = (lambda c, w: c.list_users()), self.users_loaded.emit
        self._run("users", job, done, "Loading users", latest="admin-users")

    def create_user(self, username: str, fields: dict[str, Any]) -> None:
        def created(new_user: NewUser) -> None:
            self.user_created.emit(new_user)
            self.load_users()

        self._run(
            "users", lambda c, w: c.create_user(username, **fields), created, "Creating the user"
        )

    def update_user(self, username: str, fields: dict[str, Any]) -> None:
        job: Job = partial(_update_user, username, fields)
        self._run("users", job, lambda _: self.load_users(), f"Changing user {username}")

    # A user's keys: any user's to list and revoke; a new one only for oneself (/me/keys)
    def load_keys(self, username: str) -> None:
        def job(client: ApiClient, worker: Worker) -> list[KeyInfo]:
            return client.list_user_keys(username)

        self._run("keys", job, self.keys_loaded.emit, "Loading keys", latest="admin-keys")

    def create_key(self, name: str) -> None:
        """A key for the signed-in admin: the API makes keys for their owner only."""

        job, done = (lambda c, w: c.create_key(name)), self.key_created.emit
        self._run("keys", job, done, "Creating a key")

    def revoke_key(self, username: str, prefix: str) -> None:
        def job(client: ApiClient, worker: Worker) -> None:
            client.revoke_user_key(username, prefix)

        self._run("keys", job, lambda _: self.load_keys(username), f"Revoking key {prefix}")

    # Usage per user, and the audit log
    def load_usage(self, days: int) -> None:
        start, end = last_days(days)

        def job(client: ApiClient, worker: Worker) -> list[UserUsage]:
            return client.usage_by_user(start, end)

        done = self.usage_loaded.emit
        self._run("usage", job, done, "Loading usage per user", latest="admin-usage")

    def load_audit(self, offset: int, action: str = "", actor: str = "") -> None:
        def job(client: ApiClient, worker: Worker) -> AuditPage:
            return client.audit(AUDIT_PAGE, offset, action, actor)

        def done(page: AuditPage) -> None:
            self.audit_loaded.emit(page, offset)

        self._run("audit", job, done, "Loading the audit log", latest="admin-audit")

    def _run(
        self, part: str, job: Job, done: Callable[[Any], None], action: str, latest: str = ""
    ) -> None:
        def started(worker: Worker) -> None:
            worker.signals.failed.connect(
                lambda exc: self.failed.emit(part, describe_error(exc, action).message)
            )

        self.jobs.run(job, done, action, latest=latest, on_start=started)


def _update_user(username: str, fields: dict[str, Any], client: ApiClient, worker: Worker) -> User:
    return client.update_user(username, **fields)
