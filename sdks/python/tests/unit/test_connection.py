import socket
import time

import pytest

from orchestrator_sdk import Agent, OrchestratorClient


def closed_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_an_agent_says_at_once_when_no_nats_server_answers() -> None:
    url = f"nats://127.0.0.1:{closed_port()}"
    agent = Agent("py_nowhere", nats_url=url)

    @agent.task("noop")
    async def noop(ctx: object, payload: dict[str, object]) -> dict[str, object]:
        return {}

    started = time.monotonic()
    with pytest.raises(ConnectionError, match=f"cannot connect to NATS at {url}"):
        await agent.start()
    assert time.monotonic() - started < 5
    assert not agent.started


async def test_a_client_says_at_once_when_no_nats_server_answers() -> None:
    url = f"nats://127.0.0.1:{closed_port()}"
    with pytest.raises(ConnectionError, match=f"cannot connect to NATS at {url}"):
        async with OrchestratorClient(url):
            pass


async def test_an_agent_refuses_a_capability_without_a_handler_before_connecting() -> None:
    agent = Agent("py_nowhere", capabilities=["summarize"], nats_url="nats://127.0.0.1:1")
    with pytest.raises(ValueError, match="capabilities: summarize of agent py_nowhere has no handler"):
        await agent.start()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "bad.name"}, "name: agent name 'bad.name' does not match"),
        ({"name": "ok", "agent_type": ""}, "agent_type: must be 1 to 64 characters"),
        ({"name": "ok", "heartbeat_interval": 0}, "heartbeat_interval: must be a positive number"),
        ({"name": "ok", "answer_by": "shout"}, "answer_by: must be 'reply' or 'publish'"),
        ({"name": "ok", "max_concurrency": 0}, "max_concurrency: must be a positive integer"),
    ],
)
def test_an_agent_refuses_bad_options_naming_them(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Agent(**options)  # type: ignore[arg-type]
