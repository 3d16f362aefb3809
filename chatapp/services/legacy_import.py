"""The idempotent import of the old app's files into one user's account (SPEC section 9)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from chatapp.db_types import utcnow
from chatapp.extensions import db
from chatapp.models import Chat, LegacyImport, Message, SystemPrompt, User
from chatapp.services import prompts
from chatapp.services.legacy_files import (
    INDEX_FILE,
    LegacyChat,
    LegacyDataError,
    LegacyPrompt,
    is_safe_id,
    item_ids,
    parse_chat,
    parse_prompt,
    read_active_text,
    read_index,
    read_object,
)
from chatapp.services.message_ids import new_ids
from chatapp.services.users import ADMIN_USERNAME, get_user

log = logging.getLogger(__name__)

INVALID_ID = "not a valid id (letters, digits, '_' and '-', at most 64)"
IMPORTED_BEFORE = "imported by an earlier run"
ACTIVE_TEXT_ID = "system_prompt.txt"


@dataclass(frozen=True)
class LegacyPaths:
    chats_dir: Path
    prompts_dir: Path
    prompt_file: Path

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LegacyPaths:
        """The configured paths; relative ones resolve against the working directory."""
        return cls(
            Path(config["CHAT_HISTORY_DIR"]),
            Path(config["SYSTEM_PROMPTS_DIR"]),
            Path(config["SYSTEM_PROMPT_FILE"]),
        )

    def any_exist(self) -> bool:
        return len(self.missing()) < 3

    def missing(self) -> list[Path]:
        present = (self.chats_dir.is_dir(), self.prompts_dir.is_dir(), self.prompt_file.is_file())
        paths = (self.chats_dir, self.prompts_dir, self.prompt_file)
        return [path for path, found in zip(paths, present, strict=True) if not found]


@dataclass(frozen=True)
class Outcome:
    item: str
    reason: str


@dataclass
class ImportReport:
    username: str
    imported: list[str] = field(default_factory=list)
    skipped: list[Outcome] = field(default_factory=list)
    failed: list[Outcome] = field(default_factory=list)

    def skip(self, item: str, reason: str) -> None:
        self.skipped.append(Outcome(item, reason))

    def fail(self, item: str, reason: str) -> None:
        log.warning("legacy import: skipped %s: %s", item, reason)
        self.failed.append(Outcome(item, reason))

    def summary(self, with_failures: bool = True) -> list[str]:
        lines = [
            f"Legacy import into '{self.username}': {len(self.imported)} imported, "
            f"{len(self.skipped)} skipped, {len(self.failed)} failed."
        ]
        if self.imported:
            lines.append("Imported: " + ", ".join(self.imported))
        by_reason: dict[str, list[str]] = {}
        for outcome in self.skipped:
            by_reason.setdefault(outcome.reason, []).append(outcome.item)
        lines += [f"Skipped, {reason}: {', '.join(items)}" for reason, items in by_reason.items()]
        if with_failures:
            lines += [f"Failed: {outcome.item}: {outcome.reason}" for outcome in self.failed]
        return lines


@dataclass
class _Run:
    """One import: its user, its report, and what earlier imports brought in (the ledger)."""

    user: User
    report: ImportReport
    ledger: set[tuple[str, str]]

    @classmethod
    def start(cls, user: User) -> _Run:
        rows = db.session.execute(
            select(LegacyImport.kind, LegacyImport.legacy_id).where(LegacyImport.user_id == user.id)
        )
        return cls(user, ImportReport(user.username), {(kind, item) for kind, item in rows})

    def done_before(self, kind: str, legacy_id: str) -> bool:
        return (kind, legacy_id) in self.ledger

    def record(self, kind: str, legacy_id: str) -> LegacyImport:
        return LegacyImport(user_id=self.user.id, kind=kind, legacy_id=legacy_id)


def import_on_start(config: Mapping[str, Any]) -> ImportReport | None:
    """The start-up import into `admin`, when it is enabled and a legacy path exists."""
    paths = LegacyPaths.from_config(config)
    if not config["LEGACY_IMPORT_ON_START"] or not paths.any_exist():
        return None
    report = import_legacy(get_user(ADMIN_USERNAME), paths)
    for line in report.summary(with_failures=False):  # each failure was logged as a warning
        log.info("%s", line)
    return report


def import_legacy(user: User, paths: LegacyPaths) -> ImportReport:
    """Prompts first, then system_prompt.txt, then chats.

    Each item comes in once: what an earlier run imported, or what the user already has under
    the same id, is left alone.
    """
    run = _Run.start(user)
    if paths.prompts_dir.is_dir():
        import_prompts(run, paths.prompts_dir)
    if paths.prompt_file.is_file():
        import_active_text(run, paths.prompt_file)
    if paths.chats_dir.is_dir():
        import_chats(run, paths.chats_dir)
    return run.report


def import_chats(run: _Run, folder: Path) -> None:
    index = _index(run.report, folder, "chats")
    query = select(Chat.chat_id).where(Chat.user_id == run.user.id)
    existing = set(db.session.scalars(query))
    for chat_id in item_ids(folder, index):
        item = f"chat '{chat_id}'"
        if not is_safe_id(chat_id):
            run.report.fail(f"{item} in {folder}", INVALID_ID)
        elif run.done_before("chat", chat_id):
            run.report.skip(item, IMPORTED_BEFORE)
        elif chat_id in existing:
            run.report.skip(item, "a chat with this id exists")
        else:
            _import_chat(run, folder / f"{chat_id}.json", index.get(chat_id, {}))


def _import_chat(run: _Run, path: Path, entry: Mapping[str, Any]) -> None:
    try:
        chat = parse_chat(path.stem, read_object(path), entry)
    except LegacyDataError as exc:
        run.report.fail(str(path), str(exc))
        return
    ids = new_ids(len(chat.messages))
    row = Chat(
        user_id=run.user.id,
        chat_id=chat.chat_id,
        title=chat.title,
        created_at=chat.created_at,
        updated_at=chat.updated_at,
        current_message_id=ids[-1] if ids else None,  # a deferred key: checked at commit
    )
    rows = [row, run.record("chat", chat.chat_id)]
    _commit_one(run.report, f"chat '{chat.chat_id}'", rows, lambda: _message_rows(row, chat, ids))


def _message_rows(chat_row: Chat, chat: LegacyChat, ids: list[int]) -> list[Message]:
    """One branch, as the migration makes of older chats: each message follows the one before."""
    parents = [None, *ids[:-1]]
    return [
        Message(
            id=message_id,
            parent_id=parent_id,
            chat_pk=chat_row.id,
            role=m.role,
            content=m.content,
            created_at=m.created_at,
        )
        for message_id, parent_id, m in zip(ids, parents, chat.messages, strict=True)
    ]


def import_prompts(run: _Run, folder: Path) -> None:
    index = _index(run.report, folder, "prompts")
    existing = {prompt.slug: prompt for prompt in prompts.list_prompts(run.user)}
    for slug in item_ids(folder, index):
        item = f"prompt '{slug}'"
        current = existing.get(slug)
        if not is_safe_id(slug):
            run.report.fail(f"{item} in {folder}", INVALID_ID)
        elif run.done_before("prompt", slug):
            run.report.skip(item, IMPORTED_BEFORE)
        elif current is not None and not _untouched_builtin(current):
            run.report.skip(item, "a prompt with this id exists")
        else:
            _import_prompt(run, folder / f"{slug}.json", index.get(slug, {}), current)


def _untouched_builtin(prompt: SystemPrompt) -> bool:
    """A built-in copy nobody has edited yet: the user's old version of it may replace it."""
    builtin = prompts.builtin_prompt(prompt.slug)
    return builtin is not None and prompt.content == builtin.content


