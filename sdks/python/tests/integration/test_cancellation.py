"""(b) Cancellation reaches the Python handler: from the orchestrator, and from agent.<name>.cancel."""

from __future__ import annotations

import asyncio
import json

from nats.aio.client import Client as NATS

from orchestrator_sdk import OrchestratorClient, TaskStatus, agent_cancel_subject, agent_task_subject

from .conftest import body_of, unique, wait_until
from .sleeper import NAME, Sleeper


async def test_cancelling_a_workflow_cancels_the_python_handler_of_its_running_step(
    client: OrchestratorClient, sleeper: Sleeper
) -> None:
    task_id = unique("py-cancel")
    submitted = asyncio.create_task(client.submit("py_sleep", {"seconds": 30}, task_id=task_id, timeout=30))
    subtask_id = await wait_until("the step to start", lambda: sleeper.started[0] if sleeper.started else None)

    state = await client.cancel(task_id)
    assert state.status is TaskStatus.CANCELLED

    # The orchestrator told the agent; the handler saw CancelledError with ctx.cancelled set.
    await wait_until("the handler to be cancelled", lambda: sleeper.cancelled or None, timeout=10)
    assert sleeper.cancelled == [(subtask_id, True)]
    final = await submitted
    assert final.status is TaskStatus.CANCELLED and final.success is False
    await wait_until("the CANCELLED answer", lambda: sleeper.agent.stats.cancelled == 1 or None)
    assert sleeper.agent.stats.held == 0


async def test_a_cancel_on_the_agents_subject_stops_a_task_sent_to_it_directly(nc: NATS, sleeper: Sleeper) -> None:
    request = {"task_id": "py-direct-cancel-1", "task_type": "sleep", "payload": {"seconds": 30}}
    answer = asyncio.create_task(nc.request(agent_task_subject(NAME), json.dumps(request).encode(), timeout=10))
    await wait_until("the handler to start", lambda: sleeper.started or None)
    await nc.publish(agent_cancel_subject(NAME), json.dumps({"task_id": "py-direct-cancel-1"}).encode())
    body = body_of((await answer).data)
    assert body["task_id"] == "py-direct-cancel-1"
    assert body["status"] == "CANCELLED" and body["success"] is False and body["error"] == "cancelled while running"
    assert sleeper.cancelled == [("py-direct-cancel-1", True)]
