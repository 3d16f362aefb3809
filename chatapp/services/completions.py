"""The OpenAI-compatible gateway: the caller's messages to the provider, nothing stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from flask import current_app

from chatapp.errors import ValidationFailed
from chatapp.extensions import db
from chatapp.models import User
from chatapp.providers import ChatOptions, Message, Reply
from chatapp.services import llm, quotas
from chatapp.services.turn_events import Done, Started, TurnEvents


def complete(
    user: User, messages: Sequence[Message], model: str | None, options: ChatOptions
) -> Reply:
    """The provider's whole answer; its model is the one that answered."""
    account = quotas.account_of(user)  # before _prepare's commit expires the user
    _prepare(messages)
    return llm.chat(messages, model, options, account=account)


def stream(
    user: User, messages: Sequence[Message], model: str | None, options: ChatOptions
) -> TurnEvents:
    """The answer as events: Started, Delta and Ping, then Done or Failed.

    A failure before the provider's first chunk is raised here, not yielded, so the response
    still gets its proper status.
    """
    account = quotas.account_of(user)  # before _prepare's commit expires the user
    _prepare(messages)
    return _events(llm.stream(messages, model, options, account=account))


def _prepare(messages: Sequence[Message]) -> None:
    """Check the messages and end the request's transaction."""
    _check_lengths(messages, current_app.config["MAX_MESSAGE_CHARS"])
    # Authentication read the database: end that transaction, so that no pooled connection
    # waits on the (slow) provider with this request.
    db.session.commit()


def _check_lengths(messages: Sequence[Message], limit: int) -> None:
    """MAX_MESSAGE_CHARS applies to each user message, as it does on POST /chat."""
    details = [
        {"field": f"messages.{i}.content", "message": f"at most {limit} characters are accepted"}
        for i, message in enumerate(messages)
        if message.role == "user" and len(message.content) > limit
    ]
    if details:
        raise ValidationFailed(details=details)


def _events(streaming: llm.Streaming) -> TurnEvents:
    feed = streaming.feed
    try:
        yield Started(streaming.model)
        for event in feed:
            yield replace(event, model=streaming.model) if isinstance(event, Done) else event
    finally:
        feed.close()
