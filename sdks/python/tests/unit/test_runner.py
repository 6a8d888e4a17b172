"""The transport-free core of an agent: one message in, the answer to send out."""

import asyncio
import json
import math
from typing import Any, Optional

import pytest

from orchestrator_sdk import Answer, ProgressReport, TaskContext, TaskRunner, WithUsage


def request(task_id: str, task_type: str = "echo", payload: Optional[dict[str, Any]] = None) -> str:
    return json.dumps({"task_id": task_id, "task_type": task_type, "payload": payload or {}, "requester_id": "orchestrator_agent"})


def counting(runner: TaskRunner, task_type: str) -> list[str]:
    """Registers a handler of `task_type` that answers {"n": <its call number>}; returns the task ids it ran."""
    calls: list[str] = []

    async def count(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
        calls.append(ctx.task_id)
        return {"n": len(calls)}

    runner.handle(task_type, count)
    return calls


def sent(answer: Optional[Answer]) -> dict[str, Any]:
    assert answer is not None
    body: dict[str, Any] = json.loads(answer.body)
    return body


async def test_answers_with_a_task_response_holding_the_result() -> None:
    runner = TaskRunner("test_agent", 8)

    async def echo(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
        return {"got": payload["x"], "task_id": ctx.task_id, "requester": ctx.requester_id, "attempt": ctx.attempt}

    runner.handle("echo", echo)
    answer = await runner.run(request("t-1", payload={"x": 42}), {"Orchestrator-Attempt": "2", "traceparent": "00-abc-def-01"})
    body = sent(answer)
    assert list(body) == ["task_id", "status", "success", "result", "error", "completed_at"]
    assert body["status"] == "COMPLETED" and body["success"] is True and body["error"] is None
    assert body["result"] == {"got": 42, "task_id": "t-1", "requester": "orchestrator_agent", "attempt": 2}
    assert answer is not None and dict(answer.headers) == {"traceparent": "00-abc-def-01"}
    assert runner.stats.completed == 1 and runner.stats.held == 0 and runner.stats.in_flight == 0


@pytest.mark.parametrize(
    ("data", "task_id", "error"),
    [
        ("not json", "", "message: is not valid JSON"),
        ("[1,2]", "", "request: must be a JSON object"),
        (json.dumps({"task_type": "echo"}), "", "task_id: is required"),
        (json.dumps({"task_id": "bad-1", "task_type": "Not Valid"}), "bad-1", "task_type: must match"),
        (json.dumps({"task_id": "bad-2", "task_type": "echo", "payload": "text"}), "bad-2", "payload: must be a JSON object"),
    ],
)
async def test_answers_a_malformed_message_with_failed_naming_the_field(data: str, task_id: str, error: str) -> None:
    runner = TaskRunner("test_agent", 8)
    calls = counting(runner, "echo")
    body = sent(await runner.run(data))
    assert body["task_id"] == task_id and body["status"] == "FAILED" and body["success"] is False and body["result"] is None
    assert error in body["error"]
    assert calls == [] and runner.stats.failed == 1


async def test_says_when_it_has_no_handler_for_the_task_type() -> None:
    runner = TaskRunner("test_agent", 8)
    body = sent(await runner.run(request("t-1", "other")))
    assert body["error"] == "agent test_agent has no handler for task_type other"


def test_refuses_a_bad_task_type_or_a_handler_that_is_not_async() -> None:
    runner = TaskRunner("test_agent", 8)

    async def ok(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
        return {}

    with pytest.raises(ValueError, match="does not match"):
        runner.handle("Bad Type", ok)
    with pytest.raises(TypeError, match="must be an async function"):
        runner.handle("sync", lambda ctx, payload: {})  # type: ignore[arg-type,return-value]


async def test_fails_the_task_with_the_error_the_handler_raised() -> None:
    runner = TaskRunner("test_agent", 8)

    async def down(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("the model is down")

    async def missing(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
        return {"topic": payload["topic"]}

    async def long(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
        raise ValueError("x" * 5_000)

    runner.handle("down", down)
    runner.handle("missing", missing)
    runner.handle("long", long)
    assert sent(await runner.run(request("a", "down")))["error"] == "the model is down"
    assert sent(await runner.run(request("b", "missing")))["error"] == "KeyError: 'topic'"
    assert len(sent(await runner.run(request("c", "long")))["error"]) == 2_001
    assert runner.stats.failed == 3


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("text", "returned str, not a JSON object (dict)"),
        (None, "returned None, not a JSON object (dict)"),
        ([1, 2], "returned list, not a JSON object (dict)"),
        ({"x": math.nan}, "result is not JSON"),
        ({"x": object()}, "result is not JSON"),
        ({"x": "\ud800"}, "result is not JSON"),
    ],
)
async def test_fails_a_task_whose_handler_returns_what_is_not_a_json_object(value: object, error: str) -> None:
    runner = TaskRunner("test_agent", 8)

    async def odd(ctx: TaskContext, payload: dict[str, Any]) -> Any:
        return value

    runner.handle("odd", odd)
    body = sent(await runner.run(request("t-odd", "odd")))
    assert body["status"] == "FAILED" and error in body["error"]


async def test_answers_a_repeated_task_id_with_the_same_bytes_without_running_again() -> None:
    runner = TaskRunner("test_agent", 8)
    calls = counting(runner, "echo")
    first = await runner.run(request("t-1"))
    again = await runner.run(request("t-1"))
    assert first is not None and again is not None and again.body == first.body
    assert calls == ["t-1"] and runner.stats.duplicates == 1 and runner.stats.received == 2


async def test_ignores_a_repeat_of_a_task_still_running_and_answers_the_original_once() -> None:
    runner = TaskRunner("test_agent", 8)
    gate = asyncio.Event()

    async def slow(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
        await gate.wait()
        return {"done": True}

    runner.handle("echo", slow)
    original = asyncio.create_task(runner.run(request("t-1")))
    await asyncio.sleep(0)
    assert await runner.run(request("t-1")) is None
    gate.set()
    assert sent(await original)["result"] == {"done": True}
    assert runner.stats.duplicates == 1


async def test_runs_at_most_max_concurrency_handlers_the_others_waiting_in_order() -> None:
    runner = TaskRunner("test_agent", 2)
    gates: dict[str, asyncio.Event] = {}
    started: list[str] = []

    async def slow(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
        started.append(ctx.task_id)
        gates[ctx.task_id] = asyncio.Event()
        await gates[ctx.task_id].wait()
        return {"id": ctx.task_id}

    runner.handle("echo", slow)
    runs = [asyncio.create_task(runner.run(request(f"t-{i}"))) for i in range(1, 6)]
    await asyncio.sleep(0.01)
    assert started == ["t-1", "t-2"]
    assert runner.stats.in_flight == 2 and runner.stats.held == 5
    gates["t-2"].set()
    await asyncio.sleep(0.01)
    assert started == ["t-1", "t-2", "t-3"]
    while len(started) < 5 or not all(gate.is_set() for gate in gates.values()):
        for gate in list(gates.values()):
            gate.set()
        await asyncio.sleep(0.01)
    bodies = [sent(answer) for answer in await asyncio.gather(*runs)]
    assert [b["status"] for b in bodies] == ["COMPLETED"] * 5
    assert runner.stats.max_in_flight_seen == 2 and runner.stats.max_held_seen == 5 and runner.stats.held == 0


async def test_cancelling_a_running_task_reaches_the_handler() -> None:
    runner = TaskRunner("test_agent", 8)
    seen: list[str] = []

    async def slow(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            seen.append(f"cancelled={ctx.cancelled}")
            raise
        return {}

    runner.handle("echo", slow)
    run = asyncio.create_task(runner.run(request("t-1")))
    await asyncio.sleep(0.01)
    assert runner.cancel("t-1") == "running"
    body = sent(await run)
    assert body["status"] == "CANCELLED" and body["error"] == "cancelled while running"
    assert seen == ["cancelled=True"] and runner.stats.cancelled == 1


async def test_a_handler_that_ignores_the_cancel_is_still_answered_cancelled() -> None:
    runner = TaskRunner("test_agent", 8)

    async def stubborn(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            pass
        return {"finished": True}

    runner.handle("echo", stubborn)
    run = asyncio.create_task(runner.run(request("t-1")))
    await asyncio.sleep(0.01)
    runner.cancel("t-1")
    assert sent(await run)["status"] == "CANCELLED"


@pytest.mark.parametrize("swallows", [False, True])
async def test_the_task_that_ran_a_cancelled_handler_goes_on_unharmed(swallows: bool) -> None:
    runner = TaskRunner("test_agent", 8)

    async def slow(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            if not swallows:
                raise
        return {}

    runner.handle("echo", slow)

    async def run_then_go_on() -> tuple[dict[str, Any], int]:
        body = sent(await runner.run(request("t-1")))
        await asyncio.sleep(0.01)  # raises if a cancel were still pending on this task
        task = asyncio.current_task()
        cancelling = getattr(task, "cancelling", None)  # Python 3.11+: the requests it still counts
        return body, cancelling() if cancelling is not None else 0

    task = asyncio.create_task(run_then_go_on())
    await asyncio.sleep(0.01)
    assert runner.cancel("t-1") == "running"
    body, cancels_left = await task
    assert body["status"] == "CANCELLED" and cancels_left == 0


async def test_cancelling_a_waiting_task_answers_it_without_running_it() -> None:
    runner = TaskRunner("test_agent", 1)
    gate = asyncio.Event()
    started: list[str] = []

    async def slow(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
        started.append(ctx.task_id)
        await gate.wait()
        return {}

    runner.handle("echo", slow)
    first = asyncio.create_task(runner.run(request("t-1")))
    second = asyncio.create_task(runner.run(request("t-2")))
    await asyncio.sleep(0.01)
    assert runner.cancel("t-2") == "waiting"
    assert sent(await second)["error"] == "cancelled before it started"
    gate.set()
    assert sent(await first)["status"] == "COMPLETED"
    assert started == ["t-1"]


async def test_a_cancel_that_comes_first_stops_the_task_when_it_arrives() -> None:
    runner = TaskRunner("test_agent", 1)
    calls = counting(runner, "echo")
    assert runner.cancel("t-early") == "unknown"
    body = sent(await runner.run(request("t-early")))
    assert body["status"] == "CANCELLED" and calls == []


async def test_progress_goes_to_the_sink_clamped_and_stops_after_the_answer() -> None:
    reports: list[ProgressReport] = []

    async def sink(report: ProgressReport) -> None:
        reports.append(report)

    runner = TaskRunner("test_agent", 8, progress_sink=sink)
    kept: list[TaskContext] = []

    async def work(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
        kept.append(ctx)
        await ctx.progress(0.25, "a quarter")
        await ctx.progress(7)
        await ctx.progress(-0.5, "backwards")
        with pytest.raises(ValueError, match="fraction: must be a number"):
            await ctx.progress(math.nan)
        return {}

    runner.handle("echo", work)
    await runner.run(request("t-1"))
    await kept[0].progress(0.9, "too late")
    assert [(r.task_id, r.fraction, r.message) for r in reports] == [
        ("t-1", 0.25, "a quarter"),
        ("t-1", 1.0, None),
        ("t-1", 0.0, "backwards"),
    ]


async def test_sends_what_a_handler_says_its_work_cost_and_fails_a_usage_that_is_not_one() -> None:
    runner = TaskRunner("test_agent", 8)

    async def metered(ctx: TaskContext, payload: dict[str, Any]) -> WithUsage:
        return WithUsage({"ok": True}, payload["usage"])

    runner.handle("metered", metered)
    good = sent(await runner.run(request("u-1", "metered", {"usage": {"input_tokens": 120, "output_tokens": 30, "cost": 0.002, "note": "ignored"}})))
    assert good["status"] == "COMPLETED" and good["result"] == {"ok": True}
    assert good["usage"] == {"input_tokens": 120, "output_tokens": 30, "cost": 0.002}
    bad = sent(await runner.run(request("u-2", "metered", {"usage": {"tokens": -3}})))
    assert bad["status"] == "FAILED" and bad["error"] == "handler of metered returned usage.tokens: must be a non-negative number"
    assert "usage" not in bad
