"""The gateway with several providers, through the official openai SDK: routing and tools."""

from __future__ import annotations

import json

import openai
import pytest

from tests.api.gatewaykit import HELLO, post, sdk
from tests.api.providerskit import chat_requests, providers_overrides
from tests.fakes.tools import WEATHER_CALL as CALL
from tests.fakes.tools import WEATHER_TOOL as WEATHER

ASK = [{"role": "user", "content": "Weather in Paris?"}]
TOOL_MODELS = {"cloud/gpt-4o-mini": "fake_openai", "local/qwen2.5:7b": "fake_ollama"}


@pytest.fixture
def app_overrides(tmp_path, fake_ollama, fake_openai, fake_anthropic) -> dict:
    return providers_overrides(tmp_path, fake_ollama, fake_openai, fake_anthropic)


@pytest.fixture(params=list(TOOL_MODELS))
def tool_model(request: pytest.FixtureRequest) -> str:
    request.getfixturevalue(TOOL_MODELS[request.param]).tool_calls = [CALL]
    return request.param


def test_sdk_reaches_each_provider_by_name(live_server, admin, fake_anthropic):
    client = sdk(live_server, admin.key)
    completion = client.chat.completions.create(model="claude/claude-sonnet-4-5", messages=HELLO)
    assert completion.model == "claude/claude-sonnet-4-5"
    assert completion.choices[0].message.content == "Hello world!"
    assert chat_requests(fake_anthropic)[-1].json["model"] == "claude-sonnet-4-5"
    assert client.models.retrieve("cloud/gpt-4o-mini").owned_by == "cloud"


def test_sdk_gets_the_tool_call(live_server, admin, tool_model):
    completion = sdk(live_server, admin.key).chat.completions.create(
        model=tool_model, messages=ASK, tools=[WEATHER]
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls
    assert call.id and call.type == "function"
    assert (call.function.name, json.loads(call.function.arguments)) == (
        "get_weather", {"city": "Paris"}
    )  # fmt: skip


def test_sdk_gets_the_tool_call_streamed(live_server, admin, tool_model):
    chunks = list(
        sdk(live_server, admin.key).chat.completions.create(
            model=tool_model, messages=ASK, tools=[WEATHER], stream=True
        )
    )
    parts = [call for c in chunks if c.choices for call in c.choices[0].delta.tool_calls or []]
    assert [(p.index, p.function.name) for p in parts] == [(0, "get_weather")]
    assert json.loads(parts[0].function.arguments) == {"city": "Paris"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_tool_results_go_back_to_the_provider(live_server, admin, request, tool_model):
    messages = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_7", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
        ]},
        {"role": "tool", "tool_call_id": "call_7", "content": "18 C and sunny"},
    ]  # fmt: skip
    fake = request.getfixturevalue(TOOL_MODELS[tool_model])
    fake.tool_calls = []  # now the model answers in words
    completion = sdk(live_server, admin.key).chat.completions.create(
        model=tool_model, messages=messages, tools=[WEATHER]
    )
    assert completion.choices[0].message.content == "Hello world!"
    sent = chat_requests(fake)[-1].json["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool"]
    assert sent[2]["content"] == "18 C and sunny"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tools", [WEATHER]),
        ("tool_choice", "auto"),
        ("response_format", {"type": "json_object"}),
    ],
)
def test_anthropic_refuses_what_it_cannot_honour_naming_the_field(
    client, admin, fake_anthropic, field, value
):
    response = post(client, admin, model="claude/claude-sonnet-4-5", **{field: value})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_request" and f"'{field}'" in error["message"]
    assert chat_requests(fake_anthropic) == []


def test_ollama_refuses_a_tool_choice_it_cannot_force(client, admin, fake_ollama):
    response = post(client, admin, tools=[WEATHER], tool_choice="required")
    assert response.status_code == 400
    assert "'tool_choice'" in response.get_json()["error"]["message"]
    assert chat_requests(fake_ollama) == []


def test_response_format_reaches_ollama_as_its_format(client, admin, fake_ollama):
    response = post(client, admin, response_format={"type": "json_object"})
    assert response.status_code == 200
    assert chat_requests(fake_ollama)[-1].json["format"] == "json"


def test_sdk_sees_the_refusal_as_a_bad_request(live_server, admin):
    with pytest.raises(openai.BadRequestError, match="tools"):
        sdk(live_server, admin.key).chat.completions.create(
            model="claude/claude-sonnet-4-5", messages=HELLO, tools=[WEATHER]
        )


@pytest.mark.parametrize(
    "body",
    [
        {"tools": [{"type": "function", "function": {"description": "no name"}}]},
        {"tools": [{"type": "retrieval"}]},
        {"tool_choice": "sometimes"},
        {"response_format": {"type": "json_schema"}},
        {"messages": [{"role": "assistant", "content": None}]},
    ],
)
def test_malformed_tool_fields_are_422(client, admin, fake_ollama, body):
    response = post(client, admin, **body)
    assert response.status_code == 422
    assert chat_requests(fake_ollama) == []
