"""Starts the real product the way `make run` does (`bot run --demo`), on free ports and temp
files."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Sequence

import requests

from bot.settings import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "baton.tar.gz"
STARTUP_DEADLINE_SECONDS = 240
TEST_JWT_SECRET = "e2e-secret-" + "z" * 40
TEST_RASA_API_TOKEN = "e2e-rasa-api-" + "t" * 20
TEST_ACTION_SERVER_TOKEN = "e2e-action-server-" + "a" * 30


# Every client of a test or a benchmark is 127.0.0.1, so the widget's per-address
# budgets would count a whole suite (or a load of 100 conversations) as one client.
# They are tested on their own (tests/connectors/test_webchat_channel.py).
ONE_ADDRESS_FOR_EVERYBODY = {
    "BATON_LIMIT_WEBCHAT_MESSAGES_PER_ADDRESS": "100000/60",
    "BATON_LIMIT_WEBCHAT_SESSIONS_PER_ADDRESS": "100000/60",
    "BATON_LIMIT_WEBCHAT_TYPING_PER_ADDRESS": "100000/60",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class BatonServer:
    process: subprocess.Popen
    url: str
    actions_url: str
    database_url: str
    tracker_db: Path
    jwt_secret: str
    log_path: Path
    rasa_api_token: str = TEST_RASA_API_TOKEN
    action_server_token: str = TEST_ACTION_SERVER_TOKEN

    def api_headers(self) -> Dict[str, str]:
        """What a client of Rasa's HTTP API sends (the token never goes in the URL)."""
        return {"Authorization": f"Bearer {self.rasa_api_token}"}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_baton_server(
    workdir: Path,
    extra_env: Dict[str, str] | None = None,
    extra_args: Sequence[str] = (),
    *,
    demo: bool = True,
) -> BatonServer:
    """Start `bot run --demo` and wait until both servers answer (or fail with their log).

    Args:
        workdir: where its databases, endpoints.yml and log go.
        extra_env: variables to set (or override) in its environment.
        extra_args: more arguments of `bot run` (e.g. `--host`).
        demo: False starts `bot run` alone, as production does.
    """
    if not MODEL.exists():
        raise RuntimeError(f"no trained model at {MODEL}: run `make train` first")
    port, actions_port = free_port(), free_port()
    tracker_db = workdir / "tracker.db"
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
        # As the project's endpoints.yml: the action server requires the shared token.
        # (unquoted: Rasa expands ${VARIABLE} only in plain YAML scalars).
        "  headers:\n    Authorization: Bearer ${BATON_ACTION_SERVER_TOKEN}\n"
        "tracker_store:\n  type: connectors.tracker_store.TunedSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {tracker_db}\n"
    )
    database_url = f"sqlite:///{workdir / 'baton.db'}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BATON_JWT_SECRET": TEST_JWT_SECRET,
        "BATON_RASA_API_TOKEN": TEST_RASA_API_TOKEN,
        "BATON_ACTION_SERVER_TOKEN": TEST_ACTION_SERVER_TOKEN,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        **(extra_env or {}),
    }
    log_path = workdir / "server.log"
    bot = Path(sys.executable).parent / "bot"
    process = subprocess.Popen(
        [
            str(bot),
            "run",
            *(["--demo"] if demo else []),
            "--port",
            str(port),
            "--actions-port",
            str(actions_port),
            "--endpoints",
            str(endpoints),
            "--model",
            str(MODEL),
            *extra_args,
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
    )
    server = BatonServer(
        process=process,
        url=f"http://127.0.0.1:{port}",
        actions_url=f"http://127.0.0.1:{actions_port}",
        database_url=database_url,
        tracker_db=tracker_db,
        jwt_secret=TEST_JWT_SECRET,
        log_path=log_path,
    )
    deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
    while not (
        _answers(f"{server.url}/webhooks/webchat/") and _answers(f"{server.actions_url}/health")
    ):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"Baton did not start; its log:\n{server.log()[-5000:]}")
        time.sleep(0.5)  # polling for readiness, not timing a behaviour
    return server


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False
