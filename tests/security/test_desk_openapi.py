"""The desk's OpenAPI document against the desk itself: every route the real blueprint
registers is documented (a route added without documentation fails here), every
documented operation exists, and every operation lists the statuses it can answer
with the one shared error schema.
"""

from __future__ import annotations

import re
from typing import Any, Dict, FrozenSet, Iterator, Tuple

import pytest
import schemathesis
from schemathesis.core.result import Err

from bot.desk.openapi import openapi_spec
from tests.security.desk_routes import Route, documented_routes, registered_routes

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
ERROR_REFERENCE = re.compile(r"^#/components/responses/(\d{3})$")


@pytest.fixture(scope="module")
def spec() -> Dict[str, Any]:
    return openapi_spec()


@pytest.fixture(scope="module")
def registered() -> FrozenSet[Route]:
    return registered_routes()


def operations(spec: Dict[str, Any]) -> Iterator[Tuple[str, str, Dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield method, path, item[method]


def test_every_route_the_desk_registers_is_documented(spec, registered):
    undocumented = registered - documented_routes(spec)
    assert not undocumented, (
        "routes of connectors/desk.py missing from bot/desk/openapi.py: "
        + ", ".join(f"{method} {path}" for method, path in sorted(undocumented))
    )


def test_every_documented_operation_is_a_route_of_the_desk(spec, registered):
    stale = documented_routes(spec) - registered
    assert not stale, "documented but not registered by the desk: " + ", ".join(
        f"{method} {path}" for method, path in sorted(stale)
    )


def test_the_document_is_valid_openapi_that_schemathesis_loads(spec):
    loaded = schemathesis.openapi.from_dict(spec)
    loaded.validate()  # against the OpenAPI 3.0 meta-schema; raises on a malformed document
    problems = [
        str(result.err()) for result in loaded.get_all_operations() if isinstance(result, Err)
    ]
    assert not problems
    ids = [operation["operationId"] for _, _, operation in operations(spec)]
    assert len(ids) == len(set(ids)), "operationIds must be unique"


def test_path_parameters_are_exactly_those_of_the_path(spec):
    for method, path, operation in operations(spec):
        in_path = set(re.findall(r"{([^}]+)}", path))
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == in_path, (
            f"{method.upper()} {path}: declares {declared}, path has {in_path}"
        )


def test_every_error_answer_is_the_shared_error_schema(spec):
    shared = spec["components"]["responses"]
    for response in shared.values():
        assert response["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
    assert spec["components"]["schemas"]["Error"]["required"] == ["error"]
    for method, path, operation in operations(spec):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            match = ERROR_REFERENCE.match(response.get("$ref", ""))
            assert match and match.group(1) == status, (
                f"{method.upper()} {path} {status}: use #/components/responses/{status}"
            )


def _documents(operation: Dict[str, Any], *statuses: int) -> bool:
    return all(str(status) in operation["responses"] for status in statuses)


def test_each_operation_documents_what_its_kind_can_answer(spec):
    """Any request: a Content-Length that is not a number (400) or over the limit (413),
    on the API a chunked body (411); signed-in calls: 401 and the request budget's 429;
    writes: the CSRF 403; a body: 422; a conversation: 404."""
    missing = []
    for method, path, operation in operations(spec):
        security = operation.get("security", spec["security"])
        schemes = {name for requirement in security for name in requirement}
        expected = {400, 413}
        if "servers" not in spec["paths"][path]:  # the API, not the console's files
            expected.add(411)
        if "session" in schemes:
            expected |= {401, 429}
        if "csrf" in schemes:
            expected.add(403)
        if "requestBody" in operation:
            expected.add(422)
        if "{conversation_id}" in path:
            expected.add(404)
        successes = [status for status in operation["responses"] if int(status) < 400]
        if len(successes) != 1:
            missing.append(f"{method.upper()} {path}: one success status, not {successes}")
        absent = sorted(status for status in expected if not _documents(operation, status))
        if absent:
            missing.append(f"{method.upper()} {path}: {absent}")
    assert not missing, "; ".join(missing)


def test_sign_in_documents_throttling_and_needs_no_session(spec):
    login = spec["paths"]["/login"]["post"]
    assert login["security"] == []
    assert _documents(login, 200, 400, 401, 411, 413, 415, 422, 429, 503)
    for status in ("429", "503"):
        assert spec["components"]["responses"][status]["headers"]["Retry-After"]["required"] is True
