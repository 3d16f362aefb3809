"""schemathesis `--checks all` against a real `chatapp serve` on PostgreSQL finds nothing: every
status, body and event the server answers is the one /openapi.json documents."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ADMIN_KEY
from tests.servers import chatapp_server, create_user

pytestmark = pytest.mark.slow

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 15  # per operation: about half a minute a run on a 2-core machine
RUN_TIMEOUT = 240  # seconds; a run that hangs (on a stream, say) fails instead


@pytest.fixture(scope="module")
def served(postgres_url, _fake_ollama_server, tmp_path_factory) -> str:
    """One server for both runs, on PostgreSQL, the limits off: they would answer 429s that
    hide everything else (they are tested in tests/ratelimit)."""
    if postgres_url is None:
        pytest.skip("PostgreSQL is unavailable (see the warning above)")
    from tests.conftest import _truncate

    _truncate(postgres_url)
    directory = tmp_path_factory.mktemp("schemathesis")
    env = {"DATABASE_URL": postgres_url, "API_KEY": ADMIN_KEY, "RATELIMIT_ENABLED": "false",
           "OLLAMA_HOST": _fake_ollama_server.url, "LEGACY_IMPORT_ON_START": "false"}  # fmt: skip
    with chatapp_server(env, directory, workers=1) as url:
        yield url, env, directory


def run_schemathesis(url: str, key: str, directory: Path) -> subprocess.CompletedProcess:
    command = [
        SCHEMATHESIS, "--config-file", str(CONFIG), "run", f"{url}/openapi.json",
        "--checks", "all", "--header", f"Authorization: Bearer {key}",
        "--max-examples", str(MAX_EXAMPLES), "--request-timeout", "20", "--seed", "1",
        "--generation-database", "none", "--no-color",
    ]  # fmt: skip
    return subprocess.run(
        command, cwd=directory, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    )


def assert_no_failures(result: subprocess.CompletedProcess) -> None:
    # The last line is "No issues found in ..." or, with warnings only, "N warnings in ...".
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr
    assert "failure" not in result.stdout.strip().splitlines()[-1], result.stdout[-20000:]


def test_schemathesis_finds_nothing_as_an_admin(served):
    url, _, directory = served
    assert_no_failures(run_schemathesis(url, ADMIN_KEY, directory))


def test_schemathesis_finds_nothing_as_a_plain_user(served):
    url, env, directory = served
    key = create_user(env, directory, "st.plain_user")
    assert_no_failures(run_schemathesis(url, key, directory))
