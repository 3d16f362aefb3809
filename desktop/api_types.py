"""What the chatapp API answers, as dataclasses, each parsed here from the server's JSON."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

Json = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True)
class FieldError:
    """What is wrong with one field of a request (a 422's `details`)."""

    field: str
    message: str


class ApiClientError(Exception):
    """An error from the server's envelope, or a transport failure (then `status` is None)."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int | None = None,
        retry_after: float | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.details = [
            FieldError(str(d.get("field", "")), str(d.get("message", ""))) for d in details or []
        ]


def _text(data: Json, key: str, default: str = "") -> str:
    """A string field; null and missing read as `default`."""
    value = data.get(key)
    return default if value is None else str(value)


def parse(cls: type[T], data: Json) -> T:
    """One of the types below from its JSON: by its `from_json`, or else field by field."""
    from_json = getattr(cls, "from_json", None)
    return from_json(data) if from_json is not None else _flat(cls, data)


def _flat(cls: type[T], data: Json) -> T:
    """A flat dataclass from the JSON fields of the same names; null or missing: the default."""
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    try:
        return cls(**{name: data[name] for name in names if data.get(name) is not None})
    except TypeError as exc:  # a field it must have is missing
        raise ApiClientError("bad_response", "The server sent an unreadable answer") from exc


def _keyed(data: Json, key: str) -> list[Json]:
    """The values of an object keyed by ID, each with its `id` filled in from the key."""
    items: dict[str, Json] = data.get(key) or {}
    return [{**item, "id": item.get("id", item_id)} for item_id, item in items.items()]


@dataclass(frozen=True)
class RateLimit:
    """The `X-RateLimit-*` headers of the latest authenticated response."""

    limit: int
    remaining: int
    reset: float | None


@dataclass(frozen=True)
class Health:
    status: str
    version: str = ""
    database: Json = field(default_factory=dict)
    provider: Json = field(default_factory=dict)


@dataclass(frozen=True)
class LimitUsage:
    """One of the rate limits that apply to the user, and what is left of it."""

    limit: str
    remaining: int | None = None
    reset_at: float | None = None


@dataclass(frozen=True)
class Me:
    username: str
    is_admin: bool = False
    rate_limits: dict[str, LimitUsage] = field(default_factory=dict)
    quotas: Quotas = field(default_factory=lambda: Quotas())

    @classmethod
    def from_json(cls, data: Json) -> Me:
        limits = {
            name: LimitUsage(_text(v, "limit"), v.get("remaining"), v.get("reset_at"))
            for name, v in (data.get("rate_limits") or {}).items()
        }
        quotas = parse(Quotas, data.get("token_quotas") or {})
        return cls(_text(data, "username", "?"), bool(data.get("is_admin")), limits, quotas)


@dataclass(frozen=True)
class ModelList:
    provider: str
    default_model: str
    names: list[str]

    @classmethod
    def from_json(cls, data: Json) -> ModelList:
        names = [str(m["name"]) for m in data.get("models") or [] if m.get("name")]
        return cls(_text(data, "provider"), _text(data, "default_model"), names)


@dataclass(frozen=True)
class ChatSummary:
    id: str
    title: str = ""
    updated_at: str = ""
    message_count: int = 0
    model: str = ""


@dataclass(frozen=True)
class ChatMessage:
    """A message of the chat's current branch; `sibling_ids` holds the other answers (or
    edits) to the same parent, oldest first, itself included."""

    role: str = ""
    content: str = ""
    timestamp: str = ""
    model: str = ""
    finish_reason: str | None = None
    id: str = ""
    parent_id: str | None = None
    sibling_ids: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Json) -> ChatMessage:
        parent = data.get("parent_id")
        return cls(
            _text(data, "role"),
            _text(data, "content"),
            _text(data, "timestamp"),
            _text(data, "model"),
            data.get("finish_reason"),
            _text(data, "id"),  # opaque: kept as text, whatever JSON type it came as
            None if parent is None else str(parent),
            [str(sibling) for sibling in data.get("sibling_ids") or []],
        )


@dataclass(frozen=True)
class ChatHistory:
    id: str
    title: str
    messages: list[ChatMessage]

    @classmethod
    def from_json(cls, data: Json) -> ChatHistory:
        messages = [parse(ChatMessage, m) for m in data.get("messages") or []]
        return cls(_text(data, "id"), _text(data, "title"), messages)


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass(frozen=True)
class ChatReply:
    """The answer to a chat message sent without streaming."""

    chat_id: str
    response: str
    model: str
    usage: Usage
    finish_reason: str | None = None
    message_id: str = ""
    user_message_id: str = ""

    @classmethod
    def from_json(cls, data: Json) -> ChatReply:
        return cls(
            _text(data, "chat_id"),
            _text(data, "response"),
            _text(data, "model"),
            parse(Usage, data.get("usage") or {}),
            data.get("finish_reason"),
            _text(data, "message_id"),
            _text(data, "user_message_id"),
        )


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content: bytes


@dataclass(frozen=True)
class Prompt:
    id: str
    name: str
    content: str
    description: str = ""
    is_active: bool = False

    @classmethod
    def from_json(cls, data: Json) -> Prompt:
        return cls(
            str(data["id"]),
            str(data.get("name") or data["id"]),
            _text(data, "content"),
            _text(data, "description"),
            bool(data.get("is_active")),
        )


@dataclass(frozen=True)
class ActivePrompt:
    """The active prompt's text; with none active, the built-in default and no id or name."""

    prompt: str
    prompt_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class KeyInfo:
    prefix: str
    name: str
    created_at: str = ""
    last_used_at: str | None = None
    revoked_at: str | None = None


