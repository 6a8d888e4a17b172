"""At most `limit` jobs at once; the others wait in arrival order and can be dropped before they start."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Awaitable, Callable, TypeVar

T = TypeVar("T")


class JobDropped(Exception):
    """The job was removed from the line before it started."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{key} was dropped before it started")
        self.key = key


class ConcurrencyLimiter:
    def __init__(self, limit: int) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"max_concurrency: must be a positive integer, got {limit!r}")
        self.limit = limit
        self._running = 0
        self._waiting: deque[tuple[str, asyncio.Future[None]]] = deque()

    @property
    def active(self) -> int:
        return self._running

    @property
    def queued(self) -> int:
        return len(self._waiting)

    async def run(self, key: str, job: Callable[[], Awaitable[T]]) -> T:
        if self._running >= self.limit or self._waiting:
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.append((key, turn))
            try:
                await turn
            except BaseException:
                # Cancelled while waiting (not by drop): leave the line, or pass on a turn already given.
                if (key, turn) in self._waiting:
                    self._waiting.remove((key, turn))
                elif turn.done() and not turn.cancelled() and turn.exception() is None:
                    self._release()
                raise
            # The slot was handed over by the job that finished (see _release).
        else:
            self._running += 1
        try:
            return await job()
        finally:
            self._release()

    def drop(self, key: str) -> bool:
        """Removes a waiting job (its run raises JobDropped); False when it is not waiting."""
        for entry in self._waiting:
            if entry[0] == key:
                self._waiting.remove(entry)
                entry[1].set_exception(JobDropped(key))
                return True
        return False

    def _release(self) -> None:
        # The slot goes straight to the next in line, so a newcomer cannot overtake it.
        if self._waiting:
            _, turn = self._waiting.popleft()
            turn.set_result(None)
        else:
            self._running -= 1
