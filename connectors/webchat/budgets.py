"""How much each socket and each client address may send (`bot.limits` settings)."""

from __future__ import annotations

from bot.limits.interface import Clock, RateLimiter, Verdict
from bot.limits.memory import MemoryRateLimiter
from bot.limits.settings import Budget, LimitSettings

# Refusals one socket may get in a minute; past them it is disconnected, so a
# client that ignores `retry_after` costs one refusal each, not an endless stream of them.
REFUSALS_BEFORE_DISCONNECT = Budget(30, 60)


class Budgets:
    """One kind of action's budgets: per socket, and per client address when there is one."""

    def __init__(self, per_socket: RateLimiter, per_address: RateLimiter | None) -> None:
        self.per_socket = per_socket
        self.per_address = per_address

    async def spend(self, sid: str, address: str | None) -> Verdict:
        """Charge one action to the socket, then to its address; the first refusal wins."""
        verdict = await self.per_socket.hit(sid)
        if not verdict.allowed or self.per_address is None or not address:
            return verdict
        by_address = await self.per_address.hit(address)
        if not by_address.allowed:
            # Nothing was done: the socket's own budget is not charged for it.
            await self.per_socket.refund(sid)
        return by_address


class ChannelBudgets:
    """Every budget of the customer channel, in memory (one process)."""

    def __init__(self, limits: LimitSettings, clock: Clock) -> None:
        def bucket(budget: Budget) -> MemoryRateLimiter:
            return MemoryRateLimiter(budget.count, budget.seconds, clock=clock)

        self.messages = Budgets(
            bucket(limits.webchat_messages_per_socket), bucket(limits.webchat_messages_per_address)
        )
        self.typing = Budgets(
            bucket(limits.webchat_typing_per_socket), bucket(limits.webchat_typing_per_address)
        )
        self.sessions = Budgets(
            bucket(limits.webchat_sessions_per_socket), bucket(limits.webchat_sessions_per_address)
        )
        self.call_signals = Budgets(
            bucket(limits.webchat_call_signals_per_socket),
            bucket(limits.webchat_call_signals_per_address),
        )
        # Per socket only: how many refusals it may still be sent (`Refusals.may_refuse`).
        self.refusals = bucket(REFUSALS_BEFORE_DISCONNECT)
