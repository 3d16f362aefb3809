"""The chat list: search, New, Rename in place (F2) and Delete after confirmation (Del)."""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QFont,
    QFontMetrics,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QLineEdit,
    QListView,
    QMessageBox,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.models import DETAILS_ROLE, ID_ROLE, ChatListModel, elide

Index = QModelIndex | QPersistentModelIndex
_TOP_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop


class _ChatDelegate(QStyledItemDelegate):
    """Draws a chat as two lines; edits a title in place, but reports the new title instead of
    writing it to the model: the model changes only once the server has accepted the rename."""

    renamed = Signal(str, str)

    PAD = 6

    def setModelData(  # noqa: N802 (Qt's API)
        self, editor: QWidget, model: QAbstractItemModel, index: Index
    ) -> None:
        assert isinstance(editor, QLineEdit)
        title = editor.text().strip()
        if title and title != index.data(Qt.ItemDataRole.EditRole):
            self.renamed.emit(str(index.data(ID_ROLE)), title)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:  # noqa: N802
        # Two lines and some air; no width of its own, so a long title is elided, not scrolled.
        line = option.fontMetrics.height()
        return QSize(0, 2 * line + 3 * self.PAD)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        """The title in one elided line, and when and how long the chat is, dimmed, below."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        palette = opt.palette
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        area = opt.rect.adjusted(self.PAD + 2, self.PAD, -self.PAD, -self.PAD)
        line = opt.fontMetrics.height()
        painter.save()
        title_font = QFont(opt.font)
        title_font.setWeight(QFont.Weight.DemiBold if selected else QFont.Weight.Medium)
        painter.setFont(title_font)
        painter.setPen(palette.color(text_role))
        title = QFontMetrics(title_font).elidedText(
            str(index.data(Qt.ItemDataRole.DisplayRole)), Qt.TextElideMode.ElideRight, area.width()
        )
        painter.drawText(area.adjusted(0, 0, 0, -line), _TOP_LEFT, title)
        details_color = palette.color(text_role if selected else QPalette.ColorRole.PlaceholderText)
        painter.setPen(details_color)
        painter.setFont(opt.font)
        details = opt.fontMetrics.elidedText(
            str(index.data(DETAILS_ROLE) or ""), Qt.TextElideMode.ElideRight, area.width()
        )
        painter.drawText(area.adjusted(0, line + self.PAD // 2, 0, 0), _TOP_LEFT, details)
        painter.restore()

    def createEditor(  # noqa: N802 (Qt's API)
        self, parent: QWidget, option: QStyleOptionViewItem, index: Index
    ) -> QWidget:
        editor = super().createEditor(parent, option, index)
        editor.setObjectName("renameEditor")
        return editor


class _ChatList(QListView):
    """A list that says why it is empty."""

    def __init__(self) -> None:
        super().__init__()
        self.empty_text = ""

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's API)
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0 and self.empty_text:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            area = self.viewport().rect().adjusted(12, 24, -12, -12)
            flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
            painter.drawText(area, flags | Qt.TextFlag.TextWordWrap, self.empty_text)
            painter.end()


class ChatSidebar(QWidget):
    """Emits intents; the chats themselves live in the ChatListModel."""

    new_requested = Signal()
    chat_selected = Signal(str)
    rename_requested = Signal(str, str)
    delete_requested = Signal(str)
    search_changed = Signal(str)

    SEARCH_DELAY_MS = 250

    def __init__(self, model: ChatListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._setup_ui()
        self._connect_signals()

    def _setup_ui(self) -> None:
        self.search = QLineEdit()
        self.search.setObjectName("chatSearch")
        self.search.setPlaceholderText("Search chats")
        self.search.setClearButtonEnabled(True)
        self.list = _ChatList()
        self.list.setObjectName("chatList")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setModel(self._model)
        self.list.setUniformItemSizes(True)
        # F2 and Del are actions (below and in the main window), so they also work from the buttons.
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._delegate = _ChatDelegate(self.list)
        self.list.setItemDelegate(self._delegate)
        self.new_button = _button("New")
        self.new_button.setToolTip(f"New chat ({_shortcut(QKeySequence.StandardKey.New)})")
        self.rename_button = _button("Rename")
        self.rename_button.setToolTip("Rename the chat (F2)")
        self.delete_button = _button("Delete")
        self.delete_button.setToolTip("Delete the chat (Del)")
        buttons = QHBoxLayout()
        for button in (self.new_button, self.rename_button, self.delete_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 4, 8)
        layout.addWidget(self.search)
        layout.addLayout(buttons)
        layout.addWidget(self.list, 1)
        # Del only in the sidebar: in the composer it must still delete text.
        self.delete_action = QAction("Delete Chat…", self)
        self.delete_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.list.addAction(self.delete_action)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(self.SEARCH_DELAY_MS)
        self._update_buttons()
        self._update_empty_text()

    def _connect_signals(self) -> None:
        self.search.textChanged.connect(self._search_timer.start)
        self.search.textChanged.connect(self._update_empty_text)
        self._search_timer.timeout.connect(lambda: self.search_changed.emit(self.search.text()))
        self.new_button.clicked.connect(self.new_requested)
        self.rename_button.clicked.connect(self.start_rename)
        self.delete_button.clicked.connect(self.confirm_delete)
        self.delete_action.triggered.connect(self.confirm_delete)
        self.list.selectionModel().currentChanged.connect(self._on_current_changed)
        self._delegate.renamed.connect(self.rename_requested)
        self._model.modelReset.connect(self._update_buttons)
        self._model.rowsRemoved.connect(self._update_buttons)

    def _update_empty_text(self) -> None:
        query = self.search.text().strip()
        none = f"No chats match “{elide(query, 40)}”." if query else "No chats yet."
        self.list.empty_text = none
        self.list.viewport().update()

    def current_chat_id(self) -> str | None:
        index = self.list.currentIndex()
        return str(index.data(ID_ROLE)) if index.isValid() else None

    def select_chat(self, chat_id: str | None) -> None:
        """Show `chat_id` as current without asking to open it again."""
        row = self._model.row_of(chat_id) if chat_id else -1
        blocker = self.list.selectionModel().blockSignals(True)
        if row >= 0:
            self.list.setCurrentIndex(self._model.index(row))
        else:
            self.list.selectionModel().clear()
        self.list.selectionModel().blockSignals(blocker)
        self.list.viewport().update()
        self._update_buttons()

    def start_rename(self) -> None:
        index = self.list.currentIndex()
        if index.isValid():
            self.list.edit(index)

    def confirm_delete(self) -> None:
        index = self.list.currentIndex()
        if not index.isValid():
            return
        title = elide(str(index.data(Qt.ItemDataRole.DisplayRole)), 60)
        answer = QMessageBox.question(
            self,
            "Delete chat",
            f"Delete “{title}” and all its messages? This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_requested.emit(str(index.data(ID_ROLE)))

    def _on_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        self._update_buttons()
        if current.isValid():
            self.chat_selected.emit(str(current.data(ID_ROLE)))

    def _update_buttons(self) -> None:
        has_current = self.list.currentIndex().isValid()
        self.rename_button.setEnabled(has_current)
        self.delete_button.setEnabled(has_current)


def _button(text: str) -> QToolButton:
    """A compact button that shares the sidebar's width with its neighbours."""
    button = QToolButton()
    button.setText(text)
    button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return button


def _shortcut(key: QKeySequence.StandardKey) -> str:
    return QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)
