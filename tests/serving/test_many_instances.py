"""Many instances started at once on one fresh PostgreSQL (SPEC 13): the start-up lock lets
one migrate and make the admin while the others wait, then find it done."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text

from tests.pgcluster import fresh_database
from tests.servers import chatapp_servers, server_log_path

pytestmark = pytest.mark.slow

INSTANCES = 3
NEW_ADMIN = "Created user 'admin'"


def test_instances_started_together_all_come_up_with_one_admin(postgres_url, tmp_path):
    if postgres_url is None:
        pytest.skip("PostgreSQL is unavailable (see the warning above)")
    database_url = fresh_database(postgres_url, "many_instances")
    env = {"DATABASE_URL": database_url, "LEGACY_IMPORT_ON_START": "false"}
    with chatapp_servers(env, tmp_path, INSTANCES, ["--workers", "1"]) as urls:
        logs = [server_log_path(tmp_path, urlsplit(url).port).read_text() for url in urls]
    assert sum(NEW_ADMIN in log for log in logs) == 1
    engine = create_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        keys = connection.execute(
            text("SELECT count(*) FROM api_keys JOIN users ON users.id = api_keys.user_id")
        ).scalar()
    engine.dispose()
    assert keys == 1
