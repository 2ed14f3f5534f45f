"""The fake desk's answers, checked against the real desk's OpenAPI document.

tests/browser/fake_desk_server.py is a second implementation of the desk API for the
console's browser tests; nothing else would notice it drifting from the real one
(bot/desk/openapi.py's `openapi_spec()`, which tests/security checks against the real
routes and fuzzes). Every answer the fake gives on /desk/api is recorded, and here
each one must be an operation of the document, with a status it lists and a body
its schema accepts.

The document does not say which properties are always sent; the real views
(bot/desk/views.py, bot/calls/records.py) send every one they describe, nulls
included. So the check is stricter than the document: a property the document
describes is required, except the few the real desk sends only sometimes
(`SOMETIMES_SENT`). A fake that left out `customer.tier` showed its guests with the
context's tier instead of none.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Tuple

from jsonschema import Draft7Validator, FormatChecker, RefResolver

from bot.desk.openapi import API_SERVER, openapi_spec

# Properties the real desk sends only in some answers: a message's call notice (system
# lines of a call only), an error's machine-readable code, and the call notice itself.
SOMETIMES_SENT: Dict[str, Tuple[str, ...]] = {
    "Message": ("call",),
    "Error": ("code",),
    "CallNotice": ("*",),
    "MetricsReport": ("references",),
}
_JSON = "application/json"


@dataclass(frozen=True)
class Exchange:
    """One answer of the fake desk's API: what was asked and what came back."""

    method: str
    path: str  # under /desk/api, e.g. /conversations/c-1/accept
    status: int
    content_type: str
    body: str


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return parsed.tzinfo is not None  # the desk's moments are all UTC, with their offset


_FORMATS = FormatChecker(formats=())
_FORMATS.checks("date-time")(_date_time)


def _json_schema(node: Any, strict: bool, sometimes: Tuple[str, ...] = ()) -> Any:
    """OpenAPI 3.0 → JSON Schema: `nullable` becomes "or null"; `strict` requires every property."""
    if isinstance(node, list):
        return [_json_schema(item, strict) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value, strict) for key, value in node.items()}
    if strict and "properties" in converted and "*" not in sometimes:
        converted["required"] = sorted(set(converted["properties"]) - set(sometimes))
    if converted.pop("nullable", False):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def _documents(strict: bool) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    spec = openapi_spec()
    schemas = {
        name: _json_schema(schema, strict, SOMETIMES_SENT.get(name, ()))
        for name, schema in spec["components"]["schemas"].items()
    }
    return spec, {"components": {"schemas": schemas}}


def _operations(spec: Dict[str, Any]) -> List[Tuple[str, re.Pattern[str], str, Dict[str, Any]]]:
    """(method, path pattern, documented path, operation) of every JSON API operation."""
    operations = []
    for path, item in spec["paths"].items():
        if "servers" in item:  # the console's page and files, not under /desk/api
            continue
        pattern = re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(path)) + "$")
        for method, operation in item.items():
            operations.append((method, pattern, path, operation))
    return operations


def problems(exchanges: Iterable[Exchange], *, strict: bool = True) -> List[str]:
    """What in `exchanges` the document does not allow; empty when all is as documented."""
    spec, root = _documents(strict)
    resolver = RefResolver.from_schema(root)
    operations = _operations(spec)
    found: List[str] = []
    for exchange in exchanges:
        where = f"{exchange.method} {API_SERVER}{exchange.path} → {exchange.status}"
        matches = [
            (path, operation)
            for method, pattern, path, operation in operations
            if method == exchange.method.lower() and pattern.match(exchange.path)
        ]
        if not matches:
            found.append(f"{where}: no such operation in the desk's OpenAPI document")
            continue
        # The most literal path wins: /agents before /{id}-style templates.
        path, operation = min(matches, key=lambda match: match[0].count("{"))
        answer = operation["responses"].get(str(exchange.status))
        if answer is None:
            listed = ", ".join(operation["responses"])
            found.append(f"{where}: {path} answers only {listed}")
            continue
        if "$ref" in answer:
            answer = spec["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
        content = answer.get("content")
        if content is None:
            if exchange.body:
                found.append(f"{where}: a body where the document has none: {exchange.body[:200]}")
            continue
        if _JSON not in content:
            continue  # a CSV or a file: the document gives no schema to check
        if not exchange.content_type.startswith(_JSON):
            found.append(f"{where}: Content-Type {exchange.content_type!r}, not JSON")
            continue
        try:
            body = json.loads(exchange.body)
        except ValueError:
            found.append(f"{where}: the body is not JSON: {exchange.body[:200]}")
            continue
        schema = _json_schema(content[_JSON]["schema"], strict)
        validator = Draft7Validator(schema, resolver=resolver, format_checker=_FORMATS)
        for error in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path)):
            at = "/".join(str(part) for part in error.absolute_path) or "the body"
            found.append(f"{where}: {at}: {error.message}")
    return found
