"""Provider faults give their status (JSON, streaming or not), and the chat is unchanged."""

from __future__ import annotations

import pytest

from tests.api.chatkit import send, snapshot

# knob settings on the fake Ollama -> (status, code) the API answers with
FAULTS = {
    "unknown model": ({"models": ["something-else"]}, 400, "model_not_found"),
    "error status 500": ({"fail_status": 500}, 502, "provider_error"),
    "busy 503": ({"fail_status": 503}, 502, "provider_error"),
    "malformed body": ({"malformed": True}, 502, "provider_error"),
    "error while generating": ({"error_after": 0}, 502, "provider_error"),
    "hangs": ({"hang": True}, 504, "provider_timeout"),
}


@pytest.fixture
def app_overrides() -> dict:
    return {"LLM_TIMEOUT": 0.5}


@pytest.fixture(params=list(FAULTS))
def fault(request, fake_ollama):
    knobs, status, code = FAULTS[request.param]

    def apply() -> tuple[int, str]:
        for name, value in knobs.items():
            setattr(fake_ollama, name, value)
        return status, code

    return apply


@pytest.mark.parametrize("streaming", [False, True], ids=["json", "stream"])
def test_fault_on_a_new_chat_gives_its_status_and_stores_nothing(
    app, client, admin, fault, streaming
):
    before = snapshot(app)
    status, code = fault()
    body = {"message": "Hi", "chat_id": "new-chat", "stream": streaming}
    response = client.post("/chat", json=body, headers=admin.headers)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.get_json() == {
        "success": False,
        "error": {"code": code, "message": response.get_json()["error"]["message"]},
        "detail": response.get_json()["error"]["message"],
    }
    assert snapshot(app) == before
    assert client.get("/chat/history/new-chat", headers=admin.headers).status_code == 404


@pytest.mark.parametrize("streaming", [False, True], ids=["json", "stream"])
def test_fault_on_an_existing_chat_leaves_it_unchanged(app, client, admin, fault, streaming):
    send(client, admin, "first", chat_id="c1")
    before = snapshot(app)
    status, code = fault()
    body = {"message": "second", "chat_id": "c1", "stream": streaming}
    response = client.post("/chat", json=body, headers=admin.headers)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert snapshot(app) == before


def test_retry_after_a_fault_is_clean(client, admin, fake_ollama):
    send(client, admin, "first", chat_id="c1")
    fake_ollama.fail_status = 500
    failed = client.post("/chat", json={"message": "x", "chat_id": "c1"}, headers=admin.headers)
    assert failed.status_code == 502
    fake_ollama.fail_status = None
    send(client, admin, "second", chat_id="c1")
    sent = fake_ollama.requests[-1].json["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["first", "second"]
