"""Light, dark and system themes, and the font size, applied to the whole application."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from desktop.settings import Theme

_LIGHT = {
    "Window": "#f3f3f5",
    "WindowText": "#1d1d20",
    "Base": "#ffffff",
    "AlternateBase": "#f0f0f3",
    "Text": "#1d1d20",
    "Button": "#ececef",
    "ButtonText": "#1d1d20",
    "Highlight": "#2f6fd6",
    "HighlightedText": "#ffffff",
    "Link": "#2160c4",
    "ToolTipBase": "#ffffff",
    "ToolTipText": "#1d1d20",
    "PlaceholderText": "#7a7a82",
    "Mid": "#c8c8cf",
    "Midlight": "#e2e2e6",
    "Dark": "#9d9da5",
    "Light": "#ffffff",
}
_DARK = {
    # Fields lighter than the window, as in most dark apps: inputs, lists and radio buttons
    # stand out from what they sit on.
    "Window": "#1c1d20",
    "WindowText": "#e6e6ea",
    "Base": "#27282c",
    "AlternateBase": "#2f3035",
    "Text": "#e6e6ea",
    "Button": "#323338",
    "ButtonText": "#e6e6ea",
    "Highlight": "#3d7be0",
    "HighlightedText": "#ffffff",
    "Link": "#8ab8ff",
    "ToolTipBase": "#323338",
    "ToolTipText": "#e6e6ea",
    "PlaceholderText": "#9a9aa3",
    "Mid": "#4a4b52",
    "Midlight": "#3a3b41",
    "Dark": "#111214",
    "Light": "#55565d",
}


class ThemeManager:
    """Remembers the platform's own look, so "system" can return to it after light or dark."""

    def __init__(self, app: QApplication) -> None:
        self._app = app
        self._system_style = app.style().name()
        self._system_palette = QPalette(app.palette())
        self._base_point_size = app.font().pointSizeF()

    @property
    def base_point_size(self) -> float:
        return self._base_point_size

    def apply(self, theme: Theme, font_size: int = 0) -> None:
        if theme == "system":
            self._app.setStyle(QStyleFactory.create(self._system_style))
            self._app.setPalette(self._system_palette)
        else:
            self._app.setStyle(QStyleFactory.create("Fusion"))
            self._app.setPalette(_palette(_DARK if theme == "dark" else _LIGHT))
        font = QFont(self._app.font())
        font.setPointSizeF(float(font_size) if font_size > 0 else self._base_point_size)
        self._app.setFont(font)


_DIMMED_WHEN_DISABLED = ("WindowText", "Text", "ButtonText")


def _palette(colors: dict[str, str]) -> QPalette:
    palette = QPalette()
    for name, value in colors.items():
        palette.setColor(QPalette.ColorGroup.All, QPalette.ColorRole[name], QColor(value))
    for name in _DIMMED_WHEN_DISABLED:
        dimmed = QColor(colors["PlaceholderText"])
        palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole[name], dimmed)
    return palette


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Base).lightness() < 128
