"""The OpenAI-compatible gateway through the official openai SDK: answers, keys and limits."""

from __future__ import annotations

import openai
import pytest

from tests.api.chatkit import send, snapshot
from tests.api.gatewaykit import HELLO, post, sdk, sdk_chunks

TOKENS = ["The", " quick", " brown", " fox"]
LLM_LIMITED = pytest.mark.parametrize(
    "app_overrides", [{"CHAT_RATE_LIMIT": "2/minute"}], indirect=True
)


@pytest.fixture
def app_overrides(request: pytest.FixtureRequest) -> dict:
    return {"STREAM_PING_SECONDS": 0.05, **getattr(request, "param", {})}


@pytest.fixture
def fake(fake_ollama):
    fake_ollama.tokens = list(TOKENS)
    return fake_ollama


def last_chat_body(fake) -> dict:
    return [r for r in fake.requests if r.path == "/api/chat"][-1].json


def test_sdk_completion_returns_the_providers_answer(live_server, admin, fake):
    completion = sdk(live_server, admin.key).chat.completions.create(
        model="qwen2.5:7b", messages=HELLO
    )
    assert completion.id.startswith("chatcmpl-")
    assert completion.object == "chat.completion"
    assert completion.created > 0
    assert completion.model == "qwen2.5:7b"
    [choice] = completion.choices
    assert (choice.index, choice.finish_reason) == (0, "stop")
    assert choice.message.role == "assistant"
    assert choice.message.content == "The quick brown fox"
    usage = completion.usage
    assert usage.completion_tokens == len(TOKENS) and usage.prompt_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_sdk_stream_yields_role_then_content_then_finish(live_server, admin, fake):
    chunks = sdk_chunks(live_server, admin.key, model="qwen2.5:7b")
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("chatcmpl-")
    assert chunks[0].choices[0].delta.role == "assistant"
    content = [c.choices[0].delta.content for c in chunks[1:-1]]
    assert content == TOKENS
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)


def test_sdk_stream_with_include_usage_ends_with_a_usage_chunk(live_server, admin, fake):
    chunks = sdk_chunks(live_server, admin.key, stream_options={"include_usage": True})
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == len(TOKENS)
    assert chunks[-1].usage.total_tokens == (
        chunks[-1].usage.prompt_tokens + chunks[-1].usage.completion_tokens
    )


def test_sdk_stream_survives_pings_while_the_provider_is_slow(live_server, admin, fake):
    fake.first_token_delay = 0.3
    fake.token_delay = 0.15
    stream = sdk(live_server, admin.key).chat.completions.create(
        model="qwen2.5:7b", messages=HELLO, stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "The quick brown fox"


def test_sdk_lists_the_providers_models(live_server, admin, fake):
    models = sdk(live_server, admin.key).models.list()
    assert [m.id for m in models] == ["llama3.1:8b-instruct-q8_0", "qwen2.5:7b"]
    assert {(m.object, m.owned_by) for m in models} == {("model", "ollama")}
    assert all(m.created > 0 for m in models)  # from Ollama's modified_at


PARTS = [{"type": "text", "text": "Hi"}, {"type": "text", "text": "!"}]


def test_whole_conversation_and_options_reach_the_provider(client, admin, fake):
    messages = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": PARTS},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "More?"},
    ]
    response = post(client, admin, messages=messages, temperature=0.2, max_tokens=2)
    assert response.status_code == 200, response.get_json()
    sent = last_chat_body(fake)
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi\n!"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "More?"},
    ]
    assert sent["options"]["temperature"] == 0.2
    assert sent["options"]["num_predict"] == 2
    choice = response.get_json()["choices"][0]
    assert choice == {
        "index": 0,
        "message": {"role": "assistant", "content": "The quick"},
        "finish_reason": "length",
    }


def test_max_completion_tokens_wins_over_max_tokens(client, admin, fake):
    post(client, admin, max_tokens=3, max_completion_tokens=1)
    assert last_chat_body(fake)["options"]["num_predict"] == 1


def test_without_a_model_the_default_model_answers(client, admin, fake):
    response = post(client, admin)
    assert response.get_json()["model"] == "llama3.1:8b-instruct-q8_0"
    assert last_chat_body(fake)["model"] == "llama3.1:8b-instruct-q8_0"


