"""GET /models, and the provider part of /health: cached, and never waiting more than 2 s."""

from __future__ import annotations

import pytest


def version_checks(fake_ollama) -> int:
    return sum(1 for r in fake_ollama.requests if r.path == "/api/version")


def test_models_lists_the_providers_models(client, admin, fake_ollama):
    response = client.get("/models", headers=admin.headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["success"] is True
    assert body["provider"] == "ollama"
    assert body["default_model"] == "llama3.1:8b-instruct-q8_0"
    assert [m["name"] for m in body["models"]] == ["llama3.1:8b-instruct-q8_0", "qwen2.5:7b"]
    assert body["models"][0]["details"]["format"] == "gguf"
    assert body["models"][0]["provider"] == "ollama"
    assert body["models"][0]["model"] == "llama3.1:8b-instruct-q8_0"
    assert "providers" not in body  # one provider: the shape of before


def test_models_needs_a_key(client):
    assert client.get("/models").status_code == 401


@pytest.mark.parametrize(
    ("knobs", "status", "code"),
    [
        ({"fail_status": 500}, 502, "provider_error"),
        ({"malformed": True}, 502, "provider_error"),
        ({"hang": True}, 504, "provider_timeout"),
    ],
)
def test_models_maps_provider_faults(client, admin, fake_ollama, knobs, status, code):
    for name, value in knobs.items():
        setattr(fake_ollama, name, value)
    response = client.get("/models", headers=admin.headers)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


@pytest.fixture
def app_overrides(request: pytest.FixtureRequest) -> dict:
    return {"LLM_TIMEOUT": 3.0, "HEALTH_CACHE_SECONDS": 60.0, **getattr(request, "param", {})}


DEFAULT_MISSING = pytest.mark.parametrize(
    "app_overrides", [{"LLM_MODEL": "llama9:70b"}], indirect=True
)


def test_health_reports_the_provider(client, fake_ollama):
    body = client.get("/health").get_json()
    assert body["status"] == "ok"
    provider = body["provider"]
    assert provider["status"] == "ok" and provider["name"] == "ollama"
    assert provider["version"] == "0.5.1"
    assert provider["model"] == "llama3.1:8b-instruct-q8_0"


def test_health_caches_the_provider_check(client, fake_ollama):
    client.get("/health")
    client.get("/health")
    client.get("/health")
    assert version_checks(fake_ollama) == 1


def test_health_is_degraded_when_the_provider_errors(client, fake_ollama):
    fake_ollama.fail_status = 500
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json()["status"] == "degraded"
    assert response.get_json()["provider"]["status"] == "down"


def test_health_stops_waiting_on_a_hung_provider_after_2_seconds(client, fake_ollama):
    # LLM_TIMEOUT is 3 s here: an answer at all (rather than a provider timeout) shows the
    # 2-second cap on the wait.
    fake_ollama.hang = True
    body = client.get("/health").get_json()
    assert body["status"] == "degraded"
    assert body["provider"] == {
        "name": "ollama",
        "model": "llama3.1:8b-instruct-q8_0",
        "status": "down",
        "error": "no answer within 2 s",
    }
    # The cached result answers the next check; the hung ping is not repeated.
    assert client.get("/health").get_json()["provider"]["status"] == "down"
    assert version_checks(fake_ollama) == 1


@pytest.mark.parametrize("streaming", [False, True], ids=["json", "stream"])
def test_an_unknown_model_is_400_listing_the_models_and_naming_llm_model(
    client, admin, fake_ollama, streaming
):
    body = {"message": "Hi", "model": "llama9:70b", "stream": streaming}
    response = client.post("/chat", json=body, headers=admin.headers)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "model_not_found"
    assert error["message"] == (
        "Model 'llama9:70b' is not on provider 'ollama', which has "
        "llama3.1:8b-instruct-q8_0, qwen2.5:7b. "
        "Name one of these, or change the default model with LLM_MODEL."
    )


@DEFAULT_MISSING
def test_a_missing_default_model_is_400_naming_llm_model(client, admin, fake_ollama):
    response = client.post("/v1/chat/completions", json={"messages": [
        {"role": "user", "content": "Hi"}]}, headers=admin.headers)  # fmt: skip
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert "'llama9:70b'" in message and "qwen2.5:7b" in message and "LLM_MODEL" in message


@DEFAULT_MISSING
def test_health_is_degraded_when_the_default_model_is_missing(client, fake_ollama):
    body = client.get("/health").get_json()
    assert body["status"] == "degraded"
    assert body["provider"]["status"] == "ok"
    assert body["provider"]["model_available"] is False
    assert "providers" not in body  # one provider: the shape of before


@pytest.mark.parametrize("app_overrides", [{"LLM_MODEL": "qwen2.5"}], indirect=True)
def test_health_finds_a_default_model_named_without_its_tag(client, fake_ollama):
    fake_ollama.models = ["qwen2.5:latest"]
    body = client.get("/health").get_json()
    assert body["status"] == "ok" and body["provider"]["model_available"] is True
