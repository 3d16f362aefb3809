"""Several providers at once (SPEC 15): routing, model lists, retries, fallbacks and health."""

from __future__ import annotations

import pytest

from tests.api.chatkit import deltas, history, send, snapshot, stream
from tests.api.providerskit import DEFAULT, chat_requests, providers_overrides


@pytest.fixture
def app_overrides(tmp_path, fake_ollama, fake_openai, fake_anthropic) -> dict:
    return providers_overrides(tmp_path, fake_ollama, fake_openai, fake_anthropic)


def named(events: list, name: str) -> list:
    return [data for event, data in events if event == name]


# --- model lists ---------------------------------------------------------------------------


def test_models_lists_every_provider_and_a_down_one_with_its_error(client, admin, fake_openai):
    response = client.get("/models", headers=admin.headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["provider"] == "local" and body["default_model"] == DEFAULT
    names = [m["name"] for m in body["models"]]
    assert names == [
        "local/llama3.1:8b-instruct-q8_0", "local/qwen2.5:7b",
        "cloud/gpt-4o-mini", "cloud/llama3.1:8b-instruct-q8_0",
        "claude/claude-sonnet-4-5", "claude/llama3.1:8b-instruct-q8_0",
        "gone2/m",  # an allow-list is the list: that provider is not asked
    ]  # fmt: skip
    assert body["models"][2] | {"created": None} == {
        "name": "cloud/gpt-4o-mini", "provider": "cloud", "model": "gpt-4o-mini",
        "object": "model", "created": None, "owned_by": "fake",
    }  # fmt: skip
    statuses = {p["name"]: p for p in body["providers"]}
    assert statuses["local"] == {"name": "local", "type": "ollama", "status": "ok"}
    assert statuses["gone"]["status"] == "down"
    assert statuses["gone"]["error"] == {
        "code": "provider_unavailable", "message": "Cannot connect to gone"
    }  # fmt: skip


def test_model_lists_are_cached_so_a_second_call_asks_no_provider(
    client, admin, fake_ollama, fake_openai, fake_anthropic
):
    first = client.get("/models", headers=admin.headers).get_json()
    asked = [len(fake.requests) for fake in (fake_ollama, fake_openai, fake_anthropic)]
    assert asked == [1, 1, 1]
    assert client.get("/v1/models", headers=admin.headers).status_code == 200
    assert client.get("/models", headers=admin.headers).get_json() == first
    assert [len(fake.requests) for fake in (fake_ollama, fake_openai, fake_anthropic)] == asked


def test_v1_models_lists_qualified_ids_owned_by_their_provider(client, admin):
    body = client.get("/v1/models", headers=admin.headers).get_json()
    owners = {m["id"]: m["owned_by"] for m in body["data"]}
    assert owners["cloud/gpt-4o-mini"] == "cloud"
    assert owners["local/qwen2.5:7b"] == "local"
    assert {p["name"]: p["status"] for p in body["providers"]}["gone"] == "down"


def test_v1_models_retrieves_one_model_by_its_qualified_id(client, admin):
    found = client.get("/v1/models/cloud/gpt-4o-mini", headers=admin.headers)
    assert found.status_code == 200
    assert found.get_json()["id"] == "cloud/gpt-4o-mini"
    missing = client.get("/v1/models/cloud/gpt-9", headers=admin.headers)
    assert missing.status_code == 404


# --- routing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "fake_name", "upstream"),
    [
        ("local/qwen2.5:7b", "fake_ollama", "qwen2.5:7b"),
        ("cloud/gpt-4o-mini", "fake_openai", "gpt-4o-mini"),
        ("claude/claude-sonnet-4-5", "fake_anthropic", "claude-sonnet-4-5"),
        ("qwen2.5:7b", "fake_ollama", "qwen2.5:7b"),  # bare: the default provider
    ],
)
def test_chat_goes_to_the_provider_the_name_says(
    request, client, admin, model, fake_name, upstream
):
    fake = request.getfixturevalue(fake_name)
    answer = send(client, admin, "Hi", chat_id="c1", model=model)
    assert [r.json["model"] for r in chat_requests(fake)] == [upstream]
    shown = model if "/" in model else f"local/{model}"
    assert answer["model"] == shown
    assert history(client, admin, "c1")["messages"][-1]["model"] == shown


def test_ollama_names_with_slashes_keep_working(client, admin, fake_ollama):
    fake_ollama.models.append("hf.co/org/model:Q4")
    for name in ("local/hf.co/org/model:Q4", "hf.co/org/model:Q4"):
        assert send(client, admin, "Hi", model=name)["model"] == "local/hf.co/org/model:Q4"
    assert [r.json["model"] for r in chat_requests(fake_ollama)] == ["hf.co/org/model:Q4"] * 2


def test_a_chat_changes_model_between_turns_with_its_whole_context(
    client, admin, fake_ollama, fake_anthropic
):
    first = send(client, admin, "First question", chat_id="c1")
    events = stream(client, admin, "Second question", chat_id="c1",
                    model="claude/claude-sonnet-4-5")  # fmt: skip
    assert named(events, "done")[0]["model"] == "claude/claude-sonnet-4-5"
    sent = chat_requests(fake_anthropic)[-1].json
    assert sent["system"]  # the chat's system prompt goes along
    assert sent["messages"] == [
        {"role": "user", "content": "First question"},
        {"role": "assistant", "content": first["response"]},
        {"role": "user", "content": "Second question"},
    ]
    stored = history(client, admin, "c1")["messages"]
    assert [m.get("model") for m in stored if m["role"] == "assistant"] == [
        DEFAULT, "claude/claude-sonnet-4-5"
    ]  # fmt: skip


