"""The per-user system-prompt library over HTTP: CRUD, activation, lookup by name, isolation."""

from __future__ import annotations

import pytest

from chatapp.services.prompts import DEFAULT_PROMPT_TEXT


def create(client, user, name, content="Be brief.", **extra):
    body = {"name": name, "content": content, **extra}
    return client.post("/system-prompts", json=body, headers=user.headers)


def library(client, user) -> dict:
    return client.get("/system-prompts", headers=user.headers).get_json()["prompts"]


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["success"] is False
    assert response.get_json()["error"]["code"] == code


def test_a_new_user_starts_with_the_three_builtins_and_default_active(client, make_user):
    bob = make_user("bob")
    prompts = library(client, bob)
    assert list(prompts) == ["default", "code-assistant", "research-assistant"]
    assert [p["name"] for p in prompts.values()] == [
        "Default",
        "Code Assistant",
        "Research Assistant",
    ]
    assert [p["is_active"] for p in prompts.values()] == [True, False, False]
    assert set(prompts["default"]) == {
        "id",
        "name",
        "content",
        "description",
        "is_active",
        "created_at",
        "updated_at",
    }


def test_get_system_prompt_answers_the_active_prompt(client, admin):
    body = client.get("/system-prompt", headers=admin.headers).get_json()
    assert body == {
        "success": True,
        "prompt": DEFAULT_PROMPT_TEXT,
        "prompt_id": "default",
        "name": "Default",
    }


def test_create_answers_200_as_the_old_app_did_with_a_slug_id(client, admin):
    response = create(client, admin, "My Writer", "Write well.", description="prose")
    assert response.status_code == 200
    body = response.get_json()
    assert body["success"] is True and body["message"]
    assert body["prompt_id"] == "my-writer"
    assert body["prompt"]["id"] == "my-writer"
    assert body["prompt"]["name"] == "My Writer"
    assert body["prompt"]["content"] == "Write well."
    assert body["prompt"]["description"] == "prose"
    assert body["prompt"]["is_active"] is False
    assert library(client, admin)["my-writer"]["content"] == "Write well."


def test_the_full_crud_and_activate_cycle(client, admin):
    assert create(client, admin, "Pirate", "Talk like a pirate.").status_code == 200
    got = client.get("/system-prompts/pirate", headers=admin.headers).get_json()
    assert got["prompt_id"] == "pirate" and got["prompt"]["content"] == "Talk like a pirate."

    updated = client.put(
        "/system-prompts/pirate", json={"content": "Arr."}, headers=admin.headers
    ).get_json()
    assert updated["prompt"]["content"] == "Arr." and updated["prompt"]["name"] == "Pirate"

    activated = client.post("/system-prompts/pirate/activate", headers=admin.headers)
    assert activated.status_code == 200 and activated.get_json()["prompt"]["is_active"] is True
    active = client.get("/system-prompt", headers=admin.headers).get_json()
    assert (active["prompt_id"], active["prompt"]) == ("pirate", "Arr.")
    assert [p["id"] for p in library(client, admin).values() if p["is_active"]] == ["pirate"]

    assert client.delete("/system-prompts/pirate", headers=admin.headers).status_code == 200
    assert_error(
        client.get("/system-prompts/pirate", headers=admin.headers), 404, "prompt_not_found"
    )


def test_put_is_partial_and_keeps_the_other_fields(client, admin):
    create(client, admin, "Poet", "Rhyme.", description="verse")
    client.put("/system-prompts/poet", json={"description": ""}, headers=admin.headers)
    prompt = library(client, admin)["poet"]
    assert (prompt["name"], prompt["content"], prompt["description"]) == ("Poet", "Rhyme.", "")


def test_renaming_keeps_the_id(client, admin):
    create(client, admin, "Old Name")
    response = client.put(
        "/system-prompts/old-name", json={"name": "New Name"}, headers=admin.headers
    )
    assert response.get_json()["prompt_id"] == "old-name"
    assert response.get_json()["prompt"]["name"] == "New Name"
    assert library(client, admin)["old-name"]["name"] == "New Name"
    by_new_name = client.get("/system-prompts/New Name", headers=admin.headers)
    assert by_new_name.get_json()["prompt_id"] == "old-name"


def test_a_prompt_can_be_addressed_by_its_exact_name(client, admin):
    create(client, admin, "Tone Checker", "Check the tone.")
    base = "/system-prompts/Tone Checker"
    assert client.get(base, headers=admin.headers).get_json()["prompt_id"] == "tone-checker"
    client.put(base, json={"content": "Tone!"}, headers=admin.headers)
    assert client.post(f"{base}/activate", headers=admin.headers).status_code == 200
    assert client.get("/system-prompt", headers=admin.headers).get_json()["prompt"] == "Tone!"
    assert client.delete(base, headers=admin.headers).status_code == 200
    assert "tone-checker" not in library(client, admin)


