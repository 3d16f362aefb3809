"""The prompt library's service: slugs, and the text a new chat snapshots."""

from __future__ import annotations

import pytest

from chatapp.errors import Conflict, PromptNotFound
from chatapp.services import prompts
from chatapp.services.users import get_user


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Code Assistant", "code-assistant"),
        ("  --Hello,   World!--  ", "hello-world"),
        ("Ünïcödé Naïve Café", "unicode-naive-cafe"),
        ("C++ & C#", "c-c"),
        ("snake_case_name", "snake-case-name"),
        ("🦜🐙", "prompt"),
        ("日本語", "prompt"),
        ("'; DROP TABLE system_prompts; --", "drop-table-system-prompts"),
        ("a" * 70, "a" * 64),
        ("a" * 63 + " b", "a" * 63),
    ],
)
def test_slugify(name, slug):
    assert prompts.slugify(name) == slug


@pytest.fixture
def admin_user(app):
    with app.app_context():
        yield get_user("admin")


def test_a_taken_slug_gets_the_first_free_number(admin_user):
    prompts.create_prompt(admin_user, "Writer", "x")
    prompts.create_prompt(admin_user, "Writer!", "x")
    assert prompts.unique_slug(admin_user, "writer") == "writer-3"


def test_a_family_larger_than_one_lookup_batch_still_gets_the_first_free_slug(
    admin_user, monkeypatch
):
    monkeypatch.setattr(prompts, "SLUG_BATCH", 2)
    for name in ("Writer", "Writer!", "Writer!!", "Writer!!!"):
        prompts.create_prompt(admin_user, name, "x")
    assert prompts.unique_slug(admin_user, "writer") == "writer-5"
    prompts.delete_prompt(admin_user, "writer-2")
    assert prompts.unique_slug(admin_user, "writer") == "writer-2"


def test_a_taken_name_is_a_conflict_found_by_the_slug_lookup(admin_user):
    prompts.create_prompt(admin_user, "Writer", "x")
    with pytest.raises(Conflict):
        prompts.create_prompt(admin_user, "Writer", "y")


def test_the_record_create_answers_with_matches_the_stored_row(admin_user):
    created = prompts.create_prompt(admin_user, "Pirate", "Arr.", "a pirate")
    stored = prompts.get_prompt(admin_user, "pirate")
    assert created == prompts.PromptRecord.of(stored)


def test_a_numbered_slug_still_fits_in_64_chars(admin_user):
    long_name = "x" * 64
    prompts.create_prompt(admin_user, long_name, "x")
    assert prompts.unique_slug(admin_user, long_name) == "x" * 62 + "-2"


def test_a_new_chat_snapshots_the_active_prompt(admin_user):
    prompts.activate_prompt(admin_user, "code-assistant")
    expected = prompts.builtin_prompt("code-assistant").content
    assert prompts.system_prompt_for_new_chat(admin_user) == expected


def test_a_new_chat_can_name_its_prompt_by_id_or_name(admin_user):
    prompts.create_prompt(admin_user, "Pirate", "Arr.")
    assert prompts.system_prompt_for_new_chat(admin_user, "pirate") == "Arr."
    assert prompts.system_prompt_for_new_chat(admin_user, "Pirate") == "Arr."


def test_a_new_chat_naming_an_unknown_prompt_raises_prompt_not_found(admin_user):
    with pytest.raises(PromptNotFound):
        prompts.system_prompt_for_new_chat(admin_user, "nope")


def test_with_none_active_a_new_chat_gets_the_builtin_default_text(admin_user):
    prompts.set_active_content(admin_user, "Changed.")
    prompts.delete_prompt(admin_user, "default")
    assert admin_user.active_prompt is None
    assert prompts.system_prompt_for_new_chat(admin_user) == prompts.DEFAULT_PROMPT_TEXT
