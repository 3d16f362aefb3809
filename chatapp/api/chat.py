"""`POST /chat`, regenerate, and the chat history: list, read, switch, rename, export, delete."""

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
from chatapp.extensions import statements_alone
from chatapp.models import Chat
from chatapp.openapi import api_spec, documented
from chatapp.schemas.chat import (
    BranchDeletedResponse,
    ChatHistory,
    ChatHistoryResponse,
    ChatRenamedResponse,
    ChatRequest,
    ChatResponse,
    ExportQuery,
    HistoryListResponse,
    HistoryQuery,
    RegenerateRequest,
    RenameChat,
    SwitchBranch,
)
from chatapp.schemas.common import MessageResponse
from chatapp.services import chats, tree, turns
from chatapp.services.turns import TurnRequest

bp = Blueprint("chat", __name__)

EVENT_STREAM = "text/event-stream"


def wants_stream(body: ChatRequest | RegenerateRequest) -> bool:
    """`"stream"` in the body decides; without it, an Accept that names text/event-stream."""
    if "stream" in body.model_fields_set:
        return body.stream
    return any(mimetype == EVENT_STREAM and q > 0 for mimetype, q in request.accept_mimetypes)


@bp.post("/chat")
@statements_alone
@ratelimit.llm_calls  # outside validate: spectree reads the view's own annotations
@api_spec.validate(
    json=ChatRequest,
    resp=json_or_event_stream(ChatResponse, CHAT_EVENT_SCHEMAS, 400, 404, 422, 502, 504),
    tags=["chat"],
)
def chat(json: ChatRequest) -> Any:
    return answer(json, turn_request(json))


@bp.post("/chat/regenerate")
@statements_alone
@ratelimit.llm_calls  # the same LLM budget as POST /chat
@api_spec.validate(
    json=RegenerateRequest,
    resp=json_or_event_stream(ChatResponse, CHAT_EVENT_SCHEMAS, 400, 404, 409, 422, 502, 504),
    tags=["chat"],
)
def regenerate(json: RegenerateRequest) -> Any:
    """Another answer to the same user message: a sibling of the old reply, made current."""
    return answer(json, regenerate_request(json))


def answer(body: ChatRequest | RegenerateRequest, turn: turns.AnyTurnRequest) -> Any:
    """The turn as Server-Sent Events, or answered whole as JSON."""
    user = current_user()
    if wants_stream(body):
        events = ratelimit.limit_streams(user, lambda: chat_events(turns.stream(user, turn)))
        return event_stream(events)
    result = turns.reply(user, turn)
    reply = ChatResponse.of(result.chat_id, result.reply, result.message_id, result.user_message_id)
    return reply.model_dump(mode="json")


def turn_request(body: ChatRequest) -> TurnRequest:
    return TurnRequest(
        message=body.message,
        chat_id=body.chat_id,
        model=body.model,
        temperature=body.temperature,
        system_prompt_id=body.system_prompt_id,
        parent_id=body.parent_id,
    )


def regenerate_request(body: RegenerateRequest) -> turns.RegenerateRequest:
    return turns.RegenerateRequest(
        chat_id=body.chat_id,
        message_id=body.message_id,
        model=body.model,
        temperature=body.temperature,
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
    return shown(chats.get_chat(current_user(), chat_id))


def shown(chat: Chat) -> ChatHistoryResponse:
    """The chat as GET shows it: its current branch."""
    history = ChatHistory.of(chat, tree.current_branch(chat))
    return ChatHistoryResponse(chat_id=chat.chat_id, history=history)


@bp.post("/chat/history/<chat_id>/switch")
@api_spec.validate(
    json=SwitchBranch, resp=documented(200, ChatHistoryResponse, 404, 422), tags=["chat"]
)
def switch_branch(chat_id: str, json: SwitchBranch) -> ChatHistoryResponse:
    return shown(tree.switch(current_user(), chat_id, json.message_id))


@bp.delete("/chat/history/<chat_id>/messages/<message_id>")
@api_spec.validate(resp=documented(200, BranchDeletedResponse, 404, 409, 422), tags=["chat"])
def delete_branch(chat_id: str, message_id: str) -> BranchDeletedResponse:
    """Delete the message and every message below it; not the root."""
    chat = tree.delete_branch(current_user(), chat_id, message_id)
    message = f"Message '{message_id}' and its replies deleted"
    return BranchDeletedResponse(**shown(chat).model_dump(), message=message)


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
    file = export_file(chats.get_chat(current_user(), chat_id), query.format)
    headers = {"Content-Disposition": f'attachment; filename="{file.filename}"'}
    return Response(file.content, mimetype=file.mimetype, headers=headers)


@bp.delete("/chat/delete/<chat_id>")
@api_spec.validate(resp=documented(200, MessageResponse, 404, 422), tags=["chat"])
def delete_chat(chat_id: str) -> MessageResponse:
    chats.delete_chat(current_user(), chat_id)
    return MessageResponse(message=f"Chat '{chat_id}' deleted")
