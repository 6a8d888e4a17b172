"""(c) A duplicate delivery of the same sub-task id is answered identically, and run once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from nats.aio.client import Client as NATS
from nats.errors import TimeoutError as NatsTimeoutError

from orchestrator_sdk import Agent, TaskContext, agent_task_subject

from .conftest import body_of

NAME = "py_counter"


@pytest.fixture
async def counter(nats_url: str) -> AsyncIterator[tuple[Agent, list[str]]]:
    agent = Agent(NAME, agent_type="test", nats_url=nats_url, instance_id="py-counter-test")
    runs: list[str] = []

    @agent.task("count")
    async def count(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
        runs.append(ctx.task_id)
        await asyncio.sleep(float(payload.get("seconds", 0)))
        return {"run": len(runs), "attempt": ctx.attempt, "step": ctx.headers.get("Orchestrator-Step")}

    async with agent:
        yield agent, runs


async def test_the_same_task_twice_gets_the_same_answer_byte_for_byte(nc: NATS, counter: tuple[Agent, list[str]]) -> None:
    agent, runs = counter
    body = json.dumps({"task_id": "py-dup-1:3", "task_type": "count", "payload": {}}).encode()
    headers = {"Orchestrator-Attempt": "3", "Orchestrator-Step": "count", "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    first = await nc.request(agent_task_subject(NAME), body, timeout=5, headers=headers)
    again = await nc.request(agent_task_subject(NAME), body, timeout=5, headers=headers)
    assert again.data == first.data
    answer = body_of(first.data)
    assert answer["status"] == "COMPLETED" and answer["result"] == {"run": 1, "attempt": 3, "step": "count"}
    assert first.headers == {"traceparent": headers["traceparent"]}
    assert runs == ["py-dup-1:3"]
    assert agent.stats.duplicates == 1 and agent.stats.completed == 1


async def test_a_repeat_while_the_task_runs_is_not_answered_and_not_run(nc: NATS, counter: tuple[Agent, list[str]]) -> None:
    _, runs = counter
    body = json.dumps({"task_id": "py-dup-2", "task_type": "count", "payload": {"seconds": 0.5}}).encode()
    first = asyncio.create_task(nc.request(agent_task_subject(NAME), body, timeout=5))
    await asyncio.sleep(0.1)
    with pytest.raises(NatsTimeoutError):
        await nc.request(agent_task_subject(NAME), body, timeout=1)
    assert body_of((await first).data)["result"]["run"] == 1
    assert runs == ["py-dup-2"]
