"""`python -m desktop` starts, runs local mode, and stops its server cleanly on SIGINT;
`chatapp-desktop --help` and `--version` print and exit without a GUI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from desktop import __version__

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "chatapp-desktop"  # the console script pip installed


@pytest.mark.parametrize(
    ("option", "expected"),
    [("--version", f"chatapp-desktop {__version__}"), ("--help", "usage: chatapp-desktop")],
)
def test_help_and_version_print_and_exit_without_a_gui(option: str, expected: str) -> None:
    no_display = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    # With no display, a Qt GUI would abort: only an exit before Qt starts can pass.
    env = {**no_display, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(ROOT)}
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "desktop"]
    result = subprocess.run(
        [*command, option], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout


def _wait_for_line(path: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60  # a generous limit on a hang, not a performance check
    while not (path.exists() and text in path.read_text(encoding="utf-8")):
        assert process.poll() is None, "the app exited early; see its output.txt"
        assert time.monotonic() < deadline, f"{text!r} never appeared in {path}"
        time.sleep(0.05)


def test_the_app_runs_local_mode_and_stops_it_on_ctrl_c(tmp_path: Path, fake_ollama) -> None:  # noqa: ANN001
    config, data = tmp_path / "config", tmp_path / "data"
    saved = QSettings(str(config / "chatapp" / "chatapp-desktop.conf"), QSettings.Format.IniFormat)
    saved.setValue("connection/mode", "local")
    saved.sync()
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(config),  # where QSettings() and the data directory resolve
        "XDG_DATA_HOME": str(data),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",  # never the real keyring
        "OLLAMA_HOST": fake_ollama.url,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(ROOT),
    }
    log = data / "chatapp" / "chatapp-desktop" / "desktop.log"
    with (
        open(tmp_path / "output.txt", "w") as output,
        subprocess.Popen(
            [sys.executable, "-m", "desktop"], env=env, cwd=tmp_path, stdout=output, stderr=output
        ) as process,
    ):
        try:
            _wait_for_line(log, "Local server on http://127.0.0.1:", process)
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=60) == 0
        finally:
            if process.poll() is None:
                process.kill()
    assert "Local server stopped" in log.read_text(encoding="utf-8")
    assert (data / "chatapp" / "chatapp-desktop" / "chatapp.db").exists()
