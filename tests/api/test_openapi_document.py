"""/openapi.json says what the server does: every status, the path forms, the public pages,
the events of a stream."""

from __future__ import annotations

import pytest

BODY_ROUTES = [
    ("/chat", "post"),
    ("/me/keys", "post"),
    ("/users", "post"),
    ("/users/{username}", "patch"),
    ("/system-prompts/{prompt_id}", "put"),
    ("/system-prompts/{prompt_id}/activate", "post"),
    ("/v1/chat/completions", "post"),
]


@pytest.fixture
def document(client) -> dict:
    return client.get("/openapi.json").get_json()


@pytest.mark.parametrize(("path", "method"), BODY_ROUTES)
def test_routes_that_take_a_body_document_the_body_errors(document, path, method):
    responses = document["paths"][path][method]["responses"]
    assert {"400", "401", "413", "415", "429", "503"} <= set(responses)


def test_path_parameters_carry_their_form(document):
    parameters = {
        parameter["name"]: parameter["schema"]
        for operations in document["paths"].values()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
    }
    assert parameters["chat_id"]["pattern"] == "^[A-Za-z0-9_-]{1,64}$"
    assert parameters["username"]["pattern"] == "^[A-Za-z0-9_.-]{1,64}$"
    assert parameters["prompt_id"]["maxLength"] == 100


@pytest.mark.parametrize(
    ("path", "media_type"),
    [("/", "application/json"), ("/health", "application/json"),
     ("/openapi.json", "application/json"), ("/docs", "text/html")],
)  # fmt: skip
def test_public_routes_say_so_and_what_they_answer(document, path, media_type):
    operation = document["paths"][path]["get"]
    assert operation["security"] == []
    assert media_type in operation["responses"]["200"]["content"]


def test_a_key_needs_no_body(document):
    assert document["paths"]["/me/keys"]["post"]["requestBody"]["required"] is False


def test_the_chat_stream_is_documented_event_by_event(document):
    content = document["paths"]["/chat"]["post"]["responses"]["200"]["content"]
    events = content["text/event-stream"]["schema"]["oneOf"]
    names = [event["properties"]["event"]["const"] for event in events]
    assert names == ["start", "delta", "done", "error"]
    done = events[2]["properties"]["data"]
    assert done["contentMediaType"] == "application/json"
    assert done["contentSchema"] == {"$ref": "#/components/schemas/StreamDone"}
    assert "StreamDone" in document["components"]["schemas"]


def test_strings_that_refuse_nul_say_so(document):
    content = document["components"]["schemas"]["CreatePrompt"]["properties"]["content"]
    assert content["not"] == {"pattern": "\\x00"}
    assert content["pattern"] == "\\S"