@dataclass(frozen=True)
class NewKey:
    """A key just created: its clear text is shown this once."""

    key: KeyInfo
    api_key: str

    @classmethod
    def from_json(cls, data: Json) -> NewKey:
        return cls(parse(KeyInfo, data["key"]), str(data["api_key"]))


@dataclass(frozen=True)
class User:
    username: str
    is_admin: bool = False
    is_active: bool = True
    rate_limit_per_hour: int | None = None
    token_quota_per_day: int | None = None
    token_quota_per_month: int | None = None
    created_at: str = ""


@dataclass(frozen=True)
class NewUser:
    """A user just created, with the clear text of their first key."""

    user: User
    api_key: str

    @classmethod
    def from_json(cls, data: Json) -> NewUser:
        return cls(parse(User, data["user"]), str(data["api_key"]))


@dataclass(frozen=True)
class StreamStart:
    chat_id: str
    model: str
    user_message_id: str = ""


@dataclass(frozen=True)
class StreamDelta:
    content: str


@dataclass(frozen=True)
class StreamDone:
    chat_id: str
    finish_reason: str | None
    usage: Usage = field(default_factory=Usage)
    message_id: str = ""


StreamEvent = StreamStart | StreamDelta | StreamDone


def stream_event(event: str, payload: Json) -> StreamEvent | None:
    """One SSE event of a streamed reply; an `error` event raises, unknown events are None."""
    if event == "start":
        return StreamStart(
            _text(payload, "chat_id"), _text(payload, "model"), _text(payload, "user_message_id")
        )
    if event == "delta":
        return StreamDelta(_text(payload, "content"))
    if event == "done":
        usage = parse(Usage, payload.get("usage") or {})
        finish = payload.get("finish_reason")
        return StreamDone(_text(payload, "chat_id"), finish, usage, _text(payload, "message_id"))
    if event == "error":
        error = payload.get("error") or {}
        raise ApiClientError(
            str(error.get("code", "stream_error")),
            str(error.get("message", "The reply failed")),
            details=error.get("details"),
        )
    return None


def chat_summaries(data: Json) -> list[ChatSummary]:
    return [parse(ChatSummary, chat) for chat in _keyed(data, "chats")]


def prompt_list(data: Json) -> list[Prompt]:
    return [parse(Prompt, prompt) for prompt in _keyed(data, "prompts")]


# Usage, quotas and audit (SPEC 16)
@dataclass(frozen=True)
class TokenQuota:
    """A token quota (None: unlimited), what was used of it and what is left."""

    limit: int | None = None
    used: int = 0
    remaining: int | None = None
    resets_at: str = ""


@dataclass(frozen=True)
class Quotas:
    """The token quotas that apply to the user: per UTC day and per UTC month."""

    day: TokenQuota = field(default_factory=TokenQuota)
    month: TokenQuota = field(default_factory=TokenQuota)

    @classmethod
    def from_json(cls, data: Json) -> Quotas:
        return cls(
            parse(TokenQuota, data.get("day") or {}), parse(TokenQuota, data.get("month") or {})
        )


@dataclass(frozen=True)
class UsageRow:
    """One model's counters on one UTC day."""

    date: str
    model: str
    requests: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class UsageTotals:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0


@dataclass(frozen=True)
class UsageReport:
    """`GET /me/usage`: the range (inclusive, UTC days), its totals and its rows."""

    start: str
    end: str
    totals: UsageTotals
    days: list[UsageRow]

    @classmethod
    def from_json(cls, data: Json) -> UsageReport:
        days = [parse(UsageRow, row) for row in data.get("days") or []]
        totals = parse(UsageTotals, data.get("totals") or {})
        return cls(_text(data, "from"), _text(data, "to"), totals, days)


@dataclass(frozen=True)
class UserUsage:
    """One user's totals over a range (`GET /usage`, admin)."""

    username: str
    requests: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0


@dataclass(frozen=True)
class AuditEntry:
    """One admin or key action: never a key."""

    time: str
    actor: str
    action: str
    target: str = ""
    details: Json = field(default_factory=dict)
    request_id: str = ""


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int

    @classmethod
    def from_json(cls, data: Json) -> AuditPage:
        entries = [parse(AuditEntry, row) for row in data.get("entries") or []]
        return cls(entries, int(data.get("total") or len(entries)))
