"""Property-based fuzz of the desk API from its own OpenAPI document (schemathesis).

The security tests' own desk (`bot run` on a temp database, tests/security/conftest.py:
the fuzz accepts, transfers and resolves conversations and adds agents, so never the
shared `baton_server`), with an
admin signed in, the session cookie and the CSRF header on every request, and a few
conversations handed off by guests through the widget so the conversation routes
reach real handoffs and not only 404s. Each operation the desk registers gets
`EXAMPLES_PER_OPERATION` generated requests, valid and invalid ones; every answer
must be no server error, a status the document lists, and a body and headers that
match the document.

Not fuzzed: sign-out (it would end the fuzzer's own session), the console's page and
files (not JSON calls; tests/e2e covers them) and the live socket, whose one HTTP
answer, to a request that is not a WebSocket handshake, is checked on its own. The desk's
per-agent request budget is raised for this server, or the fuzzer's own burst would
be answered 429 throughout and test nothing else.

`BATON_FUZZ_EXAMPLES=200` fuzzes harder; `BATON_FUZZ_RANDOM=1` draws new examples on
each run instead of the same derandomized ones.
"""

from __future__ import annotations

import asyncio
import functools
import os
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, Iterator, List

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.desk.openapi import API_SERVER, TAG_API
from tests.baton_server import BatonServer
from tests.e2e.widget_client import WidgetClient
from tests.security.conftest import FUZZ_ADMIN_EMAIL, FUZZ_ADMIN_PASSWORD
from tests.security.desk_routes import Route, registered_routes

pytestmark = pytest.mark.e2e

EXAMPLES_PER_OPERATION = int(os.environ.get("BATON_FUZZ_EXAMPLES", "50"))
DERANDOMIZED = not os.environ.get("BATON_FUZZ_RANDOM")
HANDED_OFF_CONVERSATIONS = 3
REQUEST_TIMEOUT_SECONDS = 60
# Ends the fuzzer's own session; everything after it would be a 401.
NOT_FUZZED_OPERATIONS = ("post_logout",)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass(frozen=True)
class FuzzedDesk:
    """The fuzzer's desk: its server, the admin's signed-in HTTP session, the handoffs."""

    server: BatonServer
    http: requests.Session
    csrf_token: str
    conversation_ids: List[str]

    @property
    def api_url(self) -> str:
        return self.server.url + API_SERVER


async def _hand_off_guests(url: str, count: int) -> List[str]:
    """`count` guests who ask for a person; their conversations wait in the queue."""
    conversation_ids = []
    for _ in range(count):
        async with WidgetClient(url) as customer:
            reply = await customer.say("I want to talk to a human")
            assert "CS-" in reply["text"], reply
            assert customer.session_id is not None
            conversation_ids.append(customer.session_id)
    return conversation_ids


@pytest.fixture(scope="module")
def fuzzed_desk(isolated_server: BatonServer) -> Iterator[FuzzedDesk]:
    """The security tests' own `bot run` (tests/security/conftest.py), its admin signed in."""
    conversation_ids = asyncio.run(_hand_off_guests(isolated_server.url, HANDED_OFF_CONVERSATIONS))
    http = requests.Session()
    login = http.post(
        f"{isolated_server.url}{API_SERVER}/login",
        json={"email": FUZZ_ADMIN_EMAIL, "password": FUZZ_ADMIN_PASSWORD},
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    assert login.status_code == 200, login.text
    yield FuzzedDesk(isolated_server, http, login.json()["csrf_token"], conversation_ids)


@functools.cache
def _registered() -> FrozenSet[Route]:
    return registered_routes()


def fuzzed_operation(context: Any) -> bool:
    """A JSON API operation (not the console's files, not the socket) the desk registers."""
    operation = context.operation
    return (
        TAG_API in (operation.tags or [])
        and (
            operation.method.upper(),
            API_SERVER + operation.path,
        )
        in _registered()
    )


@pytest.fixture(scope="module")
def desk_schema(fuzzed_desk: FuzzedDesk) -> Any:
    """The document the fuzzer's desk serves (narrowed below, on the lazy schema)."""
    schema = schemathesis.openapi.from_url(f"{fuzzed_desk.api_url}/openapi.json")
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        # The cookie and the CSRF header are the admin's real ones, not generated.
        with_security_parameters=False,
    )
    conversation_ids = list(fuzzed_desk.conversation_ids)

    @schema.hook("flatmap_path_parameters")
    def real_conversations(_: Any, path_parameters: Dict[str, Any] | None) -> Any:
        # Mostly a handed-off conversation, sometimes the generated id (a 404).
        if not path_parameters or "conversation_id" not in path_parameters:
            return st.just(path_parameters)
        generated = path_parameters["conversation_id"]
        return st.sampled_from([*conversation_ids, generated]).map(
            lambda conversation_id: {**path_parameters, "conversation_id": conversation_id}
        )

    return schema


# Filters belong to the lazy schema: it applies its own to the fixture's.
schema = (
    schemathesis.pytest.from_fixture("desk_schema")
    .include(fuzzed_operation)
    .exclude(operation_id=list(NOT_FUZZED_OPERATIONS))
)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=DERANDOMIZED,
    database=None,
    # No timing in the verdict: a slow answer on a shared machine is not a failure.
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_desk_answers_every_request_as_its_document_says(
    case: Case, fuzzed_desk: FuzzedDesk
) -> None:
    case.call_and_validate(
        base_url=fuzzed_desk.api_url,
        session=fuzzed_desk.http,
        headers={"X-CSRF-Token": fuzzed_desk.csrf_token},
        checks=CHECKS,
        timeout=REQUEST_TIMEOUT_SECONDS,
    )


def test_a_plain_request_to_the_live_socket_is_refused_as_documented(
    fuzzed_desk: FuzzedDesk,
) -> None:
    """Not a WebSocket handshake: a documented refusal in the shared error schema, never a 500."""
    documented = fuzzed_desk.http.get(
        f"{fuzzed_desk.api_url}/openapi.json", timeout=REQUEST_TIMEOUT_SECONDS
    ).json()
    responses = documented["paths"]["/live"]["get"]["responses"]
    answer = fuzzed_desk.http.get(f"{fuzzed_desk.api_url}/live", timeout=REQUEST_TIMEOUT_SECONDS)
    assert answer.status_code < 500, answer.text[:200]
    assert str(answer.status_code) in responses
    assert isinstance(answer.json()["error"], str)
