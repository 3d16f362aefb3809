"""The parts of branching that need no server: message ids and siblings in the model, the
"‹ n / m ›" arithmetic, the server's ids taken into the rows shown, and the composer's edit mode."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.api_types import ChatHistory
from desktop.message_model import Message, MessageModel
from desktop.widgets.composer import Composer
from desktop.widgets.transcript import Transcript


def _rows(*specs: tuple[str, str, str, list[str]]) -> list[Message]:
    return [Message(role, text, id=i, sibling_ids=sib) for role, text, i, sib in specs]


def test_ids_and_siblings_are_read_as_text_whatever_their_json_type() -> None:
    history = ChatHistory.from_json(
        {
            "id": "c",
            "title": "t",
            "messages": [
                {"role": "user", "content": "hi", "id": 7, "parent_id": 3, "sibling_ids": [5, 7]}
            ],
        }
    )
    message = Message.of(history.messages[0])
    assert (message.id, message.parent_id, message.sibling_ids) == ("7", "3", ["5", "7"])
    assert message.branch == (2, 2)


def test_a_message_knows_its_place_among_its_siblings() -> None:
    middle = Message("assistant", "b", id="2", sibling_ids=["1", "2", "3"])
    assert middle.branch == (2, 3)
    assert (middle.sibling(-1), middle.sibling(1)) == ("1", "3")
    first = Message("assistant", "a", id="1", sibling_ids=["1", "2"])
    assert first.sibling(-1) is None and first.sibling(1) == "2"
    alone = Message("user", "q", id="9", sibling_ids=["9"])
    assert alone.branch == (1, 1) and alone.sibling(1) is None
    assert Message("user", "unsent").branch == (1, 1)


def test_adopt_takes_the_servers_ids_for_the_rows_shown(qtmodeltester) -> None:  # noqa: ANN001
    model = MessageModel()
    model.set_messages([Message("user", "q"), Message("assistant", "a")])
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom: changed.append((top.row(), bottom.row())))
    stored = _rows(
        ("system", "sys", "1", ["1"]),
        ("user", "q", "2", ["2"]),
        ("assistant", "a", "3", ["3", "4"]),
    )
    model.adopt(stored)
    assert [model.message(r).id for r in range(2)] == ["2", "3"]
    assert model.message(1).branch == (1, 2)
    assert model.rowCount() == 2 and changed == [(0, 1)]
    assert model.last_row("user") == 0 and model.row_of("3") == 1
    qtmodeltester.check(model)


def test_adopt_shows_the_server_copy_when_the_rows_read_differently() -> None:
    model = MessageModel()
    model.set_messages([Message("user", "q"), Message("assistant", "not what was stored")])
    model.adopt(_rows(("user", "q", "2", ["2"]), ("assistant", "a", "3", ["3"])))
    assert [model.message(r).content for r in range(model.rowCount())] == ["q", "a"]


def test_a_stopped_reply_keeps_its_words_when_the_server_kept_more() -> None:
    model = MessageModel()
    stopped = Message("assistant", "one two", finish_reason="cancelled")
    model.set_messages([Message("user", "q"), stopped])
    model.adopt(_rows(("user", "q", "2", ["2"]), ("assistant", "one two three", "3", ["3"])))
    assert model.message(1) is stopped and stopped.id == "3"


def test_cut_from_drops_the_rows_below_a_new_branch(qtmodeltester) -> None:  # noqa: ANN001
    model = MessageModel()
    model.set_messages(
        _rows(("user", "q", "1", ["1"]), ("assistant", "a", "2", ["2"]), ("user", "q2", "3", ["3"]))
    )
    model.cut_from(1)
    assert model.rowCount() == 1 and model.message(0).content == "q"
    qtmodeltester.check(model)


def test_up_in_an_empty_composer_asks_to_edit_and_esc_gives_the_draft_back(qtbot) -> None:  # noqa: ANN001
    composer = Composer()
    qtbot.addWidget(composer)
    composer.show()
    with qtbot.waitSignal(composer.edit_last_requested):
        qtbot.keyClick(composer.edit, Qt.Key.Key_Up)
    qtbot.keyClicks(composer.edit, "my draft")
    with qtbot.assertNotEmitted(composer.edit_last_requested):
        qtbot.keyClick(composer.edit, Qt.Key.Key_Up)  # there is text: Up moves the cursor
    composer.begin_edit("the old question")
    assert composer.editing and composer.edit_bar.isVisible()
    assert composer.button.text() == "Save && send"  # shown as "Save & send"
    with qtbot.waitSignal(composer.edit_cancelled):
        qtbot.keyClick(composer.edit, Qt.Key.Key_Escape)
    assert not composer.editing and composer.text() == "my draft"
    assert composer.button.text() == "Send"


def test_save_and_send_hands_the_edit_over_and_brings_the_draft_back(qtbot) -> None:  # noqa: ANN001
    composer = Composer()
    qtbot.addWidget(composer)
    composer.edit.setPlainText("my draft")
    composer.begin_edit("old")
    composer.edit.setPlainText("new")
    with qtbot.waitSignal(composer.edit_submitted) as sent:
        qtbot.keyClick(composer.edit, Qt.Key.Key_Return)
    assert sent.args == ["new"]
    assert composer.text() == "my draft" and not composer.editing


def test_switching_chats_drops_an_edit_in_progress(qtbot) -> None:  # noqa: ANN001
    composer = Composer()
    qtbot.addWidget(composer)
    composer.switch_draft("a")
    composer.edit.setPlainText("draft of a")
    composer.begin_edit("old")
    composer.switch_draft("b")
    assert not composer.editing and composer.text() == ""
    composer.switch_draft("a")
    assert composer.text() == "draft of a"


def test_rows_rendered_again_in_place_read_as_a_full_render_does(qtbot) -> None:  # noqa: ANN001
    model = MessageModel()
    texts = [f"message {i}\n\n```python\nx = {i}\n```" for i in range(6)]
    model.set_messages(
        [Message("user" if i % 2 == 0 else "assistant", t) for i, t in enumerate(texts)]
    )
    transcript = Transcript(model)
    qtbot.addWidget(transcript)
    transcript.render_all()
    stored = [
        Message(model.message(i).role, t, id=str(i), sibling_ids=[str(i), "x"])
        for i, t in enumerate(texts)
    ]
    rendered_all: list[bool] = []
    transcript.render_all = lambda: rendered_all.append(True)  # type: ignore[method-assign]
    model.adopt(stored)  # every row gains its id, actions and a switcher, in place
    assert not rendered_all
    fresh = Transcript(model)
    qtbot.addWidget(fresh)
    fresh.render_all()
    assert transcript.toPlainText() == fresh.toPlainText()
    assert transcript.toPlainText().count("‹ 1 / 2 ›") == 6
    assert len(transcript.document().rootFrame().childFrames()) == 6


def test_ids_taken_while_a_reply_streams_leave_that_reply_to_be_rendered_once(qtbot) -> None:  # noqa: ANN001
    model = MessageModel()
    model.set_messages([Message("user", "q"), Message("assistant", "a", streaming=True)])
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom: changed.append((top.row(), bottom.row())))
    model.adopt(_rows(("user", "q", "2", ["2"]), ("assistant", "a", "3", ["3"])))
    assert changed == [(0, 0)]  # the reply is drawn when it finishes, with its actions
    assert model.message(1).id == "3"
