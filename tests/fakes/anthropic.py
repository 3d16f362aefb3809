"""A fake Anthropic server: /v1/messages (SSE streaming) and /v1/models."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from tests.fakes.base import (
    Exchange,
    FakeServer,
    StreamFrames,
    Turn,
    run_cli,
    sse,
    stream_turn,
)

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
    529: "overloaded_error",
}
_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens"}


class _AnthropicFrames(StreamFrames):
    def __init__(self, fake: FakeAnthropic) -> None:
        self.fake = fake

    def opening(self, turn: Turn) -> list[bytes]:
        message = {**self.fake.message_shell(turn), "content": [], "stop_reason": None}
        if self.fake.report_usage:
            message["usage"] = {"input_tokens": turn.prompt_tokens, "output_tokens": 1}
        block = {"type": "content_block_start", "index": 0, "content_block": _text("")}
        return [
            sse({"type": "message_start", "message": message}, "message_start"),
            sse(block, "content_block_start"),
            sse({"type": "ping"}, "ping"),
        ]

    def token(self, turn: Turn, token: str) -> bytes:
        delta = {"type": "text_delta", "text": token}
        return sse(
            {"type": "content_block_delta", "index": 0, "delta": delta}, "content_block_delta"
        )

    def closing(self, turn: Turn, completion_tokens: int) -> list[bytes]:
        delta: dict[str, Any] = {
            "type": "message_delta",
            "delta": {"stop_reason": _STOP_REASONS[turn.finish], "stop_sequence": None},
        }
        if self.fake.report_usage:
            delta["usage"] = {"output_tokens": completion_tokens}
        return [
            sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
            sse(delta, "message_delta"),
            sse({"type": "message_stop"}, "message_stop"),
        ]

    def error(self, message: str) -> bytes:
        return sse(self.fake.error_body(self.fake.stream_error_status, message), "error")

    def malformed(self) -> bytes:
        return b'event: message_start\ndata: {"type": "message_start", "mess\n\n'


def _text(text: str) -> dict[str, str]:
    return {"type": "text", "text": text}


class FakeAnthropic(FakeServer):
    """Speaks the Anthropic Messages API (anthropic-version 2023-06-01)."""

    provider = "anthropic"
    stream_error_status = 529  # mid-stream errors are typically overloaded_error
    default_models: ClassVar[list[str]] = ["claude-sonnet-4-5", "llama3.1:8b-instruct-q8_0"]

    def routes(self) -> dict[tuple[str, str], Callable[[Exchange], None]]:
        return {("POST", "/v1/messages"): self._messages, ("GET", "/v1/models"): self._models}

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind = _ERROR_TYPES.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}

    def default_error_message(self, status: int) -> str:
        if status in (503, 529):
            return "Overloaded"
        return f"simulated anthropic failure (HTTP {status})"

    def model_not_found(self, model: str) -> tuple[int, dict[str, Any]]:
        return 404, self.error_body(404, f"model: {model}")

    def auth_failure(self, exchange: Exchange) -> tuple[int, str] | None:
        headers = exchange.request.headers
        if not headers.get("anthropic-version"):
            return 400, "anthropic-version: header is required"
        if self.api_key is not None and headers.get("x-api-key") != self.api_key:
            return 401, "invalid x-api-key"
        return None

    def message_shell(self, turn: Turn) -> dict[str, Any]:
        return {"id": "msg_fake", "type": "message", "role": "assistant", "model": turn.model}

    def _messages(self, exchange: Exchange) -> None:
        body = exchange.body if isinstance(exchange.body, dict) else {}
        if not isinstance(body.get("max_tokens"), int):
            exchange.send_json(400, self.error_body(400, "max_tokens: Field required"))
            return
        messages = body.get("messages") if isinstance(body.get("messages"), list) else []
        system = body.get("system")
        prompt = [*messages, {"content": system}] if isinstance(system, str) else messages
        turn = self.make_turn(body, prompt, body["max_tokens"])
        if self.chat_failure(exchange, turn):
            return
        if turn.stream:
            stream_turn(self, exchange, "text/event-stream", _AnthropicFrames(self), turn)
        else:
            self.answer(exchange, self._message(turn))

    def _message(self, turn: Turn) -> dict[str, Any]:
        message = {
            **self.message_shell(turn),
            "content": [_text(turn.text)],
            "stop_reason": _STOP_REASONS[turn.finish],
            "stop_sequence": None,
        }
        if self.report_usage:
            message["usage"] = {
                "input_tokens": turn.prompt_tokens,
                "output_tokens": len(turn.tokens),
            }
        return message

    def _models(self, exchange: Exchange) -> None:
        data = [
            {
                "type": "model",
                "id": name,
                "display_name": name,
                "created_at": "2025-01-01T00:00:00Z",
            }
            for name in self.models
        ]
        first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
        self.answer(exchange, {"data": data, "has_more": False, "first_id": first, "last_id": last})


if __name__ == "__main__":
    run_cli(FakeAnthropic, default_port=8082)
