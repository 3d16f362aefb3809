"""Gateway faults: provider failures, mid-stream errors, bad input and a client that leaves."""

from __future__ import annotations

import openai
import pytest

from tests.api.chatkit import snapshot
from tests.api.gatewaykit import HELLO, PATH, chunk_text, data_events, post, sdk, streamed

# knob settings on the fake Ollama -> (status, code) the gateway answers with, as POST /chat does
FAULTS = {
    "unknown model": ({"models": ["something-else"]}, 400, "model_not_found"),
    "error status 500": ({"fail_status": 500}, 502, "provider_error"),
    "malformed body": ({"malformed": True}, 502, "provider_error"),
    "error while generating": ({"error_after": 0}, 502, "provider_error"),
    "hangs": ({"hang": True}, 504, "provider_timeout"),
}


# With a short ping interval a silent provider gets a 200 stream (and pings) instead of a status.
PINGING = pytest.mark.parametrize(
    "app_overrides", [{"LLM_TIMEOUT": 0.5, "STREAM_PING_SECONDS": 0.05}], indirect=True
)


@pytest.fixture
def app_overrides(request: pytest.FixtureRequest) -> dict:
    return getattr(request, "param", {"LLM_TIMEOUT": 0.5})


def set_knobs(fake, knobs: dict) -> None:
    for name, value in knobs.items():
        setattr(fake, name, value)


def chat_calls(fake) -> list:
    return [r for r in fake.requests if r.path == "/api/chat"]


