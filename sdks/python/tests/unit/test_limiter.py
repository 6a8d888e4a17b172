import asyncio

import pytest

from orchestrator_sdk import ConcurrencyLimiter, JobDropped


async def test_runs_at_most_limit_jobs_in_arrival_order() -> None:
    limiter = ConcurrencyLimiter(2)
    gates = {key: asyncio.Event() for key in "abcd"}
    started: list[str] = []

    async def job(key: str) -> str:
        started.append(key)
        await gates[key].wait()
        return key

    runs = [asyncio.create_task(limiter.run(key, lambda key=key: job(key))) for key in "abcd"]  # type: ignore[misc]
    await asyncio.sleep(0)
    assert started == ["a", "b"] and limiter.active == 2 and limiter.queued == 2
    gates["b"].set()
    await asyncio.sleep(0.01)
    assert started == ["a", "b", "c"]
    for gate in gates.values():
        gate.set()
    assert await asyncio.gather(*runs) == ["a", "b", "c", "d"]
    assert limiter.active == 0 and limiter.queued == 0


async def test_a_failing_job_frees_its_slot() -> None:
    limiter = ConcurrencyLimiter(1)

    async def boom() -> None:
        raise RuntimeError("boom")

    async def ok() -> str:
        return "ran"

    with pytest.raises(RuntimeError):
        await limiter.run("a", boom)
    assert await limiter.run("b", ok) == "ran"
    assert limiter.active == 0


async def test_drops_a_waiting_job_and_leaves_running_ones_alone() -> None:
    limiter = ConcurrencyLimiter(1)
    gate = asyncio.Event()
    ran: list[str] = []

    async def job(key: str) -> None:
        ran.append(key)
        await gate.wait()

    running = asyncio.create_task(limiter.run("a", lambda: job("a")))
    waiting = asyncio.create_task(limiter.run("b", lambda: job("b")))
    await asyncio.sleep(0)
    assert limiter.drop("a") is False
    assert limiter.drop("b") is True
    assert limiter.drop("b") is False
    with pytest.raises(JobDropped):
        await waiting
    gate.set()
    await running
    assert ran == ["a"] and limiter.queued == 0 and limiter.active == 0


async def test_a_waiter_cancelled_from_outside_leaves_the_line() -> None:
    limiter = ConcurrencyLimiter(1)
    gate = asyncio.Event()
    running = asyncio.create_task(limiter.run("a", gate.wait))
    waiting = asyncio.create_task(limiter.run("b", gate.wait))
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.sleep(0)
    assert limiter.queued == 0
    gate.set()
    await running
    assert limiter.active == 0


@pytest.mark.parametrize("limit", [0, 1.5, True])
def test_refuses_a_limit_that_is_not_a_positive_integer(limit: object) -> None:
    with pytest.raises(ValueError, match="max_concurrency: must be a positive integer"):
        ConcurrencyLimiter(limit)  # type: ignore[arg-type]
