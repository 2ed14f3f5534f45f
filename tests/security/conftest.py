"""The security tests' own `bot run`: they spend budgets, block addresses and fuzz the desk.

One server for the attack tests and the fuzz (a start costs the model's load), never the
shared e2e one. It trusts 127.0.0.1 as its TLS proxy (BATON_TRUSTED_PROXIES), so each
attack plays clients of its own through X-Forwarded-For, as a proxy reports them; a
request without that header comes from the proxy itself, 127.0.0.1, which is where the
fuzzer's requests come from. The attacks therefore never sign in, hand off or get
blocked as 127.0.0.1, and the fuzzer's failed sign-ins and blocks cannot reach them.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.baton_server import BatonServer, start_baton_server

# The fuzzer's admin, created by `bot run` at its first start.
FUZZ_ADMIN_EMAIL = "fuzz.admin@example.com"
FUZZ_ADMIN_PASSWORD = "fuzzing the desk " + "x" * 16


@pytest.fixture(scope="session")
def isolated_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BatonServer]:
    server = start_baton_server(
        tmp_path_factory.mktemp("security"),
        extra_env={
            "BATON_TRUSTED_PROXIES": "127.0.0.1",
            "BATON_ADMIN_EMAIL": FUZZ_ADMIN_EMAIL,
            "BATON_ADMIN_PASSWORD": FUZZ_ADMIN_PASSWORD,
            # The fuzzer's own burst would be answered 429 throughout and test nothing else.
            "BATON_LIMIT_DESK_REQUESTS_PER_AGENT": "1000000/60",
        },
    )
    yield server
    server.stop()
