"""(d) max_concurrency, and the announcement and heartbeats with the load, as the orchestrator's GET /agents shows them."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Optional

from nats.aio.client import Client as NATS

from orchestrator_sdk import AgentAnnouncement, OrchestratorClient, TaskStatus, agent_announcement_subject, agent_task_subject

from .conftest import agent_view, body_of, unique, wait_for
from .sleeper import NAME, Sleeper


async def test_announces_itself_and_beats_with_its_load(nats_url: str, nc: NATS) -> None:
    registered = await nc.subscribe(agent_announcement_subject(NAME, "registered"))
    beats = await nc.subscribe(agent_announcement_subject(NAME, "heartbeat"))
    sleeper = Sleeper(nats_url, max_concurrency=3)
    async with sleeper.agent:
        mine = await _next_of(registered, NAME)
        assert mine.instance_id == "py-sleeper-test" and mine.agent_type == "test" and mine.capabilities == ["sleep"]
        assert mine.load is not None and mine.load.in_flight == 0 and mine.load.max_concurrency == 3
        beat = await _next_of(beats, NAME)
        assert beat.load is not None and beat.load.max_concurrency == 3 and beat.ts >= mine.ts


async def test_max_concurrency_holds_and_get_agents_shows_the_load(nc: NATS, orchestrator_url: str, sleeper: Sleeper) -> None:
    async def listed_idle() -> Optional[dict[str, Any]]:
        view = await agent_view(orchestrator_url, NAME)
        return view if view and view["reported_in_flight"] == 0 else None

    view = await wait_for("py_sleeper in GET /agents", listed_idle)
    assert view["capacity"] == 2 and view["capabilities"] == ["sleep"]
    (instance,) = [i for i in view["instances"] if i["instance_id"] == "py-sleeper-test"]
    assert instance["load"]["max_concurrency"] == 2

    held = {"task_type": "sleep", "payload": {"until_released": True}}
    requests = [
        asyncio.create_task(nc.request(agent_task_subject(NAME), json.dumps({**held, "task_id": f"py-load-{i}"}).encode(), timeout=30))
        for i in range(5)
    ]

    async def busy() -> Optional[dict[str, Any]]:
        view = await agent_view(orchestrator_url, NAME)
        return view if view and view["reported_in_flight"] == 5 else None

    # Five taken, two running and three waiting: the heartbeat reports all five held.
    busy_view = await wait_for("the heartbeat to report five tasks held", busy)
    assert busy_view["load"] == 2.5  # what the router ranks by: 5 held over a capacity of 2
    assert sleeper.running == 2 and len(sleeper.started) == 2
    sleeper.release.set()
    answers = [body_of(msg.data) for msg in await asyncio.gather(*requests)]
    assert [a["status"] for a in answers] == ["COMPLETED"] * 5
    assert sleeper.most_running == 2 and sleeper.agent.stats.max_held_seen == 5
    await wait_for("the heartbeat to report the agent idle", listed_idle)

async def test_the_orchestrator_sends_no_more_than_the_announced_max_concurrency(
    client: OrchestratorClient, orchestrator_url: str, sleeper: Sleeper
) -> None:
    async def capacity_two() -> Optional[dict[str, Any]]:
        view = await agent_view(orchestrator_url, NAME)
        return view if view and view["capacity"] == 2 else None

    # Once the registry has this agent's max_concurrency of 2 (an earlier test announced 3 under the
    # same instance id), and past the 250 ms for which the router reuses a read of it.
    await wait_for("py_sleeper with a capacity of 2 in GET /agents", capacity_two)
    await asyncio.sleep(0.3)
    responses = await asyncio.gather(
        *(client.submit("py_sleep", {"seconds": 0.4}, task_id=unique("py-capacity"), timeout=30) for i in range(5))
    )
    assert [r.status for r in responses] == [TaskStatus.COMPLETED] * 5
    assert len(sleeper.started) == 5 and sleeper.most_running == 2
    assert sleeper.agent.stats.max_held_seen <= 2


async def _next_of(subscription: Any, name: str) -> AgentAnnouncement:
    """The next announcement of the agent `name` (other agents announce on the same subjects)."""
    while True:
        msg = await subscription.next_msg(timeout=5)
        announcement = AgentAnnouncement.model_validate(json.loads(msg.data))
        if announcement.name == name:
            return announcement
