"""(a) The example agent, run as `python examples/reviewer.py`, does one step of a workflow whose
other steps the Node demo agents do; the client gets the final answer."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any, Optional

import pytest
from nats.aio.client import Client as NATS

from orchestrator_sdk import OrchestratorClient, TaskStatus

from .conftest import agent_view, unique, wait_for, wait_until
from .sleeper import Sleeper

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "reviewer.py"


async def test_the_example_agent_reviews_the_draft_of_a_node_agent_for_a_node_agent(
    nats_url: str, orchestrator_url: str, nc: NATS, client: OrchestratorClient
) -> None:
    progress = await nc.subscribe("agent.reviewer.progress")
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLE),
        env={**os.environ, "NATS_URL": nats_url},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    lines: list[str] = []
    reading = asyncio.create_task(_read_lines(process, lines))
    try:
        instance_id = await wait_until("the example agent to start", lambda: _started_instance(lines))

        async def listed() -> Optional[dict[str, Any]]:
            view = await agent_view(orchestrator_url, "reviewer")
            mine = [i for i in view["instances"] if i["instance_id"] == instance_id] if view else []
            return mine[0] if mine else None

        instance = await wait_for("the example agent's instance in GET /agents", listed)
        assert instance["capabilities"] == ["review_draft"] and instance["agent_type"] == "utility"
        assert instance["load"] == {"in_flight": 0, "max_concurrency": 4}

        task_id = unique("py-post")
        response = await client.submit("py_blog_post", {"topic": "graph databases in practice"}, task_id=task_id, timeout=60)
        assert response.status is TaskStatus.COMPLETED, response.error
        assert response.success is True and response.result is not None
        steps, output = response.result["steps"], response.result["output"]
        review = steps["review"]
        assert review["words"] == len(steps["draft"]["content"].split())
        assert review["approved"] is True and review["findings"] == []
        # The Node drafting agent wrote the Python agent's score into the document it exported.
        assert f"Review score: {review['score']}/100 (approved)" in steps["export"]["documents"]["markdown"]
        assert output["review_score"] == review["score"] and output["words"] == review["words"]
        assert output["location"] == steps["publish"]["location"]

        report = json.loads((await progress.next_msg(timeout=5)).data)
        assert report["fraction"] == 0.5 and report["message"] == "counting words"
        # The sub-task's id as the orchestrator sent it: its own id for the step and the attempt.
        assert re.fullmatch(r"\S+:1", report["task_id"]), report
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=15)
        await reading
    out = "\n".join(lines)
    assert code == 0, out
    assert "SIGTERM: stopping" in out and out.rstrip().endswith("stopped")


async def _read_lines(process: asyncio.subprocess.Process, into: list[str]) -> None:
    assert process.stdout is not None
    async for line in process.stdout:
        into.append(line.decode().rstrip())


def _started_instance(lines: list[str]) -> Optional[str]:
    """The instance id in the agent's "started (instance <id>, ...)" line, once it is written."""
    for line in lines:
        found = re.search(r"started \(instance ([^,]+),", line)
        if found:
            return found.group(1)
    return None


async def test_the_client_gets_bad_input_answered_naming_the_field(client: OrchestratorClient) -> None:
    response = await client.submit("py_blog_post", {"topic": 42}, timeout=10)
    assert response.status is TaskStatus.FAILED and response.success is False
    assert response.error is not None and "payload.topic" in response.error


async def test_the_client_refuses_a_request_that_breaks_the_contract_before_sending_it(client: OrchestratorClient) -> None:
    with pytest.raises(ValueError, match=r"task_type: must match"):
        await client.submit("Not A Type", {})
    with pytest.raises(ValueError, match=r"priority: must be one of LOW, NORMAL, HIGH, CRITICAL"):
        await client.submit("py_sleep", {"seconds": 0}, priority="urgent")


async def test_the_client_says_when_no_orchestrator_listens(nats_url: str) -> None:
    from orchestrator_sdk import OrchestratorUnavailableError

    async with OrchestratorClient(nats_url, orchestrator="nobody_listens_here") as lonely:
        with pytest.raises(OrchestratorUnavailableError, match="no orchestrator listens on agent.nobody_listens_here.task"):
            await lonely.submit("py_sleep", {"seconds": 0}, timeout=5)


async def test_the_client_waits_out_a_repeat_of_a_running_task_and_gets_the_same_final_answer(
    client: OrchestratorClient, sleeper: Sleeper
) -> None:
    task_id = unique("py-repeat")
    first = asyncio.create_task(client.submit("py_sleep", {"seconds": 1.5}, task_id=task_id, timeout=30))
    await wait_until("the sleeper to start", lambda: sleeper.started or None)
    # The same request again while it runs: the orchestrator answers RUNNING, the client asks on.
    second = await client.submit("py_sleep", {"seconds": 1.5}, task_id=task_id, timeout=30)
    original = await first
    assert original.status is TaskStatus.COMPLETED and original.result is not None
    assert original.result["output"] == {"slept": 1.5}
    assert second.status is TaskStatus.COMPLETED and second.result == original.result
    assert len(sleeper.started) == 1
