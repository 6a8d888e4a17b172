"""A test agent that sleeps as long as it is told, and records what its handler saw."""

from __future__ import annotations

import asyncio
from typing import Any

from orchestrator_sdk import Agent, TaskContext

NAME = "py_sleeper"


class Sleeper:
    """Handles `sleep`: {"seconds": n} sleeps n seconds; {"until_released": true} waits for `release`."""

    def __init__(self, nats_url: str, max_concurrency: int = 2) -> None:
        # A fixed instance id: each test's agent replaces the previous one in the registry instead
        # of adding an instance (and its capacity) until the old one's heartbeats expire.
        self.agent = Agent(
            NAME,
            agent_type="test",
            max_concurrency=max_concurrency,
            nats_url=nats_url,
            heartbeat_interval=0.2,
            instance_id="py-sleeper-test",
        )
        self.started: list[str] = []
        self.cancelled: list[tuple[str, bool]] = []
        self.running = 0
        self.most_running = 0
        self.release = asyncio.Event()
        self.agent.handle("sleep", self.sleep)

    async def sleep(self, ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
        seconds = payload.get("seconds", 0)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise ValueError("payload.seconds: must be a number")
        self.started.append(ctx.task_id)
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await ctx.progress(0.0, "falling asleep")
            await asyncio.sleep(seconds)
            if payload.get("until_released"):
                await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.append((ctx.task_id, ctx.cancelled))
            raise
        finally:
            self.running -= 1
        return {"slept": seconds}
