"""The list models pass Qt's model tester; the token buffer batches; workers never crash."""

from __future__ import annotations

import logging

import pytest
from PySide6.QtCore import Qt

from desktop.api_types import ChatSummary, Prompt
from desktop.message_model import Message, MessageModel, TokenBuffer
from desktop.models import ACTIVE_ROLE, ID_ROLE, ChatListModel, PromptModel
from desktop.workers import WorkerPool
from tests.desktop.helpers import WAIT_MS

pytestmark = pytest.mark.usefixtures("qapp")  # icons and fonts need the GUI application


def _chats() -> list[ChatSummary]:
    return [ChatSummary(f"c{i}", f"Chat {i}", "2026-01-02T10:00:00Z", i) for i in range(5)]


def test_chat_list_model_passes_the_model_tester(qtmodeltester) -> None:  # noqa: ANN001
    model = ChatListModel()
    model.set_chats(_chats())
    qtmodeltester.check(model)
    model.add_first(ChatSummary("new", "Fresh"))
    model.rename("c2", "Renamed")
    model.remove("c3")
    qtmodeltester.check(model)
    assert [model.chat(r).id for r in range(model.rowCount())] == ["new", "c0", "c1", "c2", "c4"]
    assert model.index(3).data() == "Renamed"


def test_untitled_chats_still_show_a_title() -> None:
    model = ChatListModel()
    model.set_chats([ChatSummary("x", "")])
    assert model.index(0).data() == "Untitled chat"
    assert model.index(0).data(ID_ROLE) == "x"


def test_message_model_passes_the_model_tester_while_streaming(qtmodeltester) -> None:  # noqa: ANN001
    model = MessageModel()
    model.set_messages([Message("user", "hi"), Message("assistant", "**hello**")])
    qtmodeltester.check(model)
    model.append(Message("assistant", "", streaming=True))
    model.append_text("par")
    model.append_text("tial")
    model.finish_last("cancelled")
    qtmodeltester.check(model)
    assert model.message(2).content == "partial"
    assert model.message(2).finish_reason == "cancelled" and not model.message(2).streaming
    assert model.message(2).timestamp  # a reply has its time once it ends, as stored ones do
    assert "<strong>hello</strong>" in model.message(1).rendered()
    model.remove_last(2)
    assert model.rowCount() == 1


def test_prompt_model_marks_the_active_prompt(qtmodeltester) -> None:  # noqa: ANN001
    model = PromptModel()
    model.set_prompts([Prompt("b", "Beta", "x"), Prompt("a", "Alpha", "y", is_active=True)])
    qtmodeltester.check(model)
    assert model.active_row() == 0 and model.index(0).data(ACTIVE_ROLE)
    assert model.index(0).data(Qt.ItemDataRole.FontRole).bold()
    assert model.index(1).data(Qt.ItemDataRole.FontRole) is None


def test_token_buffer_releases_many_tokens_as_one_batch(qtbot) -> None:  # noqa: ANN001
    buffer = TokenBuffer(50)
    batches: list[str] = []
    buffer.flushed.connect(batches.append)
    for token in ["a", "b", "c"]:
        buffer.add(token)
    assert batches == []
    qtbot.waitUntil(lambda: batches == ["abc"], timeout=WAIT_MS)


def test_a_failing_worker_reports_and_logs_instead_of_crashing(
    qtbot,
    caplog: pytest.LogCaptureFixture,  # noqa: ANN001
) -> None:
    pool = WorkerPool()
    failures: list[BaseException] = []
    pool.start(lambda w: 1 / 0, on_failed=failures.append, name="divide")
    qtbot.waitUntil(lambda: pool.active_count == 0, timeout=WAIT_MS)
    assert isinstance(failures[0], ZeroDivisionError)
    assert any(r.levelno == logging.ERROR and "divide" in r.message for r in caplog.records)
    assert pool.shutdown()


def test_a_cancelled_worker_sends_no_result(qtbot) -> None:  # noqa: ANN001
    pool = WorkerPool()
    results: list[object] = []

    def job(worker) -> str:  # noqa: ANN001
        worker.cancel()
        return "too late"

    worker = pool.start(job, on_done=results.append)
    qtbot.waitUntil(lambda: pool.active_count == 0, timeout=WAIT_MS)
    assert results == [] and worker.cancelled
    assert pool.shutdown()
