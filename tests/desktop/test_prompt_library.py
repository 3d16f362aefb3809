"""The prompt library dialog, driven through its widgets against a real server."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop.api_client import ApiClient, ApiClientError
from desktop.dialogs.prompt_library import PromptLibraryDialog
from desktop.main_window import MainWindow
from tests.desktop.helpers import WAIT_MS, answering, click, focus, wait_idle

Button = QMessageBox.StandardButton


@pytest.fixture
def library(qtbot, window: MainWindow) -> PromptLibraryDialog:  # noqa: ANN001
    qtbot.mouseClick(window.library_button, Qt.MouseButton.LeftButton)
    dialog = window.prompt_library
    assert dialog is not None and dialog.isVisible()
    return dialog


@pytest.fixture
def api(live_server, admin_key: str) -> ApiClient:  # noqa: ANN001
    return ApiClient(live_server.url, admin_key)


def _names(dialog: PromptLibraryDialog) -> list[str]:
    model = dialog.list.model()
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def _click_prompt(qtbot, dialog: PromptLibraryDialog, name: str) -> None:  # noqa: ANN001
    row = _names(dialog).index(name)
    rect = dialog.list.visualRect(dialog.list.model().index(row, 0))
    qtbot.mouseClick(dialog.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _create(qtbot, dialog: PromptLibraryDialog, name: str, content: str) -> None:  # noqa: ANN001
    qtbot.mouseClick(dialog.new_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.name_edit, name)
    qtbot.keyClicks(dialog.description_edit, "For testing")
    qtbot.keyClicks(dialog.content_edit, content)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.editing_id() is not None, timeout=WAIT_MS)


def test_the_library_lists_the_built_in_prompts_with_default_active(
    library: PromptLibraryDialog,
    qtmodeltester,  # noqa: ANN001
) -> None:
    assert _names(library) == ["Code Assistant", "Default", "Research Assistant"]
    model = library.list.model()
    qtmodeltester.check(model)
    assert model.index(1, 0).data(Qt.ItemDataRole.FontRole).bold()  # Default: active


def test_a_new_prompt_is_created_and_selected(
    qtbot,
    library: PromptLibraryDialog,
    api: ApiClient,  # noqa: ANN001
) -> None:
    _create(qtbot, library, "Pirate", "Talk like a pirate.")
    assert "Pirate" in _names(library)
    assert library.list.currentIndex().data() == "Pirate"
    assert not library.is_dirty()
    saved = api.get_prompt(library.editing_id() or "")
    assert (saved.content, saved.description) == ("Talk like a pirate.", "For testing")


def test_an_edit_is_saved_to_the_server(
    qtbot,
    library: PromptLibraryDialog,
    api: ApiClient,  # noqa: ANN001
) -> None:
    _click_prompt(qtbot, library, "Code Assistant")
    library.content_edit.selectAll()
    qtbot.keyClicks(library.content_edit, "Answer with code only.")
    assert library.state_label.text() == "Unsaved changes."
    qtbot.mouseClick(library.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not library.is_dirty(), timeout=WAIT_MS)
    assert api.get_prompt("code-assistant").content == "Answer with code only."


def test_ctrl_s_saves_in_the_editor(qtbot, library: PromptLibraryDialog, api: ApiClient) -> None:  # noqa: ANN001
    _click_prompt(qtbot, library, "Research Assistant")
    focus(qtbot, library.content_edit)
    library.content_edit.selectAll()
    qtbot.keyClicks(library.content_edit, "Cite your sources.")
    qtbot.keyClick(library.content_edit, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not library.is_dirty(), timeout=WAIT_MS)
    assert api.get_prompt("research-assistant").content == "Cite your sources."


def test_activating_a_prompt_marks_it_and_updates_the_picker(
    qtbot,
    window: MainWindow,
    library: PromptLibraryDialog,
    api: ApiClient,  # noqa: ANN001
) -> None:
    _click_prompt(qtbot, library, "Research Assistant")
    qtbot.mouseClick(library.activate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: window.prompt_combo.currentText() == "Research Assistant", timeout=WAIT_MS
    )
    assert library.list.currentIndex().data(Qt.ItemDataRole.FontRole).bold()
    assert not library.activate_button.isEnabled()
    assert api.active_prompt().prompt_id == "research-assistant"


def test_the_main_window_picker_activates_a_prompt(
    qtbot,
    window: MainWindow,
    api: ApiClient,  # noqa: ANN001
) -> None:
    combo = window.prompt_combo
    combo.showPopup()
    view = combo.view()
    rect = view.visualRect(combo.model().index(combo.findText("Code Assistant"), 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: api.active_prompt().prompt_id == "code-assistant", timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert combo.currentText() == "Code Assistant"


def test_deleting_asks_first_then_shows_the_first_prompt_left(
    qtbot,
    library: PromptLibraryDialog,
    api: ApiClient,  # noqa: ANN001
) -> None:
    _create(qtbot, library, "Temporary", "Short-lived.")
    with answering(click(Button.Cancel)):
        qtbot.mouseClick(library.delete_button, Qt.MouseButton.LeftButton)
    assert "Temporary" in _names(library)
    with answering(click(Button.Yes)):
        qtbot.mouseClick(library.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Temporary" not in _names(library), timeout=WAIT_MS)
    assert library.editing_id() == "code-assistant"  # the first one left
    with pytest.raises(ApiClientError):
        api.get_prompt("temporary")


def test_switching_away_from_unsaved_edits_asks_and_cancel_stays(
    qtbot,
    library: PromptLibraryDialog,  # noqa: ANN001
) -> None:
    _click_prompt(qtbot, library, "Default")
    qtbot.keyClicks(library.description_edit, " (edited)")
    with answering(click(Button.Cancel)):
        _click_prompt(qtbot, library, "Code Assistant")
    assert library.editing_id() == "default" and library.is_dirty()
    assert library.list.currentIndex().data() == "Default"


def test_discard_drops_the_edits_and_switches(
    qtbot,
    library: PromptLibraryDialog,
    api: ApiClient,  # noqa: ANN001
) -> None:
    _click_prompt(qtbot, library, "Default")
    qtbot.keyClicks(library.description_edit, " (edited)")
    with answering(click(Button.Discard)):
        _click_prompt(qtbot, library, "Code Assistant")
    assert library.editing_id() == "code-assistant" and not library.is_dirty()
    assert "(edited)" not in api.get_prompt("default").description


def test_save_in_the_guard_saves_then_switches(
    qtbot,
    library: PromptLibraryDialog,
    api: ApiClient,  # noqa: ANN001
) -> None:
    _click_prompt(qtbot, library, "Default")
    qtbot.keyClicks(library.description_edit, " (kept)")
    with answering(click(Button.Save)):
        _click_prompt(qtbot, library, "Code Assistant")
    qtbot.waitUntil(lambda: library.editing_id() == "code-assistant", timeout=WAIT_MS)
    assert api.get_prompt("default").description.endswith(" (kept)")


def test_closing_with_unsaved_edits_asks_first(
    qtbot,
    library: PromptLibraryDialog,  # noqa: ANN001
) -> None:
    qtbot.mouseClick(library.new_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(library.name_edit, "Draft")
    with answering(click(Button.Cancel)):
        library.close()
    assert library.isVisible()
    with answering(click(Button.Discard)):
        qtbot.keyClick(library, Qt.Key.Key_Escape)
    assert not library.isVisible()


def test_a_duplicate_name_is_refused_and_the_edits_are_kept(
    qtbot,
    library: PromptLibraryDialog,  # noqa: ANN001
) -> None:
    qtbot.mouseClick(library.new_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(library.name_edit, "Default")
    qtbot.keyClicks(library.content_edit, "Same name as the built-in one.")
    qtbot.mouseClick(library.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "failed" in library.state_label.text(), timeout=WAIT_MS)
    assert library.is_dirty() and library.editing_id() is None
    assert library.content_edit.toPlainText() == "Same name as the built-in one."