def test_name_lookup_is_exact(client, admin):
    create(client, admin, "Tone Checker")
    response = client.get("/system-prompts/tone checker", headers=admin.headers)
    assert_error(response, 404, "prompt_not_found")


def test_a_slug_beats_another_prompts_identical_name(client, admin):
    create(client, admin, "code-assistant", "I am named like a slug.")
    response = client.get("/system-prompts/code-assistant", headers=admin.headers)
    assert response.get_json()["prompt"]["name"] == "Code Assistant"


def test_post_system_prompt_replaces_the_active_prompts_content(client, admin):
    client.post("/system-prompts/code-assistant/activate", headers=admin.headers)
    response = client.post("/system-prompt", json={"prompt": "Only Rust."}, headers=admin.headers)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["prompt_id"], body["prompt"], body["name"]) == (
        "code-assistant",
        "Only Rust.",
        "Code Assistant",
    )
    assert library(client, admin)["code-assistant"]["content"] == "Only Rust."
    assert library(client, admin)["default"]["content"] == DEFAULT_PROMPT_TEXT


def test_deleting_the_active_prompt_leaves_none_active_and_the_builtin_text(client, admin):
    client.delete("/system-prompts/default", headers=admin.headers)
    assert not any(p["is_active"] for p in library(client, admin).values())
    body = client.get("/system-prompt", headers=admin.headers).get_json()
    assert body == {"success": True, "prompt": DEFAULT_PROMPT_TEXT, "prompt_id": None, "name": None}


def test_post_system_prompt_with_none_active_recreates_and_activates_default(client, admin):
    client.delete("/system-prompts/default", headers=admin.headers)
    response = client.post("/system-prompt", json={"prompt": "Fresh."}, headers=admin.headers)
    assert (response.get_json()["prompt_id"], response.get_json()["name"]) == ("default", "Default")
    prompts = library(client, admin)
    assert prompts["default"]["is_active"] is True and prompts["default"]["content"] == "Fresh."


def test_post_system_prompt_with_none_active_reuses_an_existing_default(client, admin):
    client.post("/system-prompts/code-assistant/activate", headers=admin.headers)
    client.delete("/system-prompts/code-assistant", headers=admin.headers)
    client.post("/system-prompt", json={"prompt": "Back to default."}, headers=admin.headers)
    prompts = library(client, admin)
    assert len(prompts) == 2
    assert prompts["default"]["is_active"] and prompts["default"]["content"] == "Back to default."


def test_recreating_default_picks_a_free_name_when_default_is_taken(client, admin):
    client.delete("/system-prompts/default", headers=admin.headers)
    client.put("/system-prompts/code-assistant", json={"name": "Default"}, headers=admin.headers)
    response = client.post("/system-prompt", json={"prompt": "Hi."}, headers=admin.headers)
    assert response.status_code == 200
    assert (response.get_json()["prompt_id"], response.get_json()["name"]) == (
        "default",
        "Default 2",
    )


@pytest.mark.parametrize(
    ("names", "slugs"),
    [
        (["Foo!", "Foo?", "foo"], ["foo", "foo-2", "foo-3"]),
        (["🦜🦜", "🐙"], ["prompt", "prompt-2"]),
        (["  Café Résumé  "], ["cafe-resume"]),
        (["C++ / Rust -- tips"], ["c-rust-tips"]),
        (["default!"], ["default-2"]),
        (["x" * 100, "x" * 99 + "!"], ["x" * 64, "x" * 62 + "-2"]),
    ],
)
def test_slugs_are_ascii_unique_and_at_most_64_chars(client, admin, names, slugs):
    made = [create(client, admin, name).get_json()["prompt_id"] for name in names]
    assert made == slugs


def test_names_are_stored_without_surrounding_whitespace(client, admin):
    body = create(client, admin, "  Spaced  ").get_json()
    assert body["prompt"]["name"] == "Spaced"


def test_a_duplicate_name_is_409(client, admin):
    create(client, admin, "Twin")
    assert_error(create(client, admin, "Twin", "Other."), 409, "conflict")
    assert_error(create(client, admin, "Code Assistant"), 409, "conflict")
    assert len(library(client, admin)) == 4


def test_renaming_onto_an_existing_name_is_409(client, admin):
    create(client, admin, "Mine")
    response = client.put("/system-prompts/mine", json={"name": "Default"}, headers=admin.headers)
    assert_error(response, 409, "conflict")
    assert library(client, admin)["mine"]["name"] == "Mine"


