"""`AccountService` over a company's REST API (contract: docs/account-api.md).

Every failure to get a usable answer (connection refused, timeout, 5xx, an
unexpected status, malformed JSON) becomes `AccountServiceError`, whose
message names the endpoint but never the token.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Dict, List, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import requests

from bot.accounts.interface import (
    AccountServiceError,
    Customer,
    DataUsage,
    Invoice,
    Order,
    Plan,
)

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 5.0
# Customer ids that cannot be one URL path segment.
_UNADDRESSABLE_IDS = frozenset({"", ".", ".."})
_T = TypeVar("_T")


class MalformedReply(ValueError):
    """A reply's JSON does not have the documented shape."""


class HttpAccountService:
    """`AccountService` over HTTP: one request per call, JSON in and out.

    Args:
        base_url: The API root, e.g. `https://accounts.example.com/v1`.
        token: Sent as `Authorization: Bearer <token>` when given.
        timeout: Seconds to wait for a connection and for each read.
        session: A `requests.Session` to reuse (connection pooling, proxies);
            a new one by default. Its headers are never modified.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        session: requests.Session | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._session = session if session is not None else requests.Session()
        # Credentials in the URL itself must not reach error messages either.
        self._display_url = _without_userinfo(self._base_url)

    def __repr__(self) -> str:
        return f"HttpAccountService({self._display_url!r})"

    def customer(self, customer_id: str) -> Customer | None:
        """`GET /customers/{id}`; None on 404."""
        data = self._request("GET", customer_id, "")
        return None if data is None else self._parse("GET /customers/{id}", data, _customer)

    def orders(self, customer_id: str) -> List[Order]:
        """`GET /customers/{id}/orders`, newest first; [] on 404."""
        data = self._request("GET", customer_id, "/orders")
        if data is None:
            return []
        orders = self._parse("GET /customers/{id}/orders", data, _list_of(_order))
        # Sorted here too: the protocol promises newest first whatever the API does.
        return sorted(orders, key=lambda order: order.placed_on, reverse=True)

    def invoices(self, customer_id: str) -> List[Invoice]:
        """`GET /customers/{id}/invoices`, newest first; [] on 404."""
        data = self._request("GET", customer_id, "/invoices")
        if data is None:
            return []
        invoices = self._parse("GET /customers/{id}/invoices", data, _list_of(_invoice))
        return sorted(invoices, key=lambda invoice: invoice.issued_on, reverse=True)

    def plan(self, customer_id: str) -> Plan | None:
        """`GET /customers/{id}/plan`; None on 404 or a `null` body."""
        data = self._request("GET", customer_id, "/plan")
        return None if data is None else self._parse("GET /customers/{id}/plan", data, _plan)

    def data_usage(self, customer_id: str) -> DataUsage | None:
        """`GET /customers/{id}/data-usage`; None on 404 or a `null` body."""
        data = self._request("GET", customer_id, "/data-usage")
        if data is None:
            return None
        return self._parse("GET /customers/{id}/data-usage", data, _data_usage)

    def send_password_reset(self, customer_id: str) -> str:
        """`POST /customers/{id}/password-reset`; the email it went to.

        Raises:
            AccountServiceError: Also when the customer is unknown (404).
        """
        return self._send(customer_id, "/password-reset")

    def send_contact_change_link(self, customer_id: str) -> str:
        """`POST /customers/{id}/contact-change-link`; the email it went to.

        Raises:
            AccountServiceError: Also when the customer is unknown (404).
        """
        return self._send(customer_id, "/contact-change-link")

    def _send(self, customer_id: str, suffix: str) -> str:
        endpoint = f"POST /customers/{{id}}{suffix}"
        data = self._request("POST", customer_id, suffix)
        if data is None:
            raise self._error(endpoint, "unknown customer (404)")
        return self._parse(endpoint, data, lambda body: _str(_object(body), "email"))

    def _request(self, method: str, customer_id: str, suffix: str) -> Any:
        """The decoded JSON body, or None on 404 or a `null` body."""
        endpoint = f"{method} /customers/{{id}}{suffix}"
        if customer_id in _UNADDRESSABLE_IDS:
            # No path can name them ("%2E%2E" is sent as ".." by requests, and
            # servers resolve it to the parent): no such customer, like a 404.
            return None
        url = f"{self._base_url}/customers/{quote(customer_id, safe='')}{suffix}"
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            response = self._session.request(
                method,
                url,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise self._error(endpoint, f"no answer within {self._timeout:g} s") from exc
        except requests.RequestException as exc:
            # The exception's own text repeats the URL; the class name is enough.
            raise self._error(endpoint, f"unreachable ({type(exc).__name__})") from exc
        with response:
            if response.status_code == 404:
                return None
            if response.status_code in (401, 403):
                raise self._error(
                    endpoint,
                    f"refused with {response.status_code}: check BATON_ACCOUNT_API_TOKEN",
                )
            if response.status_code >= 500:
                raise self._error(endpoint, f"server error {response.status_code}")
            if response.status_code != 200:
                raise self._error(endpoint, f"unexpected status {response.status_code}")
            try:
                return response.json()
            except ValueError as exc:
                raise self._error(endpoint, "reply is not valid JSON") from exc

    def _parse(self, endpoint: str, data: Any, parse: Callable[[Any], _T]) -> _T:
        try:
            return parse(data)
        except MalformedReply as exc:
            raise self._error(endpoint, f"malformed reply: {exc}") from exc

    def _error(self, endpoint: str, problem: str) -> AccountServiceError:
        logger.warning("accounts.http.failed endpoint=%r problem=%r", endpoint, problem)
        return AccountServiceError(f"account API at {self._display_url}: {endpoint}: {problem}")


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


# --- Wire format → dataclasses ------------------------------------------------
# Small strict readers: a missing or mistyped field raises MalformedReply naming
# the field, so the operator knows which side of the contract broke.


def _customer(data: Any) -> Customer:
    body = _object(data)
    return Customer(
        customer_id=_str(body, "customer_id"),
        name=_str(body, "name"),
        email=_str(body, "email"),
        postal_address=_str(body, "postal_address"),
        tier=_str(body, "tier"),
    )


def _order(data: Any) -> Order:
    body = _object(data)
    items = body.get("items")
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise MalformedReply("'items' must be a list of strings")
    return Order(
        number=_str(body, "number"),
        status=_str(body, "status"),
        placed_on=_date(body, "placed_on"),
        items=tuple(items),
        expected_delivery=_optional(body, "expected_delivery", _date),
        tracking_url=_optional(body, "tracking_url", _str),
    )


def _invoice(data: Any) -> Invoice:
    body = _object(data)
    paid = body.get("paid")
    if not isinstance(paid, bool):
        raise MalformedReply("'paid' must be true or false")
    return Invoice(
        number=_str(body, "number"),
        issued_on=_date(body, "issued_on"),
        due_on=_date(body, "due_on"),
        amount=_decimal(body, "amount"),
        currency=_str(body, "currency"),
        paid=paid,
    )


def _plan(data: Any) -> Plan:
    body = _object(data)
    return Plan(
        name=_str(body, "name"),
        monthly_price=_decimal(body, "monthly_price"),
        currency=_str(body, "currency"),
        data_allowance_gb=_optional(body, "data_allowance_gb", _decimal),
        contract_end=_optional(body, "contract_end", _date),
    )


def _data_usage(data: Any) -> DataUsage:
    body = _object(data)
    return DataUsage(
        used_gb=_decimal(body, "used_gb"),
        allowance_gb=_optional(body, "allowance_gb", _decimal),
        period_end=_date(body, "period_end"),
    )


def _list_of(parse: Callable[[Any], _T]) -> Callable[[Any], List[_T]]:
    def parse_list(data: Any) -> List[_T]:
        if not isinstance(data, list):
            raise MalformedReply(f"expected a JSON array, got {type(data).__name__}")
        return [parse(item) for item in data]

    return parse_list


def _object(data: Any) -> Dict[str, Any]:
    if not isinstance(data, dict):
        raise MalformedReply(f"expected a JSON object, got {type(data).__name__}")
    return data


def _optional(
    body: Dict[str, Any], key: str, read: Callable[[Dict[str, Any], str], _T]
) -> _T | None:
    # Absent and null mean the same: no value.
    return None if body.get(key) is None else read(body, key)


def _str(body: Dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise MalformedReply(f"{key!r} must be a string")
    return value


def _date(body: Dict[str, Any], key: str) -> dt.date:
    value = body.get(key)
    if not isinstance(value, str):
        raise MalformedReply(f"{key!r} must be an ISO date string (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise MalformedReply(f"{key!r} must be an ISO date (YYYY-MM-DD)") from None


def _decimal(body: Dict[str, Any], key: str) -> Decimal:
    value = body.get(key)
    # Strings are the contract; integers are exact too. Floats and booleans are
    # refused: a float has already lost the cents.
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise MalformedReply(f'{key!r} must be a decimal string such as "49.99"')
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise MalformedReply(f'{key!r} must be a decimal string such as "49.99"') from None
    if not number.is_finite():
        raise MalformedReply(f"{key!r} must be a finite number")
    return number
