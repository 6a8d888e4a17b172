"""The five agents of create_blog_post as a plain nats-py client writes them: parse the request,
reply with a TaskResponse at once. Announces itself at start and every five seconds, off the path
of a sub-task (subject names from the SDK, nothing else of it). BENCH_AGENTS (set by the bench) lists the agents and their results."""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

import nats
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from orchestrator_sdk.names import AGENT_HEARTBEAT_SUBJECT, AGENT_REGISTERED_SUBJECT, agent_task_subject

from control import cpu_micros, serve_control

AGENTS: list[dict[str, Any]] = json.loads(os.environ["BENCH_AGENTS"])
CONCURRENCY = int(os.environ["BENCH_AGENT_CONCURRENCY"])


async def main() -> None:
    nc = await nats.connect(os.environ.get("NATS_URL", "nats://127.0.0.1:4222"), name="bench-plain-python-agent")
    instance_id = f"plain-python-{os.getpid()}"
    subscriptions: list[Subscription] = []
    heartbeat: list[asyncio.Task[None]] = []
    handled = 0

    async def announce(subject: str) -> None:
        for agent in AGENTS:
            announcement = {
                "name": agent["name"],
                "instance_id": instance_id,
                "agent_type": "bench",
                "capabilities": [agent["taskType"]],
                "load": {"in_flight": 0, "max_concurrency": CONCURRENCY},
                "ts": time.time(),
            }
            await nc.publish(subject, json.dumps(announcement).encode())

    async def beat() -> None:
        while True:
            await asyncio.sleep(5)
            await announce(AGENT_HEARTBEAT_SUBJECT)

    def answerer(result: dict[str, Any]):  # type: ignore[no-untyped-def]
        async def answer(msg: Msg) -> None:
            nonlocal handled
            request = json.loads(msg.data)
            response = {"task_id": request["task_id"], "status": "COMPLETED", "success": True, "result": result, "error": None, "completed_at": time.time()}
            await nc.publish(msg.reply, json.dumps(response).encode())
            handled += 1

        return answer

    async def start(_: Any) -> None:
        for agent in AGENTS:
            subscriptions.append(await nc.subscribe(agent_task_subject(agent["name"]), queue=agent["name"], cb=answerer(agent["result"])))
        await nc.flush()
        await announce(AGENT_REGISTERED_SUBJECT)
        heartbeat.append(asyncio.create_task(beat()))
        await nc.flush()

    async def stop(_: Any) -> None:
        for task in heartbeat:
            task.cancel()
        heartbeat.clear()
        for subscription in subscriptions:
            await subscription.drain()
        subscriptions.clear()
        await nc.flush()

    async def usage(_: Any) -> dict[str, int]:
        return {"cpuMicros": cpu_micros(), "handled": handled}

    async def spans(_: Any) -> list[list[int]]:
        return []

    await serve_control({"start": start, "stop": stop, "usage": usage, "spans": spans}, nc.drain)


asyncio.run(main())
