"""Progress reports: `agent.<name>.progress` carries {"task_id", "fraction", "message"?}, fraction clamped to 0..1."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from nats.aio.client import Client as NATS

from orchestrator_sdk import Agent, OrchestratorClient, TaskContext, TaskStatus, agent_task_subject

from .conftest import body_of, unique
from .sleeper import NAME as SLEEPER, Sleeper


async def test_progress_reports_have_the_contracts_shape(nats_url: str, nc: NATS) -> None:
    agent = Agent("py_progress", agent_type="test", nats_url=nats_url, instance_id="py-progress-test")

    @agent.task("report")
    async def report(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
        await ctx.progress(0.5, "half way")
        await ctx.progress(1.7)
        await ctx.progress(-3, "")
        return {}

    reports = await nc.subscribe("agent.py_progress.progress")
    async with agent:
        request = json.dumps({"task_id": "py-progress-1:1", "task_type": "report", "payload": {}}).encode()
        answer = body_of((await nc.request(agent_task_subject("py_progress"), request, timeout=5)).data)
    assert answer["status"] == "COMPLETED"
    received = [json.loads((await reports.next_msg(timeout=2)).data) for _ in range(3)]
    assert received == [
        {"task_id": "py-progress-1:1", "fraction": 0.5, "message": "half way"},
        {"task_id": "py-progress-1:1", "fraction": 1.0},
        {"task_id": "py-progress-1:1", "fraction": 0.0, "message": ""},
    ]


async def test_progress_of_a_step_names_the_sub_task_as_the_orchestrator_sent_it(
    nc: NATS, client: OrchestratorClient, sleeper: Sleeper
) -> None:
    reports = await nc.subscribe(f"agent.{SLEEPER}.progress")
    task_id = unique("py-progress")
    response = await client.submit("py_sleep", {"seconds": 0}, task_id=task_id, timeout=30)
    assert response.status is TaskStatus.COMPLETED
    report = json.loads((await reports.next_msg(timeout=2)).data)
    assert report == {"task_id": sleeper.started[0], "fraction": 0.0, "message": "falling asleep"}
    await asyncio.sleep(0)
