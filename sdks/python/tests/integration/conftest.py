"""Integration tests: real NATS and a running orchestrator with the Node demo agents and the
workflows of test/fixtures/python-sdk (test/python-sdk.e2e-spec.ts starts them and runs pytest)."""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Optional, TypeVar

import nats
import pytest
from nats.aio.client import Client as NATS

from orchestrator_sdk import OrchestratorClient

from .sleeper import Sleeper

T = TypeVar("T")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in item.nodeid.split("/"):
            item.add_marker(pytest.mark.integration)


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: the integration tests need NATS and a running orchestrator; run them through "
            "`npm test` (test/python-sdk.e2e-spec.ts), or set NATS_URL and ORCHESTRATOR_URL; "
            "`pytest tests/unit` runs the others alone"
        )
    return value


@pytest.fixture
def nats_url() -> str:
    return _required("NATS_URL")


@pytest.fixture
def orchestrator_url() -> str:
    return _required("ORCHESTRATOR_URL").rstrip("/")


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    """A plain NATS client, as any program of the platform would use: raw JSON in and out."""
    connection = await nats.connect(nats_url, name="pytest-plain-client")
    yield connection
    await connection.drain()


@pytest.fixture
async def client(nats_url: str) -> AsyncIterator[OrchestratorClient]:
    async with OrchestratorClient(nats_url) as orchestrator:
        yield orchestrator


async def http_json(url: str, method: str = "GET") -> Any:
    def fetch() -> Any:
        request = urllib.request.Request(url, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    return await asyncio.to_thread(fetch)


async def agent_view(orchestrator_url: str, name: str) -> Optional[dict[str, Any]]:
    """The agent named `name` in the orchestrator's GET /agents, or None."""
    body = await http_json(f"{orchestrator_url}/agents")
    return next((item for item in body["items"] if item["name"] == name), None)


async def wait_until(what: str, probe: Callable[[], Optional[T]], timeout: float = 15.0) -> T:
    """Asks `probe` until it gives something other than None."""

    async def asked() -> Optional[T]:
        return probe()

    return await wait_for(what, asked, timeout)


async def wait_for(what: str, probe: Callable[[], Awaitable[Optional[T]]], timeout: float = 15.0) -> T:
    """Awaits `probe` until it gives something other than None."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


def unique(prefix: str) -> str:
    """A task id no earlier run against the same database has used."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def body_of(data: bytes) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(data)
    return value


@pytest.fixture
async def sleeper(nats_url: str) -> AsyncIterator[Sleeper]:
    agent = Sleeper(nats_url)
    async with agent.agent:
        yield agent
