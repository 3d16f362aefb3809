"""Tools on the wire: OpenAI's and Ollama's formats both ways; Anthropic says what it can't take."""

from __future__ import annotations

import json

import pytest

from chatapp.providers import ChatOptions, Message, Provider, ToolCall
from tests.fakes.tools import WEATHER_CALL as CALL
from tests.fakes.tools import WEATHER_TOOL as WEATHER
from tests.providers.conftest import Case, collect

WITH_TOOLS = ChatOptions(tools=(WEATHER,))
ASK = [Message("user", "Weather in Paris?")]
ANSWERED = [
    *ASK,
    Message("assistant", "", tool_calls=(ToolCall("call_1", "get_weather", '{"city": "Paris"}'),)),
    Message("tool", "18 C and sunny", tool_call_id="call_1"),
]


@pytest.fixture(params=["ollama", "openai"])
def tool_case(request: pytest.FixtureRequest, make_provider) -> Case:
    fake = request.getfixturevalue(f"fake_{request.param}")
    fake.tool_calls = [CALL]
    return Case(request.param, fake, make_provider)


def test_chat_answers_with_the_tool_call(tool_case: Case) -> None:
    reply = tool_case.provider().chat(ASK, tool_case.model, WITH_TOOLS)
    assert [(c.name, json.loads(c.arguments)) for c in reply.tool_calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    assert reply.tool_calls[0].id
    assert reply.finish_reason == "tool_calls"
    assert tool_case.chat_body()["tools"] == [WEATHER]


def test_stream_puts_the_tool_call_back_together(tool_case: Case) -> None:
    chunks = collect(tool_case.provider().stream(ASK, tool_case.model, WITH_TOOLS))
    calls = [call for chunk in chunks for call in chunk.tool_calls]
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    assert chunks[-1].done and chunks[-1].finish_reason == "tool_calls"


def test_without_tools_the_fake_answers_in_text(tool_case: Case) -> None:
    reply = tool_case.provider().chat(ASK, tool_case.model, ChatOptions())
    assert reply.tool_calls == () and reply.content == "Hello world!"
    assert "tools" not in tool_case.chat_body()


def test_openai_gets_the_tool_messages_as_openai_writes_them(make_provider, fake_openai) -> None:
    provider = Case("openai", fake_openai, make_provider).provider()
    provider.chat(ANSWERED, fake_openai.models[0], WITH_TOOLS)
    sent = fake_openai.requests[-1].json["messages"]
    assert sent[1]["tool_calls"] == [
        {"id": "call_1", "type": "function",
         "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
    ]  # fmt: skip
    assert sent[2] == {"role": "tool", "content": "18 C and sunny", "tool_call_id": "call_1"}


def test_ollama_gets_the_tool_messages_as_ollama_reads_them(make_provider, fake_ollama) -> None:
    provider = Case("ollama", fake_ollama, make_provider).provider()
    provider.chat(ANSWERED, fake_ollama.models[0], WITH_TOOLS)
    sent = fake_ollama.requests[-1].json["messages"]
    assert sent[1]["tool_calls"] == [
        {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}
    ]
    assert sent[2] == {"role": "tool", "content": "18 C and sunny", "tool_name": "get_weather"}


@pytest.mark.parametrize(
    ("response_format", "sent"),
    [
        ({"type": "json_object"}, "json"),
        ({"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": "object"}}},
         {"type": "object"}),
    ],
)  # fmt: skip
def test_ollama_takes_response_format_as_its_format(
    make_provider, fake_ollama, response_format: dict, sent: object
) -> None:
    provider = Case("ollama", fake_ollama, make_provider).provider()
    provider.chat(ASK, fake_ollama.models[0], ChatOptions(response_format=response_format))
    assert fake_ollama.requests[-1].json["format"] == sent


@pytest.mark.parametrize(
    ("kind", "options", "messages", "field"),
    [
        ("anthropic", WITH_TOOLS, ASK, "tools"),
        ("anthropic", ChatOptions(tool_choice="auto"), ASK, "tool_choice"),
        ("anthropic", ChatOptions(response_format={"type": "json_object"}), ASK, "response_format"),
        ("anthropic", ChatOptions(), ANSWERED, "messages"),
        ("ollama", ChatOptions(tools=(WEATHER,), tool_choice="required"), ASK, "tool_choice"),
        ("ollama", WITH_TOOLS, ANSWERED, None),
        ("openai", ChatOptions(tools=(WEATHER,), tool_choice="required"), ANSWERED, None),
    ],
)
def test_each_provider_says_which_field_it_cannot_honour(
    make_provider, request: pytest.FixtureRequest, kind: str, options, messages, field
) -> None:
    fake = request.getfixturevalue(f"fake_{kind}")
    provider: Provider = Case(kind, fake, make_provider).provider()
    assert provider.unsupported(messages, options) == field
