"""The shared helpers that need no server: SSE framing, shape checks, errors, sampling options."""

from __future__ import annotations

from typing import Any

import pytest

from chatapp.providers import ChatOptions, MalformedResponse
from chatapp.providers.wire import (
    dig,
    error_message,
    model_list,
    parse_json,
    sampling_options,
    sse_events,
)


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


def test_sampling_options_are_sent_under_our_names_by_default() -> None:
    options = ChatOptions(temperature=0.0, max_tokens=8, top_p=0.5, stop=("END",))
    sent = {"temperature": 0.0, "max_tokens": 8, "top_p": 0.5, "stop": ["END"]}
    assert sampling_options(options) == sent


def test_sampling_options_take_the_wires_names_and_leave_out_those_renamed_to_none() -> None:
    options = ChatOptions(temperature=0.5, max_tokens=8, stop=("END",))
    renames = {"max_tokens": None, "stop": "stop_sequences"}
    assert sampling_options(options, renames) == {"temperature": 0.5, "stop_sequences": ["END"]}


def test_unset_sampling_options_and_an_empty_stop_list_are_not_sent() -> None:
    assert sampling_options(ChatOptions()) == {}


def test_model_list_names_each_entry_and_keeps_the_rest_as_details() -> None:
    entries = [{"id": "a", "owned_by": "me"}, {"id": "b"}]
    models = model_list(entries, "id")
    assert [(m.name, m.details) for m in models] == [("a", {"owned_by": "me"}), ("b", {})]


def test_model_list_entry_without_a_name_is_malformed() -> None:
    with pytest.raises(MalformedResponse):
        model_list([{"name": "a"}], "id")
