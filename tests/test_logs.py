"""Logs: JSON when asked, with the request ID, and never an API key."""

from __future__ import annotations

import io
import json
import logging

import pytest

from chatapp.auth import public
from chatapp.logs import HANDLER_NAME, configure_logging
from tests.conftest import bearer


@pytest.fixture
def log_stream():
    """Capture the `chatapp` logger's formatted output; restore text logging afterwards."""
    stream = io.StringIO()
    (handler,) = [h for h in logging.getLogger("chatapp").handlers if h.get_name() == HANDLER_NAME]
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)
    configure_logging("INFO", "text")


def test_json_log_lines_carry_the_request_id(app, client, log_stream):
    @public
    def noisy() -> str:
        logging.getLogger("chatapp.test").warning("inside a request")
        return "ok"

    app.add_url_rule("/noisy", "noisy", noisy)
    configure_logging("INFO", "json")
    client.get("/noisy", headers={"X-Request-ID": "req-json-1"})
    logging.getLogger("chatapp.test").warning("outside any request")
    inside, outside = (json.loads(line) for line in log_stream.getvalue().splitlines())
    assert inside["request_id"] == "req-json-1"
    assert inside["message"] == "inside a request" and inside["level"] == "WARNING"
    assert outside["request_id"] == "-"


def test_api_keys_never_reach_the_log(app, client, admin, make_user, log_stream):
    configure_logging("DEBUG", "text")
    bob = make_user("bob")
    wrong = "ck_" + "w" * 43
    client.get("/me", headers=bearer(wrong))
    client.get("/me", headers=bob.headers)
    client.post("/me/keys", json={"name": "n"}, headers=bob.headers)
    client.post("/users", json={"username": "carol"}, headers=admin.headers)
    output = log_stream.getvalue()
    for secret in (wrong, bob.key, admin.key):
        assert secret not in output
