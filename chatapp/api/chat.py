"""`POST /chat` and the chat history: list, read, rename, export and delete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from chatapp import ratelimit
from chatapp.api.export import export_file
from chatapp.api.streaming import (
    CHAT_EVENT_SCHEMAS,
    chat_events,
    event_stream,
    json_or_event_stream,
)
from chatapp.auth import current_user
from chatapp.openapi import api_spec, documented
from chatapp.schemas.chat import (
    ChatHistory,
    ChatHistoryResponse,
    ChatRenamedResponse,
    ChatRequest,
    ChatResponse,
    ExportQuery,
    HistoryListResponse,
    HistoryQuery,
    RenameChat,
)
from chatapp.schemas.common import MessageResponse
from chatapp.services import chats, turns
from chatapp.services.turns import TurnRequest

bp = Blueprint("chat", __name__)

EVENT_STREAM = "text/event-stream"


def wants_stream(body: ChatRequest) -> bool:
    """`"stream"` in the body decides; without it, an Accept that names text/event-stream."""
    if "stream" in body.model_fields_set:
        return body.stream
    return any(mimetype == EVENT_STREAM and q > 0 for mimetype, q in request.accept_mimetypes)


@bp.post("/chat")
@ratelimit.llm_calls  # outside validate: spectree reads the view's own annotations
@api_spec.validate(
    json=ChatRequest,
    resp=json_or_event_stream(ChatResponse, CHAT_EVENT_SCHEMAS, 400, 404, 422, 502, 504),
    tags=["chat"],
)
def chat(json: ChatRequest) -> Any:
    user, turn = current_user(), turn_request(json)
    if wants_stream(json):
        events = ratelimit.limit_streams(user, lambda: chat_events(turns.stream(user, turn)))
        return event_stream(events)
    result = turns.reply(user, turn)
    return ChatResponse.of(result.chat_id, result.reply).model_dump(mode="json")


def turn_request(body: ChatRequest) -> TurnRequest:
    return TurnRequest(
        message=body.message,
        chat_id=body.chat_id,
        model=body.model,
        temperature=body.temperature,
        system_prompt_id=body.system_prompt_id,
    )


@bp.get("/chat/history")
@api_spec.validate(
    query=HistoryQuery, resp=documented(200, HistoryListResponse, 422), tags=["chat"]
)
def list_history(query: HistoryQuery) -> HistoryListResponse:
    page = chats.list_chats(current_user(), query.q, query.limit, query.offset)
    return HistoryListResponse.of(page.chats, page.total)


@bp.get("/chat/history/<chat_id>")
@api_spec.validate(resp=documented(200, ChatHistoryResponse, 404, 422), tags=["chat"])
def get_history(chat_id: str) -> ChatHistoryResponse:
    chat, messages = chats.get_chat_with_messages(current_user(), chat_id)
    return ChatHistoryResponse(chat_id=chat.chat_id, history=ChatHistory.of(chat, messages))


@bp.patch("/chat/history/<chat_id>")
@api_spec.validate(
    json=RenameChat, resp=documented(200, ChatRenamedResponse, 404, 422), tags=["chat"]
)
def rename_chat(chat_id: str, json: RenameChat) -> ChatRenamedResponse:
    chats.rename_chat(current_user(), chat_id, json.title)
    return ChatRenamedResponse(chat_id=chat_id, title=json.title, message="Chat renamed")


@bp.get("/chat/history/<chat_id>/export")
@api_spec.validate(query=ExportQuery, resp=documented(200, None, 404, 422), tags=["chat"])
def export_chat(chat_id: str, query: ExportQuery) -> Response:
    chat, messages = chats.get_chat_with_messages(current_user(), chat_id)
    file = export_file(chat, messages, query.format)
    headers = {"Content-Disposition": f'attachment; filename="{file.filename}"'}
    return Response(file.content, mimetype=file.mimetype, headers=headers)


@bp.delete("/chat/delete/<chat_id>")
@api_spec.validate(resp=documented(200, MessageResponse, 404, 422), tags=["chat"])
def delete_chat(chat_id: str) -> MessageResponse:
    chats.delete_chat(current_user(), chat_id)
    return MessageResponse(message=f"Chat '{chat_id}' deleted")
