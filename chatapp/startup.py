"""What runs once before serving: migrations, the bootstrap admin and the legacy import."""

from __future__ import annotations

import logging

from flask import Flask

from chatapp.database import startup_lock, upgrade_database
from chatapp.services.legacy_import import import_on_start
from chatapp.services.users import ensure_admin

log = logging.getLogger(__name__)


def prepare(app: Flask) -> str | None:
    """Bring the database up to date; return the new admin's clear key if one was made.

    It runs under the start-up lock: of instances started together, one does the work and the
    others then find it done (one admin, migrations applied once, nothing imported twice).
    """
    with startup_lock(app):
        upgrade_database(app)
        with app.app_context():
            admin_key = ensure_admin(app.config["API_KEY"])
            import_on_start(app.config)
    return admin_key
