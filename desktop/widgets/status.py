"""The status bar: connection state, model, token counts of the last reply, rate limit left."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from desktop.api_types import RateLimit, Usage

_DOTS = {
    "connected": "#2e9d4f",
    "connecting": "#d4a017",
    "offline": "#c0392b",
    "unauthorized": "#c0392b",
}


class StatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.connection_label = QLabel()
        self.connection_label.setObjectName("connectionLabel")
        self.model_label = QLabel()
        self.model_label.setObjectName("modelLabel")
        self.tokens_label = QLabel()
        self.tokens_label.setObjectName("tokensLabel")
        self.rate_label = QLabel()
        self.rate_label.setObjectName("rateLabel")
        self.addWidget(self.connection_label)
        for label in (self.model_label, self.tokens_label, self.rate_label):
            label.setContentsMargins(10, 0, 10, 0)
            self.addPermanentWidget(label)
        self.set_connection("connecting", "Starting…")

    def set_connection(self, state: str, text: str) -> None:
        color = _DOTS.get(state, "#888888")
        self.connection_label.setText(f'<span style="color:{color}">●</span> {text}')
        self.connection_label.setToolTip(state.capitalize())
        self.connection_label.setProperty("state", state)

    def set_model(self, name: str) -> None:
        self.model_label.setText(f"Model: {name}" if name else "")

    def set_usage(self, usage: Usage) -> None:
        prompt, completion = usage.prompt_tokens, usage.completion_tokens
        if prompt is None and completion is None:
            self.tokens_label.setText("")
            return
        self.tokens_label.setText(f"Last reply: {prompt or 0} in, {completion or 0} out tokens")

    def set_rate_limit(self, limit: RateLimit) -> None:
        self.rate_label.setText(f"Requests left: {limit.remaining}/{limit.limit}")
        self.rate_label.setToolTip("Rate limit: requests left in the current window")