def test_renaming_to_its_own_name_is_fine(client, admin):
    response = client.put(
        "/system-prompts/default", json={"name": "Default"}, headers=admin.headers
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"content": "x"},
        {"name": "x"},
        {"name": "", "content": "x"},
        {"name": "   ", "content": "x"},
        {"name": "x", "content": ""},
        {"name": "x", "content": " \n\t "},
        {"name": "n" * 101, "content": "x"},
        {"name": "x", "content": "c" * 20_001},
        {"name": "x", "content": "y", "description": "d" * 501},
        {"name": 5, "content": "x"},
        {"name": ["x"], "content": "x"},
        {"name": "x", "content": None},
        {"name": "x", "content": "y", "description": None},
        {"name": "x", "content": "y", "extra": 1},
        {"name": "x\u0000", "content": "y"},
        {"name": "x", "content": "y\u0000"},
    ],
)
def test_invalid_prompts_are_422_and_create_nothing(client, admin, body):
    response = client.post("/system-prompts", json=body, headers=admin.headers)
    assert_error(response, 422, "validation_error")
    assert response.get_json()["error"]["details"]
    assert len(library(client, admin)) == 3


def test_values_at_the_limits_are_accepted(client, admin):
    response = create(client, admin, "n" * 100, "c" * 20_000, description="d" * 500)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": None},
        {"content": None},
        {"description": None},
        {"name": " "},
        {"content": "   "},
        {"name": "n" * 101},
        {"content": "c" * 20_001},
        {"description": "d" * 501},
        {"id": "other"},
    ],
)
def test_invalid_updates_are_422_and_change_nothing(client, admin, body):
    response = client.put("/system-prompts/default", json=body, headers=admin.headers)
    assert_error(response, 422, "validation_error")
    assert library(client, admin)["default"]["content"] == DEFAULT_PROMPT_TEXT


@pytest.mark.parametrize("body", [{}, {"prompt": ""}, {"prompt": "  "}, {"prompt": 1}])
def test_invalid_active_prompt_bodies_are_422(client, admin, body):
    response = client.post("/system-prompt", json=body, headers=admin.headers)
    assert_error(response, 422, "validation_error")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/system-prompts/nope"),
        ("put", "/system-prompts/nope"),
        ("delete", "/system-prompts/nope"),
        ("post", "/system-prompts/nope/activate"),
        ("get", "/system-prompts/x' OR '1'='1"),
        ("get", "/system-prompts/%E2%80%AE%F0%9F%A6%9C"),
    ],
)
def test_unknown_prompts_are_404(client, admin, method, path):
    kwargs = {"json": {"content": "x"}} if method == "put" else {}
    response = getattr(client, method)(path, headers=admin.headers, **kwargs)
    assert_error(response, 404, "prompt_not_found")


def test_a_path_traversal_id_matches_no_route(client, admin):
    response = client.get("/system-prompts/..%2F..%2Fetc%2Fpasswd", headers=admin.headers)
    assert_error(response, 404, "not_found")


def test_users_never_see_each_others_prompts(client, admin, make_user):
    bob = make_user("bob")
    create(client, admin, "Admin Secret", "classified")
    assert "admin-secret" not in library(client, bob)
    for method, path in (
        ("get", "/system-prompts/admin-secret"),
        ("get", "/system-prompts/Admin Secret"),
        ("delete", "/system-prompts/admin-secret"),
        ("post", "/system-prompts/admin-secret/activate"),
    ):
        assert_error(getattr(client, method)(path, headers=bob.headers), 404, "prompt_not_found")
    response = client.put(
        "/system-prompts/admin-secret", json={"content": "mine now"}, headers=bob.headers
    )
    assert_error(response, 404, "prompt_not_found")
    assert library(client, admin)["admin-secret"]["content"] == "classified"


def test_each_user_has_their_own_active_prompt_and_names(client, admin, make_user):
    bob = make_user("bob")
    client.post("/system-prompts/code-assistant/activate", headers=bob.headers)
    client.post("/system-prompt", json={"prompt": "Bob's rules."}, headers=bob.headers)
    assert create(client, bob, "Admin Secret").status_code == 200
    assert create(client, admin, "Admin Secret").status_code == 200
    assert client.get("/system-prompt", headers=admin.headers).get_json()["prompt_id"] == "default"
    assert library(client, admin)["code-assistant"]["content"] != "Bob's rules."


def test_listing_costs_the_same_queries_for_3_or_20_prompts(client, admin, count_queries):
    client.get("/system-prompts", headers=admin.headers)
    with count_queries() as few:
        client.get("/system-prompts", headers=admin.headers)
    for index in range(17):
        create(client, admin, f"P{index}")
    client.get("/system-prompts", headers=admin.headers)
    with count_queries() as many:
        client.get("/system-prompts", headers=admin.headers)
    assert many.count == few.count
