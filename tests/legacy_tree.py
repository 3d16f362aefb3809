"""Write a tree in the old app's file formats: chats/, system_prompts/ and system_prompt.txt."""

from __future__ import annotations

import json
from pathlib import Path

from chatapp.services.legacy_import import LegacyPaths

ACTIVE_TEXT = "You are a haiku poet. Answer in haiku."
OUTSIDE_TEXT = "I live outside the chats folder."
HAIKU_CONTENT = "Reply only in haiku, 5-7-5."
OLD_CODE_CONTENT = (
    "You are a helpful code assistant. You help users write, debug, and understand code."
)

# What the old app wrote: naive local ISO times, an index without titles, and a system message
# without a timestamp at the top of each chat.
CHATS = {
    "chat-one": {
        "created_at": "2024-03-01T09:15:00.123456",
        "messages": [
            {"role": "system", "content": "You are a helpful AI assistant."},
            {
                "role": "user",
                "content": "Hello there, old friend",
                "timestamp": "2024-03-01T09:19:00",
            },
            {
                "role": "assistant",
                "content": "Hi! How can I help?",
                "timestamp": "2024-03-01T09:20:00",
            },
        ],
        "last_updated": "2024-03-01T09:20:00",
    },
    "trip_2023": {
        "created_at": "2023-07-10T18:00:00+02:00",
        "messages": [
            {"role": "system", "content": "You are a helpful AI assistant."},
            {"role": "user", "content": "Plan a trip", "timestamp": "2023-07-10T18:01:00+02:00"},
            {"role": "assistant", "content": "Where to?", "timestamp": "2023-07-10T18:02:00+02:00"},
        ],
        "last_updated": "2023-07-10T18:02:00+02:00",
    },
    "weird-role": {
        "created_at": "2024-01-01T00:00:00",
        "messages": [
            {"role": "system", "content": "sys"},
            {"role": "user", "content": "call a tool", "timestamp": "2024-01-01T00:00:01"},
            {"role": "tool", "content": "{}", "timestamp": "2024-01-01T00:00:02"},
        ],
        "last_updated": "2024-01-01T00:00:02",
    },
}
ORPHAN = {  # a chat file the index forgot
    "created_at": "2022-12-24T20:00:00",
    "messages": [
        {"role": "user", "content": "Merry Christmas", "timestamp": "2022-12-24T20:00:00"}
    ],
    "last_updated": "2022-12-24T20:00:00",
}
CHAT_INDEX = {
    "chat-one": {
        "created_at": "2024-03-01T09:15:00.123456",
        "last_updated": "2024-03-01T09:20:00",
        "message_count": 2,
    },
    "trip_2023": {
        "created_at": "2023-07-10T18:00:00+02:00",
        "last_updated": "2023-07-10T18:02:00+02:00",
        "message_count": 2,
        "title": "Summer trip",
    },
    "weird-role": {
        "created_at": "2024-01-01T00:00:00",
        "last_updated": "2024-01-01T00:00:02",
        "message_count": 2,
    },
    "broken": {
        "created_at": "2024-02-02T00:00:00",
        "last_updated": "2024-02-02T00:00:00",
        "message_count": 4,
    },
    "ghost": {
        "created_at": "2024-02-03T00:00:00",
        "last_updated": "2024-02-03T00:00:00",
        "message_count": 2,
    },
    "../outside": {
        "created_at": "2024-02-04T00:00:00",
        "last_updated": "2024-02-04T00:00:00",
        "message_count": 1,
    },
}

PROMPTS = {
    "basic": {
        "name": "Basic Assistant",
        "description": "A helpful, general-purpose AI assistant",
        "created_at": "2023-11-05T10:00:00",
        "content": "You are a helpful AI assistant.",
    },
    "code-assistant": {
        "name": "Code Assistant",
        "description": "Specialized for programming help and code explanations",
        "created_at": "2023-11-05T10:00:00",
        "content": OLD_CODE_CONTENT,
    },
    "prompt-1a2b3c4d": {
        "name": "Haiku Poet",
        "description": "",
        "content": HAIKU_CONTENT,
        "created_at": "2024-01-15T08:30:00",
        "updated_at": "2024-02-01T12:00:00",
    },
    "prompt-dup00001": {
        "name": "Default",
        "description": "named like a built-in",
        "content": "Shadowing the default's name.",
        "created_at": "2024-01-16T08:30:00",
        "updated_at": "2024-01-16T08:30:00",
    },
}


def _index_entry(prompt_id: str, prompt: dict) -> dict:
    entry = {"id": prompt_id, "name": prompt["name"], "description": prompt["description"]}
    return {**entry, "created_at": prompt["created_at"], "updated_at": prompt.get("updated_at")}


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def write_legacy_tree(root: Path) -> LegacyPaths:
    """The fixture tree under `root`, including a corrupt chat file, a chat listed in the index
    without a file, a message with an unknown role, a traversal id and a file the index forgot."""
    chats, prompts = root / "chats", root / "system_prompts"
    chats.mkdir(parents=True)
    prompts.mkdir()
    write_json(chats / "index.json", {"chats": CHAT_INDEX})
    for chat_id, chat in CHATS.items():
        write_json(chats / f"{chat_id}.json", chat)
    write_json(chats / "orphan.json", ORPHAN)
    (chats / "broken.json").write_text(
        '{"created_at": "2024-02-02T00:00:00", "messages": [', "utf-8"
    )
    escaped = {**ORPHAN, "messages": [{**ORPHAN["messages"][0], "content": OUTSIDE_TEXT}]}
    write_json(root / "outside.json", escaped)  # what "../outside" would reach
    index = {prompt_id: _index_entry(prompt_id, p) for prompt_id, p in PROMPTS.items()}
    write_json(prompts / "index.json", {"prompts": index})
    for prompt_id, prompt in PROMPTS.items():
        write_json(prompts / f"{prompt_id}.json", prompt)
    (root / "system_prompt.txt").write_text(ACTIVE_TEXT + "\n", "utf-8")
    return LegacyPaths(chats, prompts, root / "system_prompt.txt")
