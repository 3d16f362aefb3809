"""The shared helpers that need no server: SSE framing, shape checks, errors, sampling options."""

from __future__ import annotations

from typing import Any

import pytest

from chatapp.providers import ChatOptions, MalformedResponse
from chatapp.providers.http import dig, error_message, parse_json, sampling_options, sse_events


@pytest.mark.parametrize(
    ("lines", "events"),
    [
        (["data: {}", ""], [("message", "{}")]),
        (["event: ping", "data: {}", ""], [("ping", "{}")]),
        (["data:{}", ""], [("message", "{}")]),
        (["data: a", "data: b", ""], [("message", "a\nb")]),
        ([": keep-alive", "", "data: x", ""], [("message", "x")]),
        (["id: 7", "retry: 10", "data: x", ""], [("message", "x")]),
        (["event: lonely", ""], []),
        (["data: [DONE]"], [("message", "[DONE]")]),
    ],
    ids=["plain", "named", "no-space", "multi-line", "comment", "other-fields", "no-data", "eof"],
)
def test_sse_events_follow_the_event_stream_format(
    lines: list[str], events: list[tuple[str, str]]
) -> None:
    assert list(sse_events(lines)) == events


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"error": "model 'x' not found"}, "model 'x' not found"),
        ({"error": {"message": "Bad key", "type": "invalid_request_error"}}, "Bad key"),
        (
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            "Overloaded",
        ),
        ({"detail": "Not Found"}, "Not Found"),
        ({"data": []}, None),
        ("oops", None),
        (None, None),
    ],
    ids=["ollama", "openai", "anthropic", "fastapi", "no-error", "string", "none"],
)
def test_error_message_is_found_in_each_providers_error_shape(
    payload: Any, message: str | None
) -> None:
    assert error_message(payload) == message


def test_dig_returns_nested_values() -> None:
    assert dig({"a": [{"b": "c"}]}, "a", 0, "b", kind=str) == "c"


@pytest.mark.parametrize("payload", [{}, {"a": None}, {"a": "text"}, {"a": []}, []], ids=str)
def test_dig_raises_malformed_response_for_the_wrong_shape(payload: Any) -> None:
    with pytest.raises(MalformedResponse):
        dig(payload, "a", 0, kind=str)


@pytest.mark.parametrize("payload", [{}, {"a": None}, {"a": [None]}, "text"], ids=str)
def test_dig_default_stands_in_for_missing_or_null(payload: Any) -> None:
    assert dig(payload, "a", 0, kind=str, default="none") == "none"


def test_parse_json_rejects_garbage_as_malformed() -> None:
    with pytest.raises(MalformedResponse):
        parse_json("{not json", "ollama")


WIRE_NAMES = {"temperature": "temp", "max_tokens": "limit", "stop": "stops"}


def test_sampling_options_are_sent_under_the_wires_names() -> None:
    options = ChatOptions(temperature=0.0, max_tokens=8, stop=("END",))
    assert sampling_options(options, WIRE_NAMES) == {"temp": 0.0, "limit": 8, "stops": ["END"]}


def test_unset_sampling_options_and_an_empty_stop_list_are_not_sent() -> None:
    assert sampling_options(ChatOptions(), WIRE_NAMES) == {}


def test_a_sampling_option_the_wire_has_no_name_for_is_not_sent() -> None:
    assert sampling_options(ChatOptions(top_p=0.5), WIRE_NAMES) == {}
