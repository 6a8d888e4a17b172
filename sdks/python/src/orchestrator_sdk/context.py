"""What a handler knows of the sub-task it runs, and how it reports progress or learns it was cancelled."""

from __future__ import annotations

import asyncio
import logging
import math
from types import MappingProxyType
from typing import Awaitable, Callable, Mapping, Optional

from .models import ProgressReport

ProgressSink = Callable[[ProgressReport], Awaitable[None]]

MAX_PROGRESS_MESSAGE_LENGTH = 2_000


class TaskContext:
    """One sub-task as its handler sees it.

    Cancellation (``agent.<name>.cancel``, or a deadline the orchestrator gave up on) reaches the
    handler two ways: ``cancelled`` turns true (and ``wait_cancelled()`` returns), and the handler's
    asyncio task is cancelled, so ``asyncio.CancelledError`` is raised at its next ``await``.
    Catch it to clean up; the answer is CANCELLED whatever the handler returns after it.
    """

    def __init__(
        self,
        *,
        task_id: str,
        task_type: str,
        requester_id: Optional[str],
        attempt: Optional[int],
        headers: Mapping[str, str],
        progress_sink: Optional[ProgressSink] = None,
        logger: Optional[logging.Logger] = None,
    ) -> None:
        self.task_id = task_id
        self.task_type = task_type
        self.requester_id = requester_id
        #: The orchestrator's attempt number of this sub-task (its ``Orchestrator-Attempt`` header), from 1.
        self.attempt = attempt
        #: The headers of the incoming message (read-only).
        self.headers: Mapping[str, str] = MappingProxyType(dict(headers))
        self._cancelled = False
        # Made when a handler waits for the cancel: most never do.
        self._cancel_event: Optional[asyncio.Event] = None
        self._finished = False
        self._progress_sink = progress_sink
        self._logger = logger or logging.getLogger("orchestrator_sdk")

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    async def wait_cancelled(self) -> None:
        """Returns once the sub-task is cancelled (for handlers that race their work against it)."""
        if self._cancel_event is None:
            self._cancel_event = asyncio.Event()
            if self._cancelled:
                self._cancel_event.set()
        await self._cancel_event.wait()

    async def progress(self, fraction: float, message: Optional[str] = None) -> None:
        """Reports how far the work is, on ``agent.<name>.progress``: ``fraction`` is clamped to 0..1.

        Best effort: a report that cannot be sent is logged, never raised, and reports after the
        answer (or after a cancel) are not sent.
        """
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or math.isnan(fraction):
            raise ValueError(f"fraction: must be a number from 0 to 1, got {fraction!r}")
        if message is not None and not isinstance(message, str):
            raise ValueError(f"message: must be a string or None, got {type(message).__name__}")
        if self._progress_sink is None or self._finished or self.cancelled:
            return
        if message is not None and len(message) > MAX_PROGRESS_MESSAGE_LENGTH:
            message = message[:MAX_PROGRESS_MESSAGE_LENGTH] + "…"
        report = ProgressReport(task_id=self.task_id, fraction=min(1.0, max(0.0, float(fraction))), message=message)
        try:
            await self._progress_sink(report)
        except Exception as error:  # progress must never fail the work it reports on
            self._logger.warning("progress of task %s not sent: %s", self.task_id, error)

    def _cancel(self) -> None:
        self._cancelled = True
        if self._cancel_event is not None:
            self._cancel_event.set()

    def _finish(self) -> None:
        self._finished = True
