"""A provider that can't be reached: 503 for chat and models, and /health says degraded."""

from __future__ import annotations

import pytest

from tests.api.chatkit import snapshot


@pytest.fixture
def app_overrides(dead_url) -> dict:
    return {"OLLAMA_HOST": dead_url}


@pytest.mark.parametrize("streaming", [False, True], ids=["json", "stream"])
def test_unreachable_provider_is_503_and_stores_nothing(app, client, admin, streaming):
    before = snapshot(app)
    body = {"message": "Hi", "chat_id": "c1", "stream": streaming}
    response = client.post("/chat", json=body, headers=admin.headers)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "provider_unavailable"
    assert snapshot(app) == before


def test_models_with_an_unreachable_provider_is_503(client, admin):
    response = client.get("/models", headers=admin.headers)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "provider_unavailable"


def test_health_is_degraded_but_200_when_the_provider_is_down(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["provider"]["status"] == "down" and body["provider"]["name"] == "ollama"
    assert body["provider"]["error"]