def _import_prompt(
    run: _Run, path: Path, entry: Mapping[str, Any], current: SystemPrompt | None
) -> None:
    try:
        legacy = parse_prompt(path.stem, read_object(path), entry)
    except LegacyDataError as exc:
        run.report.fail(str(path), str(exc))
        return
    row = current or SystemPrompt(
        user_id=run.user.id, slug=legacy.slug, name=prompts.free_name(run.user, legacy.name)
    )
    _apply_prompt(row, legacy)
    renamed = f" (as '{row.name}')" if row.name != legacy.name else ""
    _commit_one(
        run.report, f"prompt '{legacy.slug}'{renamed}", [row, run.record("prompt", legacy.slug)]
    )


def _apply_prompt(row: SystemPrompt, legacy: LegacyPrompt) -> None:
    row.content = legacy.content
    row.description = legacy.description
    row.created_at = legacy.created_at or row.created_at or utcnow()
    # Set explicitly, so that the column's onupdate doesn't replace the old time with now.
    row.updated_at = legacy.updated_at or legacy.created_at or utcnow()


def import_active_text(run: _Run, path: Path) -> None:
    """system_prompt.txt becomes the active prompt's text, once.

    Only onto the untouched built-in `default`: never over what the user has edited or chosen.
    """
    item = "active prompt text"
    try:
        text = read_active_text(path)
    except LegacyDataError as exc:
        run.report.fail(str(path), str(exc))
        return
    active = run.user.active_prompt
    if run.done_before("active_text", ACTIVE_TEXT_ID):
        run.report.skip(item, IMPORTED_BEFORE)
    elif active is not None and active.content == text:
        run.report.skip(item, "the active prompt already has this text")
    elif active is None or active.slug != prompts.DEFAULT_SLUG or not _untouched_builtin(active):
        run.report.skip(item, "the active prompt was changed in chatapp, so it is kept")
    else:
        active.content = text
        _commit_one(run.report, item, [active, run.record("active_text", ACTIVE_TEXT_ID)])


def _index(report: ImportReport, folder: Path, key: str) -> dict[str, dict[str, Any]]:
    """The folder's index, or {} (the files alone still count) when it is broken."""
    try:
        return read_index(folder, key)
    except LegacyDataError as exc:
        report.fail(str(folder / INDEX_FILE), f"{exc}; importing the files without it")
        return {}


def _commit_one(
    report: ImportReport,
    item: str,
    rows: list[Chat | SystemPrompt | LegacyImport],
    children: Callable[[], list[Message]] | None = None,
) -> None:
    """Write one item and its ledger row in one transaction: all of it, or none of it."""
    try:
        db.session.add_all(rows)
        if children is not None:
            db.session.flush()  # the children need their parent's primary key
            db.session.add_all(children())
        db.session.commit()
    except SQLAlchemyError as exc:  # e.g. a row made meanwhile under the same id
        db.session.rollback()
        report.fail(item, f"the database refused it ({type(exc).__name__})")
    else:
        report.imported.append(item)
