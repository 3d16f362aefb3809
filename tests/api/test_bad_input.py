"""Hostile input gets a 4xx, never a 500: deep JSON, huge integers, empty and oversized bodies."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import requests

from chatapp.request_guards import MAX_JSON_DEPTH
from tests.api.test_errors import assert_envelope

MAX_BODY = 1024 * 1024


def nested(depth: int, opening: bytes = b"[", closing: bytes = b"]") -> bytes:
    return opening * depth + closing * depth


@pytest.mark.parametrize(
    "body",
    [
        nested(100_000),
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b'{"name": ' + nested(MAX_JSON_DEPTH + 1) + b"}",
        nested(100_000)[:-10],  # unbalanced as well as deep
    ],
    ids=["arrays", "objects", "just-over", "unbalanced"],
)
def test_json_nested_too_deep_is_400_with_nothing_logged(client, admin, caplog, body):
    logger = logging.getLogger("chatapp")  # it doesn't propagate, so listen on it directly
    logger.addHandler(caplog.handler)
    try:
        response = client.post(
            "/me/keys", data=body, content_type="application/json", headers=admin.headers
        )
    finally:
        logger.removeHandler(caplog.handler)
    assert_envelope(response, 400, "bad_request")
    assert caplog.records == []


def test_json_nested_too_deep_is_400_before_authentication(client):
    response = client.post("/chat", data=nested(100_000), content_type="application/json")
    assert_envelope(response, 400, "bad_request")


def test_json_nested_to_the_limit_is_parsed(client, admin):
    name = b'"' + b"[" * 100 + b'"'  # brackets inside a string don't nest anything
    body = b'{"name": ' + name + b', "x": ' + nested(MAX_JSON_DEPTH - 1) + b"}"
    response = client.post(
        "/me/keys", data=body, content_type="application/json", headers=admin.headers
    )
    assert_envelope(response, 422, "validation_error")  # parsed: the unknown field "x" is refused


@pytest.mark.parametrize(
    "query",
    [
        "offset=9223372036854775808",
        "offset=9223372036854775807",
        "offset=-1",
        "limit=9223372036854775808",
        "limit=-9223372036854775809",
        "offset=1e400",
    ],
)
def test_integers_out_of_range_in_a_query_are_422(client, admin, query):
    response = client.get(f"/chat/history?{query}", headers=admin.headers)
    assert_envelope(response, 422, "validation_error")


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/me/keys"), ("POST", "/users"), ("POST", "/chat"), ("PUT", "/system-prompts/x")],
)
def test_an_empty_body_with_a_json_content_type_is_400(client, admin, method, path):
    response = client.open(
        path, method=method, data=b"", content_type="application/json", headers=admin.headers
    )
    assert_envelope(response, 400, "bad_request")
    assert len(client.get("/me/keys", headers=admin.headers).get_json()["keys"]) == 1


def test_no_body_at_all_is_still_fine_where_none_is_needed(client, admin):
    response = client.post("/system-prompts/default/activate", headers=admin.headers)
    assert response.status_code == 200


def test_an_oversized_body_of_another_type_is_413_not_415(client, admin):
    response = client.post("/users", data=b"x" * (MAX_BODY + 1), headers=admin.headers)
    assert_envelope(response, 413, "payload_too_large")
    assert response.headers["Connection"] == "close"


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    yield b'{"name": "'
    for _ in range(total // size):
        yield b"x" * size
    yield b'"}'


def test_a_chunked_body_over_max_content_length_is_413(live_server, admin):
    response = requests.post(
        f"{live_server.url}/me/keys",
        data=chunks(MAX_BODY + 64 * 1024),  # a generator: sent with Transfer-Encoding: chunked
        headers={**admin.headers, "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"
    keys = requests.get(f"{live_server.url}/me/keys", headers=admin.headers, timeout=10)
    assert len(keys.json()["keys"]) == 1


def test_a_chunked_body_under_the_limit_is_read(live_server, admin):
    response = requests.post(
        f"{live_server.url}/me/keys",
        data=chunks(1000 * 64),
        headers={**admin.headers, "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 422, response.text  # read whole: the name is too long
