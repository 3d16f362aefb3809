"""The migrations are the source of truth: models, sql/01_schema.sql and both databases agree."""

from __future__ import annotations

import subprocess
from datetime import UTC
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from chatapp.extensions import db
from chatapp.models import User

ROOT = Path(__file__).resolve().parent.parent


def test_schema_sql_matches_the_migrations():
    committed = (ROOT / "sql" / "01_schema.sql").read_text()
    scratch = ROOT / "sql" / "01_schema.sql.check"
    try:
        subprocess.run(
            ["bash", "scripts/generate_schema_sql.sh"],
            cwd=ROOT,
            check=True,
            env={
                "PATH": "/usr/bin:/bin",
                "CHATAPP": str(ROOT / ".venv" / "bin" / "chatapp"),
                "SCHEMA_OUT": str(scratch),
            },
        )
        generated = scratch.read_text()
    finally:
        scratch.unlink(missing_ok=True)
    assert generated == committed, "sql/01_schema.sql is stale: run `make schema`"


def test_models_match_the_migrated_database(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_timestamps_come_back_timezone_aware(app):
    with app.app_context():
        admin = db.session.query(User).filter_by(username="admin").one()
        db.session.expire_all()
        admin = db.session.get(User, admin.id)
        assert admin.created_at.tzinfo is not None
        assert admin.created_at.utcoffset() == UTC.utcoffset(None)
