"""The sign-in guard (bot/desk/signin.py) on a real directory, a real audit log and a test clock.

Strangers guessing passwords are slowed down per client and per address, never
lock a real agent out of the browser they use, and every attempt is audited.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.orm import sessionmaker

from bot import audit
from bot.desk.agents import AgentDirectory
from bot.desk.signin import (
    REFUSED_BACK_OFF,
    REFUSED_BUSY,
    REFUSED_CLIENT_BUDGET,
    REFUSED_IN_FLIGHT,
    DeviceTokens,
    SignInAttempt,
    SignInGuard,
    SignInRefused,
)
from bot.limits.memory import MemoryBackOff, MemoryConcurrencyLimit, MemoryRateLimiter
from bot.limits.pool import BoundedPool
from tests.clocks import ManualClock
from tests.desk.conftest import PASSWORD, T0, add_agent

STRANGER = "203.0.113.66"
OFFICE = "198.51.100.10"


def make_guard(
    directory: AgentDirectory,
    session_factory: sessionmaker,
    clock: ManualClock,
    *,
    per_client: int = 30,
    pool: BoundedPool | None = None,
    authenticate=None,  # type: ignore[no-untyped-def]
) -> SignInGuard:
    return SignInGuard(
        authenticate=authenticate or directory.authenticate,
        per_client=MemoryRateLimiter(per_client, 600, clock),
        per_address=MemoryBackOff(
            free_failures=3, base_delay=1, max_delay=60, forget_after=900, clock=clock
        ),
        in_flight=MemoryConcurrencyLimit(1),
        pool=pool or BoundedPool(2, 4, "test-password"),
        devices=DeviceTokens(b"k" * 32),
        audit_log=audit.AuditLog(session_factory),
        refusals_audited=MemoryRateLimiter(100, 60, clock),
    )


def attempt(password: str, client: str = STRANGER, device: str | None = None) -> SignInAttempt:
    return SignInAttempt("sam@example.com", password, client, device)


async def test_failures_past_the_free_ones_back_off_and_the_wait_is_capped(
    directory, session_factory
) -> None:
    add_agent(directory, "Sam")
    clock = ManualClock()
    guard = make_guard(directory, session_factory, clock)
    for _ in range(3):
        assert (await guard.sign_in(attempt("wrong password!"), T0)).agent is None
    with pytest.raises(SignInRefused) as refused:
        await guard.sign_in(attempt(PASSWORD), T0)
    assert refused.value.reason == REFUSED_BACK_OFF
    assert refused.value.retry_after == 1
    clock.advance(1)
    assert (await guard.sign_in(attempt(PASSWORD), T0)).agent is not None


async def test_a_stranger_cannot_lock_the_agent_out_of_the_browser_they_signed_in_with(
    directory, session_factory
) -> None:
    add_agent(directory, "Sam")
    clock = ManualClock()
    guard = make_guard(directory, session_factory, clock)
    device = (await guard.sign_in(attempt(PASSWORD, OFFICE), T0)).device_token
    assert device is not None
    for _ in range(10):  # a stranger hammering the address
        clock.advance(120)
        try:
            await guard.sign_in(attempt("guess guess guess"), T0)
        except SignInRefused:
            pass
    with pytest.raises(SignInRefused):  # strangers are slowed down …
        await guard.sign_in(attempt(PASSWORD), T0)
    signed_in = await guard.sign_in(attempt(PASSWORD, OFFICE, device), T0)  # … the agent is not
    assert signed_in.agent is not None and signed_in.agent.name == "Sam"


async def test_a_device_token_for_another_address_counts_for_nothing(
    directory, session_factory
) -> None:
    devices = DeviceTokens(b"k" * 32)
    token = devices.mint("dana@example.com")
    assert devices.device_of(token, "dana@example.com") is not None
    assert devices.device_of(token, "sam@example.com") is None
    assert devices.device_of(token + "x", "dana@example.com") is None
    assert devices.device_of("a" * 500, "dana@example.com") is None


async def test_password_spraying_from_one_client_runs_out_of_budget_across_addresses(
    directory, session_factory
) -> None:
    clock = ManualClock()
    guard = make_guard(directory, session_factory, clock, per_client=5)
    for number in range(5):
        await guard.sign_in(
            SignInAttempt(f"user{number}@example.com", "Summer2026!!", STRANGER), T0
        )
    with pytest.raises(SignInRefused) as refused:
        await guard.sign_in(SignInAttempt("user9@example.com", "Summer2026!!", STRANGER), T0)
    assert refused.value.reason == REFUSED_CLIENT_BUDGET
    # Another client (an office behind its own NAT) is not affected.
    await guard.sign_in(SignInAttempt("user9@example.com", "Summer2026!!", OFFICE), T0)


async def test_successes_give_the_client_budget_back_so_an_office_can_sign_in_together(
    directory, session_factory
) -> None:
    for name in ("Ann", "Bob", "Cid", "Dee"):
        add_agent(directory, name)
    guard = make_guard(directory, session_factory, ManualClock(), per_client=2)
    for name in ("ann", "bob", "cid", "dee"):
        result = await guard.sign_in(SignInAttempt(f"{name}@example.com", PASSWORD, OFFICE), T0)
        assert result.agent is not None


async def test_parallel_guesses_at_one_address_are_counted_not_all_checked(
    directory, session_factory
) -> None:
    add_agent(directory, "Sam")
    release = asyncio.Event()
    loop = asyncio.get_running_loop()
    started = asyncio.Event()

    def slow_authenticate(email, password, now):  # type: ignore[no-untyped-def]
        loop.call_soon_threadsafe(started.set)
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result()
        return directory.authenticate(email, password, now)

    guard = make_guard(directory, session_factory, ManualClock(), authenticate=slow_authenticate)
    first = asyncio.ensure_future(guard.sign_in(attempt("guess one!!!!"), T0))
    await started.wait()
    outcomes = await asyncio.gather(
        *(guard.sign_in(attempt(f"guess {n}!!!!!!"), T0) for n in range(5)), return_exceptions=True
    )
    release.set()
    await first
    assert all(
        isinstance(outcome, SignInRefused) and outcome.reason == REFUSED_IN_FLIGHT
        for outcome in outcomes
    )


async def test_a_full_password_pool_refuses_at_once(directory, session_factory) -> None:
    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    def blocked(email, password, now):  # type: ignore[no-untyped-def]
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result()

    pool = BoundedPool(1, 0, "test-full")
    guard = make_guard(directory, session_factory, ManualClock(), pool=pool, authenticate=blocked)
    first = asyncio.ensure_future(
        guard.sign_in(SignInAttempt("a@example.com", "x" * 12, STRANGER), T0)
    )
    while pool.admitted == 0:
        await asyncio.sleep(0)  # let the first attempt reach the pool; no time passes
    with pytest.raises(SignInRefused) as refused:
        await guard.sign_in(SignInAttempt("b@example.com", "x" * 12, STRANGER), T0)
    release.set()
    await first
    assert refused.value.reason == REFUSED_BUSY


async def test_every_attempt_is_audited_with_where_it_came_from_and_never_the_password(
    directory, session_factory
) -> None:
    agent = add_agent(directory, "Sam")
    guard = make_guard(directory, session_factory, ManualClock())
    await guard.sign_in(attempt("not the password"), T0)
    await guard.sign_in(attempt(PASSWORD, OFFICE), T0)
    entries = audit.AuditLog(session_factory).entries(action=audit.SIGNIN)
    assert [(entry.outcome, entry.actor, entry.client_address) for entry in entries] == [
        (audit.SUCCEEDED, audit.agent_actor(agent.id), OFFICE),
        (audit.FAILED, audit.ANONYMOUS, STRANGER),
    ]
    assert all(entry.subject == "sam@example.com" for entry in entries)
    assert not any(
        PASSWORD in str(entry.as_json()) or "not the password" in str(entry.as_json())
        for entry in entries
    )
