"""The client's signals and events: a workflow that waits for a person's approval, then for an
external event, driven from Python alone."""

from __future__ import annotations

import asyncio
import urllib.error

import pytest

from orchestrator_sdk import OrchestratorClient, SignalRefusedError, TaskStatus

from .conftest import http_json, unique, wait_for


async def _waiting_at(orchestrator_url: str, task_id: str, step: str) -> None:
    async def probe() -> bool | None:
        try:
            detail = await http_json(f"{orchestrator_url}/tasks/{task_id}")
        except urllib.error.HTTPError as error:
            if error.code == 404:  # not accepted yet
                return None
            raise
        return True if any(s["step"] == step and s["status"] == "WAITING" for s in detail["steps"]) else None

    await wait_for(f"{task_id} to wait at {step}", probe, timeout=30)


async def test_approves_a_waiting_workflow_and_publishes_the_event_it_waits_for(orchestrator_url: str, client: OrchestratorClient) -> None:
    task_id = unique("py-approval")
    invoice = unique("inv")
    final = asyncio.create_task(client.submit("py_approval", {"invoice_id": invoice}, task_id=task_id, timeout=60))
    await _waiting_at(orchestrator_url, task_id, "approve")

    with pytest.raises(SignalRefusedError) as refused:
        await client.signal(task_id, "approval", {"approved": "yes"})
    assert refused.value.code == "INVALID_PAYLOAD" and str(refused.value) == "payload.approved: must be a boolean"

    reply = await client.approve(task_id, comment="fine", signal_id="py-decision-1")
    assert (reply.outcome, reply.step, reply.duplicate) == ("delivered", "approve", False)
    again = await client.approve(task_id, comment="twice", signal_id="py-decision-1")
    assert again.duplicate is True

    await _waiting_at(orchestrator_url, task_id, "paid")
    await client.publish_event("py.payment.received", {"invoice_id": "someone-else", "amount": 1})
    await client.publish_event("py.payment.received", {"invoice_id": invoice, "amount": 30})
    response = await final
    assert response.status is TaskStatus.COMPLETED, response.error
    assert response.result is not None and response.result["output"] == {"approved": True, "comment": "fine", "amount": 30}


async def test_a_rejection_and_the_refusals_of_unknown_and_finished_tasks(orchestrator_url: str, client: OrchestratorClient) -> None:
    with pytest.raises(SignalRefusedError) as unknown:
        await client.approve(unique("py-nobody"))
    assert unknown.value.code == "TASK_NOT_FOUND"

    task_id = unique("py-reject")
    final = asyncio.create_task(client.submit("py_approval", {"invoice_id": "x"}, task_id=task_id, timeout=60))
    await _waiting_at(orchestrator_url, task_id, "approve")
    reply = await client.reject(task_id, comment="no")
    assert reply.outcome == "delivered"
    await _waiting_at(orchestrator_url, task_id, "paid")
    await client.publish_event("py.payment.received", {"invoice_id": "x", "amount": 0})
    response = await final
    assert response.status is TaskStatus.COMPLETED
    assert response.result is not None and response.result["output"]["approved"] is False

    with pytest.raises(SignalRefusedError) as finished:
        await client.approve(task_id)
    assert finished.value.code == "TASK_FINISHED"
    with pytest.raises(ValueError, match="signal: must match"):
        await client.signal(task_id, "Not A Name")
