"""The prompt library: loads the user's prompts and saves, deletes and activates them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop.api_client import ApiClient
from desktop.api_types import Prompt
from desktop.errors import describe_error
from desktop.jobs import ApiJobs, Job
from desktop.models import PromptModel
from desktop.workers import Worker


class PromptLibraryController(QObject):
    """Owns the prompt model; answers the library dialog with `saved` or `failed`."""

    saved = Signal(str)  # prompt id
    failed = Signal(str)  # what went wrong

    def __init__(self, jobs: ApiJobs, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.prompts = PromptModel(self)

    def load(self, then: Callable[[], None] | None = None) -> None:
        def loaded(prompts: list[Prompt]) -> None:
            self.prompts.set_prompts(prompts)
            if then is not None:
                then()

        self.jobs.run(lambda c, w: c.list_prompts(), loaded, "Loading prompts", latest="prompts")

    def clear(self) -> None:
        self.prompts.set_prompts([])

    def save(self, prompt_id: str, fields: dict[str, str]) -> None:
        """Create the prompt (with no id yet) or change it; `saved` then names it."""

        def job(client: ApiClient, worker: Worker) -> str:
            if not prompt_id:
                return client.create_prompt(**fields).id
            return client.update_prompt(prompt_id, **fields).id

        self._change(job, self.saved.emit, "Saving the prompt")

    def delete(self, prompt_id: str) -> None:
        self._change(lambda c, w: c.delete_prompt(prompt_id), None, "Deleting the prompt")

    def activate(self, prompt_id: str) -> None:
        self._change(lambda c, w: c.activate_prompt(prompt_id), None, "Activating the prompt")

    def _change(self, job: Job, then: Callable[[Any], None] | None, action: str) -> None:
        """A change to the library: reload it afterwards, and tell the library dialog."""

        def done(result: Any) -> None:
            self.load(then=(lambda: then(result)) if then else None)

        def started(worker: Worker) -> None:
            worker.signals.failed.connect(
                lambda exc: self.failed.emit(describe_error(exc, action).message)
            )

        self.jobs.run(job, done, action, on_start=started)
