"""A fake OpenAI-compatible server: /v1/chat/completions (SSE streaming) and /v1/models."""

from __future__ import annotations

import json
import time
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

_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 429: "requests"}
_MESSAGES = {
    401: "Incorrect API key provided.",
    429: "Rate limit reached for requests.",
    500: "The server had an error while processing your request. Sorry about that!",
    503: "The engine is currently overloaded, please try again later.",
}


class _OpenAIFrames(StreamFrames):
    def __init__(self, fake: FakeOpenAI) -> None:
        self.fake = fake

    def _chunk(self, turn: Turn, choices: list[Any] | None, **extra: Any) -> bytes:
        return sse(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": turn.model,
                "system_fingerprint": "fp_fake",
                "choices": choices,
                **extra,
            }
        )

    def opening(self, turn: Turn) -> list[bytes]:
        delta = {"role": "assistant", "content": ""}
        return [self._chunk(turn, [{"index": 0, "delta": delta, "finish_reason": None}])]

    def token(self, turn: Turn, token: str) -> bytes:
        choice = {"index": 0, "delta": {"content": token}, "finish_reason": None}
        return self._chunk(turn, [choice])

    def tool_calls(self, turn: Turn) -> list[bytes]:
        """Each call as OpenAI streams it: id and name first, then the arguments in two pieces."""
        frames = []
        for index, call in enumerate(turn.tool_calls):
            head = {"index": index, "id": f"call_fake{index}", "type": "function",
                    "function": {"name": call["name"], "arguments": ""}}  # fmt: skip
            frames.append(self._tool_delta(turn, head))
            arguments = json.dumps(call["arguments"])
            half = len(arguments) // 2
            for piece in (arguments[:half], arguments[half:]):
                frames.append(
                    self._tool_delta(turn, {"index": index, "function": {"arguments": piece}})
                )
        return frames

    def _tool_delta(self, turn: Turn, fragment: dict[str, Any]) -> bytes:
        choice = {"index": 0, "delta": {"tool_calls": [fragment]}, "finish_reason": None}
        return self._chunk(turn, [choice])

    def closing(self, turn: Turn, completion_tokens: int) -> list[bytes]:
        frames = [self._chunk(turn, [{"index": 0, "delta": {}, "finish_reason": turn.finish}])]
        options = turn.raw.get("stream_options") or {}
        if self.fake.report_usage and options.get("include_usage"):
            # The usage chunk has no choices: [] from OpenAI, null from some other servers.
            choices = None if self.fake.null_choices else []
            usage = _usage(turn.prompt_tokens, completion_tokens)
            frames.append(self._chunk(turn, choices, usage=usage))
        frames.append(sse("[DONE]"))
        return frames

    def error(self, message: str) -> bytes:
        return sse(self.fake.error_body(500, message))

    def malformed(self) -> bytes:
        return b'data: {"id": "chatcmpl-fake", "choices": [{"delta":\n\n'


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


class FakeOpenAI(FakeServer):
    """Speaks OpenAI's chat completions API; url includes /v1, as the openai SDK expects."""

    provider = "openai"
    url_suffix = "/v1"
    default_models: ClassVar[list[str]] = ["gpt-4o-mini", "llama3.1:8b-instruct-q8_0"]
    null_choices: bool

    def knob_defaults(self) -> dict[str, Any]:
        # null_choices: send "choices": null instead of [] in the usage chunk.
        return {**super().knob_defaults(), "null_choices": False}

    def routes(self) -> dict[tuple[str, str], Callable[[Exchange], None]]:
        return {
            ("POST", "/v1/chat/completions"): self._chat,
            ("GET", "/v1/models"): self._models,
        }

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind = _ERROR_TYPES.get(
            status, "server_error" if status >= 500 else "invalid_request_error"
        )
        return {"error": {"message": message, "type": kind, "param": None, "code": None}}

    def default_error_message(self, status: int) -> str:
        return _MESSAGES.get(status, f"simulated openai failure (HTTP {status})")

    def model_not_found(self, model: str) -> tuple[int, dict[str, Any]]:
        message = f"The model `{model}` does not exist or you do not have access to it."
        body = self.error_body(404, message)
        body["error"]["code"] = "model_not_found"
        return 404, body

    def auth_failure(self, exchange: Exchange) -> tuple[int, str] | None:
        if self.api_key is None:
            return None
        if exchange.request.headers.get("Authorization") == f"Bearer {self.api_key}":
            return None
        return 401, _MESSAGES[401]

    def _chat(self, exchange: Exchange) -> None:
        body = exchange.body if isinstance(exchange.body, dict) else {}
        messages = body.get("messages") if isinstance(body.get("messages"), list) else []
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        turn = self.make_turn(body, messages, limit)
        if turn.tool_calls:
            turn.finish = "tool_calls"
        if self.chat_failure(exchange, turn):
            return
        if turn.stream:
            stream_turn(self, exchange, "text/event-stream", _OpenAIFrames(self), turn)
        else:
            self.answer(exchange, self._completion(turn))

    def _completion(self, turn: Turn) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": turn.text}
        if turn.tool_calls:
            message = {"role": "assistant", "content": None, "tool_calls": [
                {"id": f"call_fake{i}", "type": "function",
                 "function": {"name": call["name"], "arguments": json.dumps(call["arguments"])}}
                for i, call in enumerate(turn.tool_calls)
            ]}  # fmt: skip
        completion: dict[str, Any] = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": turn.model,
            "choices": [{"index": 0, "message": message, "finish_reason": turn.finish}],
        }
        if self.report_usage:
            completion["usage"] = _usage(turn.prompt_tokens, len(turn.tokens))
        return completion

    def _models(self, exchange: Exchange) -> None:
        data = [
            {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "fake"}
            for name in self.models
        ]
        self.answer(exchange, {"object": "list", "data": data})


if __name__ == "__main__":
    run_cli(FakeOpenAI, default_port=8081)