@pytest.mark.parametrize(("stop", "sent"), [("END", ["END"]), (["\n", "END"], ["\n", "END"])])
def test_top_p_and_stop_reach_the_provider(client, admin, fake, stop, sent):
    response = post(client, admin, top_p=0.9, stop=stop)
    assert response.status_code == 200, response.get_json()
    options = last_chat_body(fake)["options"]
    assert (options["top_p"], options["stop"]) == (0.9, sent)


def test_fields_the_gateway_does_not_use_are_ignored(client, admin, fake):
    extra = {"user": "u1", "seed": 7, "presence_penalty": 0, "logprobs": False, "n": 1}
    response = post(client, admin, **extra)
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("streaming", [False, True], ids=["json", "stream"])
def test_completions_create_no_chats(app, live_server, admin, fake, streaming):
    result = sdk(live_server, admin.key).chat.completions.create(
        model="qwen2.5:7b", messages=HELLO, stream=streaming
    )
    if streaming:
        list(result)
    assert snapshot(app) == []


@pytest.mark.parametrize("streaming", [False, True], ids=["json", "stream"])
def test_completions_count_toward_the_chat_and_hourly_usage(
    client, live_server, make_user, fake, streaming
):
    bob = make_user("bob")
    before = client.get("/me", headers=bob.headers).get_json()["rate_limits"]
    result = sdk(live_server, bob.key).chat.completions.create(
        model="qwen2.5:7b", messages=HELLO, stream=streaming
    )
    if streaming:
        list(result)
    after = client.get("/me", headers=bob.headers).get_json()["rate_limits"]
    assert after["chat"]["remaining"] == before["chat"]["remaining"] - 1
    # /me itself is one request too: the completion and the first /me make two.
    assert after["requests"]["remaining"] == before["requests"]["remaining"] - 2


def test_listing_models_is_not_an_llm_call(client, live_server, make_user, fake):
    bob = make_user("bob")
    sdk(live_server, bob.key).models.list()
    limits = client.get("/me", headers=bob.headers).get_json()["rate_limits"]
    assert limits["chat"]["remaining"] == 30


def test_completion_responses_carry_the_rate_limit_headers(client, admin, fake):
    response = post(client, admin)
    assert response.headers["X-RateLimit-Limit"]
    assert response.headers["X-RateLimit-Remaining"]
    assert response.headers["X-Request-ID"]


@LLM_LIMITED
@pytest.mark.parametrize("streaming", [False, True], ids=["json", "stream"])
def test_sdk_gets_rate_limit_error_past_the_chat_limit(live_server, make_user, fake, streaming):
    completions = sdk(live_server, make_user("bob").key).chat.completions
    for _ in range(2):
        result = completions.create(model="qwen2.5:7b", messages=HELLO, stream=streaming)
        if streaming:
            list(result)
    with pytest.raises(openai.RateLimitError) as refused:
        completions.create(model="qwen2.5:7b", messages=HELLO, stream=streaming)
    assert refused.value.status_code == 429
    assert refused.value.code == "rate_limited"
    assert "Rate limit exceeded for LLM calls: 2/minute per user" in refused.value.message
    assert 0 < int(refused.value.response.headers["Retry-After"]) <= 60


@LLM_LIMITED
def test_chat_and_completions_share_one_llm_budget(client, make_user, fake):
    bob = make_user("bob")
    send(client, bob, "hi")
    assert post(client, bob).status_code == 200
    assert post(client, bob).status_code == 429
    assert client.post("/chat", json={"message": "hi"}, headers=bob.headers).status_code == 429


def test_completions_count_toward_the_users_hourly_limit(client, make_user, fake):
    bob = make_user("bob", rate_limit_per_hour=2)
    assert [post(client, bob).status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.parametrize("call", ["completion", "models"])
def test_sdk_with_an_unknown_key_gets_authentication_error(live_server, fake, call):
    client = sdk(live_server, "ck_" + "x" * 43)
    with pytest.raises(openai.AuthenticationError) as refused:
        if call == "models":
            client.models.list()
        else:
            client.chat.completions.create(model="qwen2.5:7b", messages=HELLO)
    assert refused.value.code == "unauthorized"
    assert refused.value.message == "Error code: 401 - Unknown or revoked API key"
    assert not fake.requests


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/models"])
def test_gateway_without_a_key_is_401(client, fake, path):
    method = client.post if path.endswith("completions") else client.get
    response = method(path, json={"messages": HELLO} if method == client.post else None)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert not fake.requests
