"""Stopping drains: no new task is taken, the ones held finish and are answered."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from nats.aio.client import Client as NATS
from nats.errors import NoRespondersError

from orchestrator_sdk import Agent, TaskContext, agent_task_subject

from .conftest import body_of, wait_until


async def test_stop_finishes_the_tasks_held_and_takes_no_new_one(nats_url: str, nc: NATS) -> None:
    agent = Agent("py_drainer", agent_type="test", nats_url=nats_url, max_concurrency=1, instance_id="py-drainer-test")
    release = asyncio.Event()
    started: list[str] = []

    @agent.task("work")
    async def work(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
        started.append(ctx.task_id)
        await release.wait()
        return {"done": ctx.task_id}

    def task(task_id: str) -> bytes:
        return json.dumps({"task_id": task_id, "task_type": "work"}).encode()

    await agent.start()
    assert agent.accepting_tasks
    held = [asyncio.create_task(nc.request(agent_task_subject("py_drainer"), task(f"py-drain-{i}"), timeout=10)) for i in (1, 2)]
    await wait_until("both tasks to be held", lambda: agent.stats.held == 2 or None)
    stopping = asyncio.create_task(agent.stop())
    await wait_until("the task subscription to be drained", lambda: not agent.accepting_tasks or None)
    with pytest.raises(NoRespondersError):
        await nc.request(agent_task_subject("py_drainer"), task("py-drain-3"), timeout=2)
    assert not stopping.done()

    release.set()
    answers = [body_of(msg.data) for msg in await asyncio.gather(*held)]
    await asyncio.wait_for(stopping, timeout=5)
    assert [(a["status"], a["result"]) for a in answers] == [("COMPLETED", {"done": "py-drain-1"}), ("COMPLETED", {"done": "py-drain-2"})]
    assert started == ["py-drain-1", "py-drain-2"] and not agent.started
