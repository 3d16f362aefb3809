"""The Settings dialog: theme, font size, the connection, and local mode's providers."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.providers import (
    OPENAI_DEFAULT_URL,
    PROVIDER_NAMES,
    ProviderSettings,
    check_provider,
)
from desktop.settings import THEMES, Settings, Theme
from desktop.workers import WorkerPool

_OK, _FAILED = "#2e9d4f", "#d0453a"  # readable on the light and the dark palette


class SettingsDialog(QDialog):
    """Look changes apply at once; provider changes on Save, which restarts the local server.
    The main window listens to the signals."""

    theme_changed = Signal(str)
    font_size_changed = Signal(int)
    change_connection_requested = Signal()
    providers_changed = Signal()

    def __init__(self, settings: Settings, pool: WorkerPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._pool = pool
        self._setup_ui()
        self._connect_signals()

    def _setup_ui(self) -> None:
        self.setWindowTitle("Settings")
        self.setMinimumWidth(620)
        self.theme_combo = QComboBox()
        self.theme_combo.setObjectName("themeCombo")
        for theme in THEMES:
            self.theme_combo.addItem(theme.capitalize(), theme)
        self.font_spin = QSpinBox()
        self.font_spin.setObjectName("fontSizeSpin")
        self.font_spin.setRange(0, 32)
        self.font_spin.setSpecialValueText("Default")
        self.font_spin.setSuffix(" pt")
        self.show_look()
        self.connection_label = QLabel()
        self.connection_label.setObjectName("connectionSummary")
        self.connection_label.setWordWrap(True)
        self.change_button = QPushButton("Change…")
        self.change_button.setObjectName("changeConnectionButton")
        connection_row = QHBoxLayout()
        connection_row.addWidget(self.connection_label, 1)
        connection_row.addWidget(self.change_button)
        form = QFormLayout()
        form.addRow("Theme:", self.theme_combo)
        form.addRow("Font size:", self.font_spin)
        form.addRow("Connection:", connection_row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self._providers_box())
        layout.addWidget(self.buttons)
        self.refresh()

    def _providers_box(self) -> QGroupBox:
        self.providers_box = QGroupBox("Providers (local mode)")
        self.ollama_edit = _edit("ollamaHostEdit", "http://127.0.0.1:11434")
        self.openai_url_edit = _edit("openaiUrlEdit", f"{OPENAI_DEFAULT_URL} or a local server")
        self.openai_key_edit = _edit("openaiKeyEdit", "Not needed by most local servers", True)
        self.anthropic_key_edit = _edit("anthropicKeyEdit", "sk-ant-…", True)
        self.test_buttons = {name: QPushButton("Test") for name in PROVIDER_NAMES}
        self.results = {name: QLabel() for name in self.test_buttons}
        for name, button in self.test_buttons.items():
            button.setObjectName(f"{name}TestButton")
            button.setToolTip("Ask the provider for its models, with what is entered here")
            self.results[name].setObjectName(f"{name}Result")
        self.providers_note = QLabel()
        self.providers_note.setWordWrap(True)
        self.save_providers_button = QPushButton("Save and Restart Local Server")
        self.save_providers_button.setObjectName("saveProvidersButton")
        form = QFormLayout(self.providers_box)
        form.addRow("Ollama host:", _with_button(self.ollama_edit, self.test_buttons["ollama"]))
        form.addRow("", self.results["ollama"])
        form.addRow("OpenAI-compatible URL:", self.openai_url_edit)
        form.addRow("Its API key:", _with_button(self.openai_key_edit, self.test_buttons["openai"]))
        form.addRow("", self.results["openai"])
        anthropic = _with_button(self.anthropic_key_edit, self.test_buttons["anthropic"])
        form.addRow("Anthropic API key:", anthropic)
        form.addRow("", self.results["anthropic"])
        save_row = QHBoxLayout()
        save_row.addWidget(self.providers_note, 1)
        save_row.addWidget(self.save_providers_button)
        form.addRow(save_row)
        return self.providers_box

    def _connect_signals(self) -> None:
        self.theme_combo.currentIndexChanged.connect(self._on_theme)
        self.font_spin.valueChanged.connect(self._on_font_size)
        self.change_button.clicked.connect(self.change_connection_requested)
        self.save_providers_button.clicked.connect(self._save_providers)
        for name, button in self.test_buttons.items():
            button.clicked.connect(lambda _=False, name=name: self.check(name))
        self.buttons.rejected.connect(self.reject)

    def show_look(self) -> None:
        """Show the theme and font size in use (also when changed from the View menu)."""
        for widget in (self.theme_combo, self.font_spin):
            widget.blockSignals(True)
        self.theme_combo.setCurrentIndex(THEMES.index(self._settings.theme))
        self.font_spin.setValue(self._settings.font_size)
        for widget in (self.theme_combo, self.font_spin):
            widget.blockSignals(False)

    def refresh(self) -> None:
        connection = self._settings.connection()
        if connection is None:
            text = "Not set up"
        elif connection.mode == "local":
            text = "Local: the embedded server on this computer"
        else:
            text = f"Remote: {connection.url}"
        where = "the system keyring" if self._settings.key_in_keyring else "the settings file"
        self.connection_label.setText(f"{text}\nKey stored in {where}.")
        self._show_providers(self._settings.providers())
        local = connection is not None and connection.mode == "local"
        self.save_providers_button.setEnabled(local)
        store = "the system keyring" if self._settings.keyring_available() else "the settings file"
        self.providers_note.setText(
            f"The first one set is the default. Keys go to {store}."
            if local
            else "A remote server's providers are set up on that server."
        )

    def _show_providers(self, providers: ProviderSettings) -> None:
        self.ollama_edit.setText(providers.ollama_host)
        self.openai_url_edit.setText(providers.openai_url)
        self.openai_key_edit.setText(providers.openai_key)
        self.anthropic_key_edit.setText(providers.anthropic_key)

    def entered_providers(self) -> ProviderSettings:
        return ProviderSettings(
            ollama_host=self.ollama_edit.text().strip(),
            openai_url=self.openai_url_edit.text().strip(),
            openai_key=self.openai_key_edit.text().strip(),
            anthropic_key=self.anthropic_key_edit.text().strip(),
        )

    def check(self, name: str) -> None:
        """Ask the provider for its models off the GUI thread, and say what came back."""
        providers, label = self.entered_providers(), self.results[name]
        button = self.test_buttons[name]
        _show_result(label, "Checking…", "")
        button.setEnabled(False)
        self._pool.start(
            lambda worker: check_provider(providers, name),
            on_done=lambda text: _show_result(label, f"✓ {text}", _OK),
            on_failed=lambda exc: _show_result(label, f"✗ {exc}", _FAILED),
            name=f"Checking {name}",
            # Connected before the worker runs: a fast failure must not leave it disabled.
            on_created=lambda worker: worker.signals.finished.connect(
                lambda: button.setEnabled(True)
            ),
        )

    def _save_providers(self) -> None:
        self._settings.set_providers(self.entered_providers())
        self.providers_changed.emit()

    def _on_theme(self) -> None:
        theme: Theme = self.theme_combo.currentData()
        self._settings.theme = theme
        self.theme_changed.emit(theme)

    def _on_font_size(self, size: int) -> None:
        self._settings.font_size = size
        self.font_size_changed.emit(size)


def _edit(name: str, placeholder: str, secret: bool = False) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setPlaceholderText(placeholder)
    if secret:
        edit.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
    return edit


def _with_button(edit: QLineEdit, button: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row


def _show_result(label: QLabel, text: str, color: str) -> None:
    """One line, cut to fit; the whole text in the tooltip."""
    label.setStyleSheet(f"color: {color};" if color else "")
    width = max(label.width(), 200)
    label.setText(label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, width))
    label.setToolTip(text)