@pytest.mark.parametrize("streaming", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("fault", list(FAULTS))
def test_provider_fault_gives_its_status_as_json(app, client, admin, fake_ollama, fault, streaming):
    knobs, status, code = FAULTS[fault]
    set_knobs(fake_ollama, knobs)
    response = post(client, admin, stream=streaming)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    assert snapshot(app) == []


@pytest.mark.parametrize(
    ("knobs", "error_class"),
    [
        ({"models": ["something-else"]}, openai.BadRequestError),
        ({"fail_status": 500}, openai.InternalServerError),
    ],
)
def test_sdk_raises_its_own_error_class_with_our_message(
    live_server, admin, fake_ollama, knobs, error_class
):
    set_knobs(fake_ollama, knobs)
    with pytest.raises(error_class) as failed:
        sdk(live_server, admin.key).chat.completions.create(model="qwen2.5:7b", messages=HELLO)
    assert failed.value.message.startswith(f"Error code: {failed.value.status_code} - ")
    assert failed.value.code in ("model_not_found", "provider_error")


@PINGING
@pytest.mark.parametrize(
    ("knobs", "code"),
    [
        ({"error_after": 2}, "provider_error"),
        ({"drop_after": 2}, "provider_error"),
        ({"tokens": ["a", "b", "c"], "token_delay": 1.5}, "provider_timeout"),
    ],
)
def test_mid_stream_failure_ends_with_an_error_event(client, admin, fake_ollama, knobs, code):
    set_knobs(fake_ollama, {"tokens": ["a", "b", "c"], **knobs})
    events = [e for e in streamed(client, admin) if e != "ping"]
    assert events[-1]["error"]["code"] == code and events[-1]["error"]["message"]
    assert "[DONE]" not in events
    assert not any(c["finish_reason"] for e in events[:-1] for c in e["choices"])


def test_sdk_raises_api_error_on_a_mid_stream_failure(live_server, admin, fake_ollama):
    fake_ollama.error_after = 1
    stream = sdk(live_server, admin.key).chat.completions.create(
        model="qwen2.5:7b", messages=HELLO, stream=True
    )
    received = []
    with pytest.raises(openai.APIError) as failed:
        for chunk in stream:
            received.append(chunk.choices[0].delta.content)
    assert received == ["", "Hello"]
    assert "mid-stream" in failed.value.message
    assert failed.value.body["code"] == "provider_error"


@PINGING
def test_stream_pings_while_the_provider_is_silent(client, admin, fake_ollama):
    fake_ollama.first_token_delay = 0.3
    events = streamed(client, admin)
    assert events[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert events[1] == "ping"  # the provider is still silent
    assert events[-1] == "[DONE]"
    assert chunk_text(events) == "Hello world!"


def test_stream_has_the_sse_headers(client, admin, fake_ollama):
    response = post(client, admin, stream=True)
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Accel-Buffering"] == "no"


def test_client_leaving_mid_stream_closes_the_upstream_connection(client, admin, fake_ollama):
    fake_ollama.tokens = [f" t{i}" for i in range(200)]
    fake_ollama.token_delay = 0.05
    response = client.post(
        PATH, json={"messages": HELLO, "stream": True}, headers=admin.headers, buffered=False
    )
    received = []
    for chunk in response.response:
        received.append(chunk)
        if chunk_text(data_events(b"".join(received).decode())).count(" t") == 3:
            break
    response.close()
    assert fake_ollama.disconnected.wait(10)


BAD_BODIES = {
    "no messages": {},
    "empty messages": {"messages": []},
    "messages not a list": {"messages": "Hello"},
    "unknown role": {"messages": [{"role": "robot", "content": "hi"}]},
    "tool message without its call": {"messages": [{"role": "tool", "content": "hi"}]},
    "no content": {"messages": [{"role": "user"}]},
    "null content": {"messages": [{"role": "assistant", "content": None}]},
    "number content": {"messages": [{"role": "user", "content": 5}]},
    "image part": {
        "messages": [
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}
        ]
    },
    "message not an object": {"messages": ["hi"]},
    "temperature too high": {"messages": HELLO, "temperature": 3},
    "temperature a string": {"messages": HELLO, "temperature": "hot"},
    "top_p too high": {"messages": HELLO, "top_p": 1.5},
    "max_tokens zero": {"messages": HELLO, "max_tokens": 0},
    "max_tokens a float": {"messages": HELLO, "max_tokens": 1.5},
    "two choices": {"messages": HELLO, "n": 2},
    "stream a string": {"messages": HELLO, "stream": "yes"},
    "stream_options not an object": {"messages": HELLO, "stream_options": True},
    "empty model": {"messages": HELLO, "model": ""},
    "model with spaces": {"messages": HELLO, "model": "a b"},
    "model not a string": {"messages": HELLO, "model": 7},
    "five stop sequences": {"messages": HELLO, "stop": ["a", "b", "c", "d", "e"]},
    "user message too long": {"messages": [{"role": "user", "content": "x" * 32_001}]},
}


@pytest.mark.parametrize("body", list(BAD_BODIES))
def test_bad_input_is_422_and_reaches_no_provider(client, admin, fake_ollama, body):
    response = client.post(PATH, json=BAD_BODIES[body], headers=admin.headers)
    assert response.status_code == 422
    assert response.get_json()["success"] is False
    error = response.get_json()["error"]
    assert error["code"] == "validation_error" and error["details"]
    assert not chat_calls(fake_ollama)


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("[1, 2]", "application/json", 400),
        ("{not json", "application/json", 400),
        ("messages=hi", "application/x-www-form-urlencoded", 415),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(
    client, admin, fake_ollama, data, content_type, status
):
    response = client.post(PATH, data=data, content_type=content_type, headers=admin.headers)
    assert response.status_code == status
    assert response.get_json()["success"] is False
    assert not chat_calls(fake_ollama)


def test_sdk_raises_unprocessable_entity_for_bad_input(live_server, admin, fake_ollama):
    with pytest.raises(openai.UnprocessableEntityError) as refused:
        sdk(live_server, admin.key).chat.completions.create(model="qwen2.5:7b", messages=[])
    assert refused.value.body["details"][0]["field"] == "messages"


def statements(client, count_queries, user, body: dict) -> int:
    client.post(PATH, json=body, headers=user.headers)  # warm-up: the key's last_used_at
    with count_queries() as counter:
        response = client.post(PATH, json=body, headers=user.headers)
        response.get_data()  # a stream runs while it is read
    assert response.status_code == 200, response.get_data(as_text=True)
    return counter.count


@pytest.mark.parametrize("streaming", [False, True], ids=["json", "stream"])
def test_sql_statements_per_completion_are_few_and_do_not_grow_with_the_messages(
    client, admin, count_queries, fake_ollama, streaming
):
    long = [{"role": ("user", "assistant")[i % 2], "content": f"m{i}"} for i in range(199)]
    few = statements(client, count_queries, admin, {"messages": HELLO, "stream": streaming})
    many = statements(client, count_queries, admin, {"messages": long, "stream": streaming})
    assert few == many <= 2
