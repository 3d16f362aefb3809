"""The OpenAI-compatible gateway: the caller's messages to the provider, nothing stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from flask import current_app

from chatapp.errors import ValidationFailed
from chatapp.extensions import db
from chatapp.providers import ChatOptions, Message, Reply
from chatapp.services import llm
from chatapp.services.provider_feed import ProviderFeed, read_provider
from chatapp.services.turn_events import Started, TurnEvents


def complete(messages: Sequence[Message], model: str | None, options: ChatOptions) -> Reply:
    """The provider's whole answer; it names the model asked for when the provider doesn't."""
    model = _prepare(messages, model)
    reply = llm.provider().chat(list(messages), model, options)
    return replace(reply, model=reply.model or model)


def stream(messages: Sequence[Message], model: str | None, options: ChatOptions) -> TurnEvents:
    """The answer as events: Started, Delta and Ping, then Done or Failed.

    A failure before the provider's first chunk is raised here, not yielded, so the response
    still gets its proper status.
    """
    model = _prepare(messages, model)
    chunks = llm.provider().stream(list(messages), model, options)
    return _events(model, read_provider(chunks, current_app.config["STREAM_PING_SECONDS"]))


def _prepare(messages: Sequence[Message], model: str | None) -> str:
    """Check the messages, end the request's transaction, and say which model answers."""
    _check_lengths(messages, current_app.config["MAX_MESSAGE_CHARS"])
    # Authentication read the database: end that transaction, so that no pooled connection
    # waits on the (slow) provider with this request.
    db.session.commit()
    return llm.resolve_model(model)


def _check_lengths(messages: Sequence[Message], limit: int) -> None:
    """MAX_MESSAGE_CHARS applies to each user message, as it does on POST /chat."""
    details = [
        {"field": f"messages.{i}.content", "message": f"at most {limit} characters are accepted"}
        for i, message in enumerate(messages)
        if message.role == "user" and len(message.content) > limit
    ]
    if details:
        raise ValidationFailed(details=details)


def _events(model: str, feed: ProviderFeed) -> TurnEvents:
    try:
        yield Started(model)
        yield from feed
    finally:
        feed.close()
