"""API_KEY, the bootstrap admin key: any form an old deployment used works; a weak one stops
`chatapp serve` with one line that names it."""

from __future__ import annotations

import os
import subprocess

import pytest

from chatapp.extensions import db
from chatapp.services.users import ensure_admin
from tests.servers import CHATAPP, free_port

OLD_STYLE_KEYS = [
    "my-old-deployment-key-2023",
    "a3f5c9e1b2d4f6a8c0e2b4d6f8a0c2e4",
    "with spaces and : colons!",
    "ünïcode-keys-are-keys-too",
]


@pytest.mark.parametrize("old_key", OLD_STYLE_KEYS)
def test_an_old_deployments_api_key_works_whatever_its_form(app, client, old_key):
    with app.app_context():
        ensure_admin(old_key)
        db.session.remove()
    response = client.get("/me", headers={"Authorization": f"Bearer {old_key}"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["username"] == "admin"


@pytest.mark.parametrize("old_key", OLD_STYLE_KEYS)
def test_an_old_deployments_api_key_is_listed_and_audited_without_any_part_of_it(
    app, client, old_key
):
    with app.app_context():
        ensure_admin(old_key)
        db.session.remove()
    headers = {"Authorization": f"Bearer {old_key}"}
    keys = client.get("/me/keys", headers=headers)
    audit = client.get("/audit", headers=headers)
    assert keys.status_code == audit.status_code == 200
    shown = keys.get_data(as_text=True) + audit.get_data(as_text=True)
    assert "key_" in keys.get_data(as_text=True)  # listed by its digest's start
    assert not any(old_key[i : i + 6] in shown for i in range(len(old_key) - 5)), shown


def test_the_key_is_only_read_from_the_authorization_header(client, admin):
    assert client.get("/me", headers={"X-API-Key": admin.key}).status_code == 401
    assert client.get(f"/me?api_key={admin.key}").status_code == 401


def serve_with(api_key: str, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "API_KEY": api_key, "DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
           "LEGACY_IMPORT_ON_START": "false"}  # fmt: skip
    command = [CHATAPP, "serve", "--port", str(free_port()), "--workers", "1"]
    return subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    "api_key", ["short", "fifteen-chars-x", "your-secure-api-key-here"], ids=["5", "15", "example"]
)
def test_a_weak_api_key_stops_serve_with_one_line_naming_it(tmp_path, api_key):
    result = serve_with(api_key, tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "API_KEY" in lines[0]
    assert api_key not in lines[0] or api_key == "your-secure-api-key-here"  # no secret echoed
