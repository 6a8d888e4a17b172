"""Running agents as a program: start them, and stop them cleanly on SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from .agent import Agent

_logger = logging.getLogger("orchestrator_sdk")


async def serve(*agents: Agent, signals: Sequence[signal.Signals] = (signal.SIGINT, signal.SIGTERM)) -> None:
    """Starts the agents, waits for one of `signals`, then stops them: they take no new task and
    finish and answer the ones they hold. If one fails to start, the others are stopped and the
    error is raised. A second signal while stopping exits at once."""
    started: list[Agent] = []
    try:
        for agent in agents:
            await agent.start()
            started.append(agent)
    except BaseException:
        await asyncio.gather(*(agent.stop() for agent in started), return_exceptions=True)
        raise

    loop = asyncio.get_running_loop()
    stop_asked = asyncio.Event()

    def on_signal(received: signal.Signals) -> None:
        if stop_asked.is_set():
            _logger.warning("%s again: exiting without waiting", received.name)
            os._exit(1)
        _logger.info("%s: stopping", received.name)
        stop_asked.set()

    for sig in signals:
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        await stop_asked.wait()
    finally:
        outcomes = await asyncio.gather(*(agent.stop() for agent in started), return_exceptions=True)
        for sig in signals:
            loop.remove_signal_handler(sig)
        for agent, outcome in zip(started, outcomes):
            if isinstance(outcome, BaseException):
                _logger.error("%s did not stop cleanly: %s", agent.name, outcome)
