"""`bot run` (what `make run` starts): Ctrl-C stops both servers cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bot.settings import PROJECT_ROOT
from tests.baton_server import MODEL, free_port

pytestmark = pytest.mark.e2e


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


def test_it_prints_the_demo_url_and_ctrl_c_stops_every_process(tmp_path):
    port, actions_port = free_port(), free_port()
    log_path = tmp_path / "run.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "bot"), "run", "--port", str(port),
         "--actions-port", str(actions_port), "--model", str(MODEL)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'baton.db'}",
             "BATON_JWT_SECRET": "run-" + "r" * 40, "RASA_TELEMETRY_ENABLED": "false"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as in a terminal
    )
    try:
        # Ready when it says so: the URLs are printed once the Rasa server answers.
        while "Baton is ready." not in log_path.read_text():
            assert process.poll() is None, log_path.read_text()
            time.sleep(0.2)  # polling for readiness, not timing a behaviour
        output = log_path.read_text()
        assert f"http://localhost:{port}/webhooks/webchat/demo" in output
        assert answers(f"http://127.0.0.1:{port}/webhooks/webchat/demo")
        assert answers(f"http://127.0.0.1:{actions_port}/health")
        servers = children(process.pid)
        assert len(servers) == 3  # the Rasa server, the action server, the clock

        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
        assert process.wait(timeout=60) == 0
        assert not [pid for pid in servers if alive(pid)]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
