"""The limiter interface's in-memory implementations, on a clock the tests advance."""

from __future__ import annotations

import pytest

from bot.limits.interface import Verdict
from bot.limits.memory import MemoryBackOff, MemoryConcurrencyLimit, MemoryRateLimiter
from bot.limits.settings import Budget, LimitSettings
from bot.settings import SettingsError
from tests.clocks import ManualClock


async def test_a_bucket_allows_its_burst_then_refuses_with_the_wait_until_the_next_token() -> None:
    clock = ManualClock()
    limiter = MemoryRateLimiter(3, 60, clock=clock)
    assert [(await limiter.hit("a")).allowed for _ in range(4)] == [True, True, True, False]
    refused = await limiter.hit("a")
    assert refused.retry_after == pytest.approx(20.0)
    assert refused.retry_after_seconds == 20
    clock.advance(20)
    assert (await limiter.hit("a")).allowed
    assert not (await limiter.hit("a")).allowed


async def test_keys_have_budgets_of_their_own_and_a_refund_gives_one_back() -> None:
    limiter = MemoryRateLimiter(1, 60, clock=ManualClock())
    assert (await limiter.hit("a")).allowed
    assert (await limiter.hit("b")).allowed
    assert not (await limiter.hit("a")).allowed
    await limiter.refund("a")
    assert (await limiter.hit("a")).allowed


async def test_a_flood_of_keys_stays_within_max_keys_and_idle_keys_go_first() -> None:
    clock = ManualClock()
    limiter = MemoryRateLimiter(2, 10, clock=clock, max_keys=100)
    await limiter.hit("busy")
    await limiter.hit("busy")
    for number in range(1000):
        await limiter.hit(f"spray-{number}")
    assert len(limiter._buckets) <= 100
    clock.advance(1)  # every spray key is full again: idle, dropped before busy ones
    for number in range(200):
        await limiter.hit(f"more-{number}")
    assert len(limiter._buckets) <= 100


async def test_back_off_grows_after_the_free_failures_and_is_capped() -> None:
    clock = ManualClock()
    back_off = MemoryBackOff(
        free_failures=2, base_delay=1, max_delay=8, forget_after=600, clock=clock
    )
    waits = [(await back_off.failed("x")).retry_after for _ in range(7)]
    assert waits == [0, 1, 2, 4, 8, 8, 8]
    assert not (await back_off.check("x")).allowed
    clock.advance(8)
    assert (await back_off.check("x")).allowed


async def test_back_off_forgets_after_a_success_or_a_quiet_period() -> None:
    clock = ManualClock()
    back_off = MemoryBackOff(
        free_failures=1, base_delay=1, max_delay=60, forget_after=300, clock=clock
    )
    await back_off.failed("x")
    await back_off.succeeded("x")
    assert (await back_off.check("x")).allowed
    for _ in range(5):
        await back_off.failed("y")
    clock.advance(300)
    assert (await back_off.failed("y")) == Verdict(False, 1.0)  # the count started again


async def test_a_concurrency_limit_counts_places_in_flight() -> None:
    limit = MemoryConcurrencyLimit(2)
    assert await limit.enter("k") and await limit.enter("k")
    assert not await limit.enter("k")
    await limit.leave("k")
    assert await limit.enter("k")
    assert limit.in_flight("k") == 2


def test_limit_settings_read_budgets_and_numbers_and_name_a_bad_variable() -> None:
    settings = LimitSettings.from_env(
        {"BATON_LIMIT_WEBCHAT_MESSAGES_PER_SOCKET": "5/10", "BATON_LIMIT_PASSWORD_WORKERS": "3"}
    )
    assert settings.webchat_messages_per_socket == Budget(5, 10)
    assert settings.password_workers == 3
    assert LimitSettings.from_env({}) == LimitSettings()
    with pytest.raises(SettingsError, match="BATON_LIMIT_WEBCHAT_TYPING_PER_SOCKET.*COUNT/SECONDS"):
        LimitSettings.from_env({"BATON_LIMIT_WEBCHAT_TYPING_PER_SOCKET": "lots"})
    with pytest.raises(SettingsError, match="BATON_LIMIT_DESK_MAX_BODY_BYTES is 0"):
        LimitSettings.from_env({"BATON_LIMIT_DESK_MAX_BODY_BYTES": "0"})
