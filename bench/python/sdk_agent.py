"""The five agents of create_blog_post written on the Python SDK (sdks/python), sharing one
connection as the plain agent does: the same work, so that the difference is the SDK's."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

import nats
from orchestrator_sdk import Agent, TaskContext

from control import cpu_micros, serve_control

AGENTS: list[dict[str, Any]] = json.loads(os.environ["BENCH_AGENTS"])
CONCURRENCY = int(os.environ["BENCH_AGENT_CONCURRENCY"])


async def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    nc = await nats.connect(os.environ.get("NATS_URL", "nats://127.0.0.1:4222"), name="bench-sdk-python-agent")
    handled = 0

    def handler(result: dict[str, Any]):  # type: ignore[no-untyped-def]
        async def handle(_ctx: TaskContext, _payload: dict[str, Any]) -> dict[str, Any]:
            nonlocal handled
            handled += 1
            return result

        return handle

    agents = []
    for spec in AGENTS:
        agent = Agent(spec["name"], agent_type="bench", connection=nc, max_concurrency=CONCURRENCY)
        agent.handle(spec["taskType"], handler(spec["result"]))
        agents.append(agent)

    async def start(_: Any) -> None:
        await asyncio.gather(*(agent.start() for agent in agents))

    async def stop(_: Any) -> None:
        await asyncio.gather(*(agent.stop() for agent in agents))

    async def usage(_: Any) -> dict[str, int]:
        return {"cpuMicros": cpu_micros(), "handled": handled}

    async def spans(_: Any) -> list[list[int]]:
        return []

    async def quit() -> None:
        await stop(None)
        await nc.drain()

    await serve_control({"start": start, "stop": stop, "usage": usage, "spans": spans}, quit)


asyncio.run(main())
