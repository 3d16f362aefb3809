"""The OpenAI-compatible gateway: `POST /v1/chat/completions` and `GET /v1/models`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from chatapp import ratelimit
from chatapp.api.streaming import event_stream, json_or_event_stream
from chatapp.openapi import api_spec, documented
from chatapp.schemas.openai_compat import ChatCompletion, ChatCompletionRequest, ModelList
from chatapp.services import completions

bp = Blueprint("openai_compat", __name__, url_prefix="/v1")


@bp.post("/chat/completions")
@ratelimit.llm_calls  # outside validate: spectree reads the view's own annotations
@api_spec.validate(
    json=ChatCompletionRequest,
    resp=json_or_event_stream(ChatCompletion, 400, 422, 502, 503, 504),
    tags=["openai"],
)
def chat_completions(json: ChatCompletionRequest) -> Any:
    messages, options = json.context(), json.options()
    if json.stream:
        return event_stream(completions.stream(messages, json.model, options, json.include_usage))
    return completions.complete(messages, json.model, options).model_dump(mode="json")


@bp.get("/models")
@api_spec.validate(resp=documented(200, ModelList, 502, 503, 504), tags=["openai"])
def list_models() -> ModelList:
    return completions.list_models()