def test_the_key_the_file_names_reaches_its_provider(client, admin):
    # The key in the file reaches the OpenAI-compatible fake, which refuses requests without it.
    answer = send(client, admin, "Hi", model="cloud/gpt-4o-mini")
    assert answer["model"] == "cloud/gpt-4o-mini"


# --- retries and fallbacks -----------------------------------------------------------------


def test_a_connection_dropped_before_the_first_byte_is_retried_once(client, admin, fake_openai):
    fake_openai.drop_requests = 1
    answer = send(client, admin, "Hi", model="cloud/gpt-4o-mini")
    assert answer["model"] == "cloud/gpt-4o-mini"
    assert len(chat_requests(fake_openai)) == 2


def test_a_second_dropped_connection_is_the_answer(app, client, admin, fake_openai):
    fake_openai.drop_requests = 2
    before = snapshot(app)
    body = {"message": "Hi", "model": "cloud/gpt-4o-mini"}  # a model without fallbacks
    response = client.post("/chat", json=body, headers=admin.headers)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "provider_unavailable"
    assert len(chat_requests(fake_openai)) == 2
    assert snapshot(app) == before


@pytest.mark.parametrize("streaming", [False, True], ids=["json", "stream"])
def test_an_unavailable_provider_falls_back_in_order(
    client, admin, fake_openai, fake_ollama, streaming
):
    # gone/m -> gone2/m (down too) -> cloud/gpt-4o-mini answers; local is never asked.
    if streaming:
        events = stream(client, admin, "Hi", chat_id="c1", model="gone/m")
        assert named(events, "done")[0]["model"] == "cloud/gpt-4o-mini"
        assert deltas(events) == "Hello world!"
    else:
        assert send(client, admin, "Hi", chat_id="c1", model="gone/m")["model"] == (
            "cloud/gpt-4o-mini"
        )
    assert [r.json["model"] for r in chat_requests(fake_openai)] == ["gpt-4o-mini"]
    assert chat_requests(fake_ollama) == []
    assert history(client, admin, "c1")["messages"][-1]["model"] == "cloud/gpt-4o-mini"


@pytest.mark.parametrize("streaming", [False, True], ids=["json", "stream"])
def test_a_timeout_before_the_first_token_falls_back(client, admin, fake_ollama, streaming):
    # LLM_TIMEOUT is 2 s: the default model's provider stays silent longer than that.
    fake_ollama.first_token_delay = 10.0
    fake_ollama.hang = not streaming
    if streaming:
        events = stream(client, admin, "Hi", chat_id="c1")
        assert named(events, "done")[0]["model"] == "cloud/gpt-4o-mini"
    else:
        assert send(client, admin, "Hi", chat_id="c1")["model"] == "cloud/gpt-4o-mini"
    assert history(client, admin, "c1")["messages"][-1]["model"] == "cloud/gpt-4o-mini"


@pytest.mark.parametrize("knob", ["error_after", "drop_after"])
def test_nothing_is_retried_after_the_first_token(
    app, client, admin, fake_ollama, fake_openai, knob
):
    setattr(fake_ollama, knob, 1)
    before = snapshot(app)
    events = stream(client, admin, "Hi", chat_id="c1")
    assert deltas(events) == "Hello"
    assert events[-1][0] == "error"
    assert chat_requests(fake_ollama) and chat_requests(fake_openai) == []
    assert snapshot(app) == before


def test_an_error_answer_is_not_a_reason_to_fall_back(client, admin, fake_ollama, fake_openai):
    fake_ollama.fail_status = 500
    response = client.post("/chat", json={"message": "Hi"}, headers=admin.headers)
    assert response.status_code == 502
    assert chat_requests(fake_openai) == []


# --- unknown models ------------------------------------------------------------------------


def test_a_model_outside_the_allow_list_is_refused_without_asking(client, admin):
    response = client.post(
        "/chat", json={"message": "Hi", "model": "gone2/other"}, headers=admin.headers
    )
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "model_not_found"
    assert "gone2/m" in error["message"] and "LLM_MODEL" in error["message"]


def test_a_model_the_provider_lacks_lists_what_it_has(client, admin):
    response = client.post(
        "/chat", json={"message": "Hi", "model": "cloud/gpt-9"}, headers=admin.headers
    )
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert "'cloud/gpt-9'" in message
    assert "cloud/gpt-4o-mini, cloud/llama3.1:8b-instruct-q8_0" in message


# --- health --------------------------------------------------------------------------------


def test_health_reports_each_provider(client):
    body = client.get("/health").get_json()
    assert body["status"] == "degraded"  # gone and gone2 are down
    assert body["provider"]["name"] == "local" and body["provider"]["model"] == DEFAULT
    assert body["provider"]["model_available"] is True
    providers = body["providers"]
    assert {name: p["status"] for name, p in providers.items()} == {
        "local": "ok", "cloud": "ok", "claude": "ok", "gone": "down", "gone2": "down"
    }  # fmt: skip
    assert providers["local"]["version"] == "0.5.1" and providers["claude"]["type"] == "anthropic"
    assert providers["gone"]["error"]


def test_health_waits_on_no_hung_provider_longer_than_on_one(client, fake_anthropic):
    # All providers are checked at once, within one 2-second wait: a hung one is reported
    # down while the others still answer.
    fake_anthropic.hang = True
    body = client.get("/health").get_json()
    statuses = {name: p["status"] for name, p in body["providers"].items()}
    assert statuses["claude"] == "down"
    assert statuses["local"] == statuses["cloud"] == "ok"
