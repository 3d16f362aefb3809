"""A Qt-free client for the chatapp HTTP API, on `requests`: typed answers, streamed replies."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

import requests

from desktop.api_types import (
    ActivePrompt,
    ApiClientError,
    AuditPage,
    ChatHistory,
    ChatReply,
    ChatSummary,
    ExportFile,
    Health,
    Json,
    KeyInfo,
    Me,
    ModelList,
    NewKey,
    NewUser,
    Prompt,
    RateLimit,
    UsageReport,
    User,
    UserUsage,
    chat_summaries,
    parse,
    prompt_list,
)
from desktop.chat_stream import ChatStream, transport_error

__all__ = ["ApiClient", "ApiClientError", "ChatStream"]

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
# The server pings every 15 s while the provider thinks; anything longer means it is gone.
STREAM_READ_TIMEOUT = 60.0


def _seg(value: str) -> str:
    """One URL path segment: a prompt may be addressed by its name, spaces and all."""
    return quote(value, safe="")


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _error_from_response(response: requests.Response) -> ApiClientError:
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
        details = error.get("details") or []
    except (ValueError, KeyError, TypeError):
        code, message, details = "http_error", f"HTTP {response.status_code}", []
    return ApiClientError(code, message, response.status_code, _retry_after(response), details)


class ApiClient:
    """The chatapp REST API. Every method blocks, so call it off the GUI thread."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.rate_limit: RateLimit | None = None
        self._session = requests.Session()
        self._session.headers.update(
            {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        )

    def close(self) -> None:
        self._session.close()

    def _request(
        self, method: str, path: str, *, stream: bool = False, **kwargs: Any
    ) -> requests.Response:
        timeout = (CONNECT_TIMEOUT, STREAM_READ_TIMEOUT if stream else READ_TIMEOUT)
        try:
            response = self._session.request(
                method, self.base_url + path, timeout=timeout, stream=stream, **kwargs
            )
        except requests.RequestException as exc:
            raise transport_error(exc, self.base_url) from exc
        self._record_rate_limit(response)
        if response.status_code >= 400:
            error = _error_from_response(response)
            response.close()
            raise error
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Json:
        response = self._request(method, path, **kwargs)
        try:
            return dict(response.json())
        except ValueError as exc:
            raise ApiClientError("bad_response", "The server sent an unreadable answer") from exc

    def _record_rate_limit(self, response: requests.Response) -> None:
        headers = response.headers
        if "X-RateLimit-Remaining" not in headers:
            return
        try:
            reset = headers.get("X-RateLimit-Reset")
            self.rate_limit = RateLimit(
                int(headers.get("X-RateLimit-Limit", 0)),
                int(headers["X-RateLimit-Remaining"]),
                float(reset) if reset else None,
            )
        except ValueError:
            return

    # Account and server
    def health(self) -> Health:
        return parse(Health, self._json("GET", "/health"))

    def me(self) -> Me:
        return parse(Me, self._json("GET", "/me"))

    def models(self) -> ModelList:
        return parse(ModelList, self._json("GET", "/models"))

    # Chats
    def list_chats(self, q: str = "", limit: int = 200, offset: int = 0) -> list[ChatSummary]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if q:
            params["q"] = q
        return chat_summaries(self._json("GET", "/chat/history", params=params))

    def get_chat(self, chat_id: str) -> ChatHistory:
        answer = self._json("GET", f"/chat/history/{_seg(chat_id)}")
        return parse(ChatHistory, answer["history"])

    def rename_chat(self, chat_id: str, title: str) -> None:
        self._json("PATCH", f"/chat/history/{_seg(chat_id)}", json={"title": title})

    def delete_chat(self, chat_id: str) -> None:
        self._json("DELETE", f"/chat/delete/{_seg(chat_id)}")

    def export_chat(self, chat_id: str, fmt: str) -> ExportFile:
        response = self._request(
            "GET", f"/chat/history/{_seg(chat_id)}/export", params={"format": fmt}
        )
        disposition = response.headers.get("Content-Disposition", "")
        _, _, name = disposition.partition("filename=")
        default = f"{chat_id}.{'md' if fmt == 'markdown' else 'json'}"
        return ExportFile(name.strip('"; ') or default, response.content)

    def chat(self, message: str, **options: Any) -> ChatReply:
        body = {"message": message, **{k: v for k, v in options.items() if v is not None}}
        return parse(ChatReply, self._json("POST", "/chat", json=body))

    def stream_chat(
        self,
        message: str,
        chat_id: str | None = None,
        model: str | None = None,
        system_prompt_id: str | None = None,
        temperature: float | None = None,
        parent_id: str | None = None,
    ) -> ChatStream:
        """Open a streamed reply. Iterate the result for events; errors raise ApiClientError.
        With `parent_id`, the message goes below that one: an edit, on a branch of its own."""
        options = {
            "chat_id": chat_id,
            "model": model,
            "system_prompt_id": system_prompt_id,
            "temperature": temperature,
            "parent_id": parent_id,
        }
        return self._stream("/chat", {"message": message, **options})

    # Branches: a chat is a tree, and the history shows its current branch
    def regenerate(self, chat_id: str, message_id: str | None = None, **options: Any) -> ChatReply:
        """Another answer to the question that `message_id` (default: the last reply) answers."""
        body = {"chat_id": chat_id, "message_id": message_id, **options}
        body = {k: v for k, v in body.items() if v is not None}
        return parse(ChatReply, self._json("POST", "/chat/regenerate", json=body))

    def stream_regenerate(
        self,
        chat_id: str,
        message_id: str | None = None,
        model: str | None = None,
        temperature: float | None = None,
    ) -> ChatStream:
        """`regenerate`, streamed as `stream_chat` is."""
        options = {"message_id": message_id, "model": model, "temperature": temperature}
        return self._stream("/chat/regenerate", {"chat_id": chat_id, **options})

    def switch_branch(self, chat_id: str, message_id: str) -> ChatHistory:
        """Make the branch through `message_id` current; the chat as it reads now."""
        path = f"/chat/history/{_seg(chat_id)}/switch"
        answer = self._json("POST", path, json={"message_id": message_id})
        return parse(ChatHistory, answer["history"])

    def delete_branch(self, chat_id: str, message_id: str) -> None:
        """Remove the message and everything below it."""
        self._json("DELETE", f"/chat/history/{_seg(chat_id)}/messages/{_seg(message_id)}")

    def _stream(self, path: str, body: Json) -> ChatStream:
        body = {k: v for k, v in body.items() if v is not None}
        response = self._request(
            "POST",
            path,
            json={**body, "stream": True},
            stream=True,
            headers={"Accept": "text/event-stream"},
        )
        return ChatStream(response, self.base_url)

    # System prompts
    def active_prompt(self) -> ActivePrompt:
        return parse(ActivePrompt, self._json("GET", "/system-prompt"))

    def set_active_prompt_content(self, content: str) -> ActivePrompt:
        answer = self._json("POST", "/system-prompt", json={"prompt": content})
        return parse(ActivePrompt, answer)

    def get_prompt(self, prompt_id: str) -> Prompt:
        return self._prompt("GET", f"/system-prompts/{_seg(prompt_id)}")

    def list_prompts(self) -> list[Prompt]:
        return prompt_list(self._json("GET", "/system-prompts"))

    def create_prompt(self, name: str, content: str, description: str = "") -> Prompt:
        body = {"name": name, "content": content, "description": description}
        return self._prompt("POST", "/system-prompts", json=body)

    def update_prompt(self, prompt_id: str, **fields: str) -> Prompt:
        return self._prompt("PUT", f"/system-prompts/{_seg(prompt_id)}", json=fields)

    def delete_prompt(self, prompt_id: str) -> None:
        self._json("DELETE", f"/system-prompts/{_seg(prompt_id)}")

    def activate_prompt(self, prompt_id: str) -> Prompt:
        return self._prompt("POST", f"/system-prompts/{_seg(prompt_id)}/activate")

    def _prompt(self, method: str, path: str, **kwargs: Any) -> Prompt:
        """The prompt in a `{"prompt_id", "prompt": {...}}` answer."""
        return parse(Prompt, self._json(method, path, **kwargs)["prompt"])

    # Keys and users
    def list_keys(self) -> list[KeyInfo]:
        return [parse(KeyInfo, k) for k in self._json("GET", "/me/keys").get("keys") or []]

    def create_key(self, name: str) -> NewKey:
        answer = self._json("POST", "/me/keys", json={"name": name})
        return parse(NewKey, answer)

    def revoke_key(self, prefix: str) -> None:
        self._json("DELETE", f"/me/keys/{_seg(prefix)}")

    def list_users(self) -> list[User]:
        return [parse(User, u) for u in self._json("GET", "/users").get("users") or []]

    def create_user(self, username: str, **fields: Any) -> NewUser:
        answer = self._json("POST", "/users", json={"username": username, **fields})
        return parse(NewUser, answer)

    def update_user(self, username: str, **fields: Any) -> User:
        answer = self._json("PATCH", f"/users/{_seg(username)}", json=fields)
        return parse(User, answer["user"])

    def delete_user(self, username: str) -> None:
        self._json("DELETE", f"/users/{_seg(username)}")

    # Usage and audit (SPEC 16)
    def my_usage(self, start: date, end: date) -> UsageReport:
        params = {"from": start.isoformat(), "to": end.isoformat()}
        return parse(UsageReport, self._json("GET", "/me/usage", params=params))

    def usage_by_user(self, start: date, end: date, user: str = "") -> list[UserUsage]:
        params = {"from": start.isoformat(), "to": end.isoformat()}
        if user:
            params["user"] = user
        rows = self._json("GET", "/usage", params=params).get("users") or []
        return [parse(UserUsage, row) for row in rows]

    def list_user_keys(self, username: str) -> list[KeyInfo]:
        """Another user's keys (admin)."""
        keys = self._json("GET", f"/users/{_seg(username)}/keys").get("keys") or []
        return [parse(KeyInfo, k) for k in keys]

    def revoke_user_key(self, username: str, prefix: str) -> None:
        self._json("DELETE", f"/users/{_seg(username)}/keys/{_seg(prefix)}")

    def audit(
        self, limit: int = 50, offset: int = 0, action: str = "", actor: str = ""
    ) -> AuditPage:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        params.update({k: v for k, v in (("action", action), ("actor", actor)) if v})
        return parse(AuditPage, self._json("GET", "/audit", params=params))
