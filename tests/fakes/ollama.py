"""A fake Ollama server: /api/chat (NDJSON streaming), /api/tags, /api/version."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from tests.fakes.base import Exchange, FakeServer, StreamFrames, Turn, run_cli, stream_turn

_NS_PER_TOKEN = 20_000_000  # invented but plausible durations, in nanoseconds


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj).encode() + b"\n"


def _calls(turn: Turn) -> list[dict[str, Any]]:
    """The turn's tool calls as Ollama sends them: arguments as an object, no id."""
    return [{"function": {"name": c["name"], "arguments": c["arguments"]}} for c in turn.tool_calls]


class _OllamaFrames(StreamFrames):
    def __init__(self, fake: FakeOllama) -> None:
        self.fake = fake

    def token(self, turn: Turn, token: str) -> bytes:
        return _line(
            {
                "model": turn.model,
                "created_at": _now(),
                "message": {"role": "assistant", "content": token},
                "done": False,
            }
        )

    def tool_calls(self, turn: Turn) -> list[bytes]:
        """Ollama streams each reply's tool calls whole, in one message."""
        message = {"role": "assistant", "content": "", "tool_calls": _calls(turn)}
        return [
            _line({"model": turn.model, "created_at": _now(), "message": message, "done": False})
        ]

    def closing(self, turn: Turn, completion_tokens: int) -> list[bytes]:
        return [_line(self.fake.final_message(turn, "", completion_tokens))]

    def error(self, message: str) -> bytes:
        return _line({"error": message})

    def malformed(self) -> bytes:
        return b'{"model": "broken", "message": {"content": \n'


class FakeOllama(FakeServer):
    """Speaks Ollama's API as docs/api.md in the ollama repository describes it."""

    provider = "ollama"
    default_models: ClassVar[list[str]] = ["llama3.1:8b-instruct-q8_0", "qwen2.5:7b"]
    version: str

    def knob_defaults(self) -> dict[str, Any]:
        return {**super().knob_defaults(), "version": "0.5.1"}

    def routes(self) -> dict[tuple[str, str], Callable[[Exchange], None]]:
        return {
            ("GET", "/"): self._root,
            ("POST", "/api/chat"): self._chat,
            ("GET", "/api/tags"): self._tags,
            ("GET", "/api/version"): self._version,
        }

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"error": message}

    def default_error_message(self, status: int) -> str:
        if status == 503:
            return "server busy, please try again.  maximum pending requests exceeded"
        return f"simulated ollama failure (HTTP {status})"

    def model_not_found(self, model: str) -> tuple[int, dict[str, Any]]:
        return 404, {"error": f"model '{model}' not found"}

    def knows_model(self, model: Any) -> bool:
        # Ollama reads a name without a tag as name:latest.
        if isinstance(model, str) and ":" not in model:
            model += ":latest"
        return super().knows_model(model)

    def final_message(self, turn: Turn, content: str, completion_tokens: int) -> dict[str, Any]:
        final: dict[str, Any] = {
            "model": turn.model,
            "created_at": _now(),
            "message": {"role": "assistant", "content": content},
            "done": True,
            "done_reason": turn.finish,
        }
        if self.report_usage:
            final |= {
                "total_duration": (completion_tokens + 1) * _NS_PER_TOKEN,
                "load_duration": _NS_PER_TOKEN,
                "prompt_eval_count": turn.prompt_tokens,
                "prompt_eval_duration": _NS_PER_TOKEN,
                "eval_count": completion_tokens,
                "eval_duration": completion_tokens * _NS_PER_TOKEN,
            }
        return final

    def _root(self, exchange: Exchange) -> None:
        exchange.send_bytes(200, b"Ollama is running", "text/plain; charset=utf-8")

    def _chat(self, exchange: Exchange) -> None:
        body = exchange.body if isinstance(exchange.body, dict) else {}
        options = body.get("options") if isinstance(body.get("options"), dict) else {}
        messages = body.get("messages") if isinstance(body.get("messages"), list) else []
        turn = self.make_turn(body, messages, options.get("num_predict"))
        # Ollama streams unless told otherwise.
        turn.stream = body.get("stream", True) is not False
        if self.chat_failure(exchange, turn):
            return
        if turn.stream:
            stream_turn(self, exchange, "application/x-ndjson", _OllamaFrames(self), turn)
        elif not exchange.pause(self.first_token_delay):  # the answer waits on its first token
            return
        elif turn.tool_calls:
            final = self.final_message(turn, "", 0)
            final["message"]["tool_calls"] = _calls(turn)
            self.answer(exchange, final)
        else:
            self.answer(exchange, self.final_message(turn, turn.text, len(turn.tokens)))

    def _tags(self, exchange: Exchange) -> None:
        models = [
            {
                "name": name,
                "model": name,
                "modified_at": "2024-08-01T12:00:00Z",
                "size": 8_540_000_000,
                "digest": hashlib.sha256(name.encode()).hexdigest(),
                "details": {"format": "gguf", "family": name.split(":")[0]},
            }
            for name in self.models
        ]
        self.answer(exchange, {"models": models})

    def _version(self, exchange: Exchange) -> None:
        self.answer(exchange, {"version": self.version})


if __name__ == "__main__":
    run_cli(FakeOllama, default_port=11434)
