"""The transport-free core of an agent: turns one incoming message into the answer to send."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Awaitable, Callable, Mapping, Optional, Union

from pydantic import BaseModel, ValidationError

from .answer_cache import AnswerCache
from .context import ProgressSink, TaskContext
from .limiter import ConcurrencyLimiter, JobDropped
from .models import TaskResponse, TaskStatus, Usage, validation_error_text
from .names import ATTEMPT_HEADER, assert_task_type
from .wire_request import read_task_request

@dataclass(frozen=True)
class WithUsage:
    """What a handler returns to say what its work cost beside its result: sent as the answer's ``usage``."""

    result: Union[Mapping[str, Any], BaseModel]
    #: ``tokens``, ``input_tokens``, ``output_tokens``, ``cost``: non-negative numbers.
    usage: Union[Usage, Mapping[str, Any]]


#: A handler gets the context and the payload and returns the result: a dict (or a pydantic model), or a WithUsage.
Handler = Callable[[TaskContext, dict[str, Any]], Awaitable[Union[Mapping[str, Any], BaseModel, WithUsage]]]

MAX_ERROR_LENGTH = 2_000
_TRACE_HEADER_PREFIXES = ("traceparent", "tracestate")


@dataclass(frozen=True)
class Answer:
    """What to send back: the response, its JSON bytes, and the headers to put on the message."""

    response: TaskResponse
    body: bytes
    headers: Mapping[str, str]


@dataclass
class AgentStats:
    received: int = 0
    completed: int = 0
    #: FAILED answers: bad messages, unknown task types and handlers that raised.
    failed: int = 0
    cancelled: int = 0
    #: Repeated deliveries of a task id already answered (answered again) or still held (ignored).
    duplicates: int = 0
    #: Handlers running now.
    in_flight: int = 0
    max_in_flight_seen: int = 0
    #: Tasks taken and not yet answered (running, or waiting for a free handler).
    held: int = 0
    max_held_seen: int = 0


class _HandlerCancelled(Exception):
    """The handler's asyncio task was cancelled because the sub-task was."""


@dataclass
class _Held:
    ctx: TaskContext
    #: The task running the handler, while it runs.
    task: Optional[asyncio.Task[Any]] = field(default=None)
    #: The sub-task's cancel was passed on to `task`.
    cancel_sent: bool = False


_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


def _uncancel(task: Optional[asyncio.Task[Any]]) -> None:
    """Takes back the cancel request the runner made, once the handler has seen it (Python 3.11+
    counts them: an `asyncio.timeout` of the caller's would count it too)."""
    uncancel = getattr(task, "uncancel", None)
    if uncancel is not None:
        uncancel()


class TaskRunner:
    """Runs at most `max_concurrency` handlers at once (the rest wait in arrival order), answers a
    repeated task id with the answer already given, and cancels running or waiting tasks."""

    def __init__(
        self,
        agent_name: str,
        max_concurrency: int,
        *,
        answer_cache_size: int = 10_000,
        progress_sink: Optional[ProgressSink] = None,
        logger: Optional[logging.Logger] = None,
    ) -> None:
        self.agent_name = agent_name
        self.stats = AgentStats()
        self._limiter = ConcurrencyLimiter(max_concurrency)
        self._handlers: dict[str, Handler] = {}
        self._answers: AnswerCache[Answer] = AnswerCache(answer_cache_size)
        # Cancels that came before their task, remembered so that the task is not run when it arrives.
        self._cancelled_early: AnswerCache[bool] = AnswerCache(1_000)
        self._held: dict[str, _Held] = {}
        self._progress_sink = progress_sink
        self._logger = logger or logging.getLogger(f"orchestrator_sdk.agent.{agent_name}")

    @property
    def max_concurrency(self) -> int:
        return self._limiter.limit

    @property
    def capabilities(self) -> list[str]:
        return list(self._handlers)

    def handle(self, task_type: str, handler: Handler) -> None:
        assert_task_type(task_type)
        if not inspect.iscoroutinefunction(handler) and not inspect.iscoroutinefunction(getattr(handler, "__call__", None)):
            raise TypeError(f"handler of {task_type}: must be an async function (async def), got {handler!r}")
        self._handlers[task_type] = handler

    async def run(self, data: Union[bytes, str], incoming_headers: Optional[Mapping[str, str]] = None) -> Optional[Answer]:
        """The answer to one message, or None when it repeats a task that is still being worked on.

        The handler runs in the task that calls this (no task of its own, which would cost the
        event loop two more turns per sub-task); a cancel of the sub-task cancels that task while
        the handler runs, and the CancelledError that reaches the handler stops here.
        """
        self.stats.received += 1
        incoming = incoming_headers or _NO_HEADERS
        reply_headers = _trace_headers(incoming)
        try:
            body = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            return self._reject("", "message: is not valid JSON", reply_headers)
        request = read_task_request(body)
        if isinstance(request, ValidationError):
            raw_id = body.get("task_id") if isinstance(body, dict) else None
            return self._reject(raw_id[:256] if isinstance(raw_id, str) else "", validation_error_text(request), reply_headers)

        task_id = request.task_id
        earlier = self._answers.get(task_id)
        if earlier is not None or task_id in self._held:
            self.stats.duplicates += 1
            return earlier
        handler = self._handlers.get(request.task_type)
        if handler is None:
            return self._reject(task_id, f"agent {self.agent_name} has no handler for task_type {request.task_type}", reply_headers)
        if self._cancelled_early.delete(task_id):
            return self._finish(task_id, TaskResponse.failed(task_id, "cancelled before it started", TaskStatus.CANCELLED), reply_headers)

        ctx = TaskContext(
            task_id=task_id,
            task_type=request.task_type,
            requester_id=request.requester_id,
            attempt=_attempt_of(incoming),
            headers=incoming,
            progress_sink=self._progress_sink,
            logger=self._logger,
        )
        held = _Held(ctx)
        self._held[task_id] = held
        self.stats.held += 1
        if self.stats.held > self.stats.max_held_seen:
            self.stats.max_held_seen = self.stats.held
        try:
            result = await self._limiter.run(task_id, lambda: self._invoke(handler, request.payload, held))
            if ctx.cancelled:
                response = TaskResponse.failed(task_id, "cancelled while running", TaskStatus.CANCELLED)
            else:
                response = self._result_response(task_id, request.task_type, result)
        except JobDropped:
            response = TaskResponse.failed(task_id, "cancelled before it started", TaskStatus.CANCELLED)
        except _HandlerCancelled:
            response = TaskResponse.failed(task_id, "cancelled while running", TaskStatus.CANCELLED)
        except Exception as error:
            if ctx.cancelled:
                response = TaskResponse.failed(task_id, f"cancelled while running: {_error_text(error)}", TaskStatus.CANCELLED)
            else:
                response = TaskResponse.failed(task_id, _error_text(error))
                self._logger.warning("task %s (%s) failed: %s", task_id, request.task_type, response.error)
        finally:
            ctx._finish()
            del self._held[task_id]
            self.stats.held -= 1
        return self._finish(task_id, response, reply_headers)

    def cancel(self, task_id: str) -> str:
        """Cancels a task: a running one has its context and its handler cancelled (its answer
        follows when the handler returns), a waiting one is answered CANCELLED without running, an
        unknown one is remembered. Returns "running", "waiting" or "unknown"."""
        held = self._held.get(task_id)
        if held is None:
            if task_id not in self._answers:
                self._cancelled_early.set(task_id, True)
            return "unknown"
        if self._limiter.drop(task_id):
            return "waiting"
        held.ctx._cancel()
        # Cancelling the task that runs this very code would raise at its next await, which may
        # come after the handler; a handler cancelling itself sees `ctx.cancelled` instead.
        if held.task is not None and held.task is not asyncio.current_task():
            held.cancel_sent = True
            held.task.cancel()
        return "running"

    async def _invoke(self, handler: Handler, payload: dict[str, Any], held: _Held) -> Any:
        if held.ctx.cancelled:  # cancelled between its turn and its start
            raise JobDropped(held.ctx.task_id)
        self.stats.in_flight += 1
        if self.stats.in_flight > self.stats.max_in_flight_seen:
            self.stats.max_in_flight_seen = self.stats.in_flight
        held.task = asyncio.current_task()
        try:
            return await handler(held.ctx, payload)
        except asyncio.CancelledError:
            if not held.cancel_sent:
                raise  # the caller's task is cancelled, not the sub-task
            raise _HandlerCancelled() from None
        finally:
            held.task = None
            self.stats.in_flight -= 1
            if held.cancel_sent:
                _uncancel(asyncio.current_task())

    def _result_response(self, task_id: str, task_type: str, result: object) -> TaskResponse:
        usage: Optional[Usage] = None
        if isinstance(result, WithUsage):
            try:
                usage = Usage.model_validate(result.usage.model_dump() if isinstance(result.usage, BaseModel) else result.usage)
            except ValidationError as error:
                text = _usage_problem(error)
                self._logger.error("handler of %s returned a usage that is not one (task %s): %s", task_type, task_id, text)
                return TaskResponse.failed(task_id, f"handler of {task_type} returned {text}")
            result = result.result
        if isinstance(result, BaseModel):
            result = result.model_dump(mode="json")
        if not isinstance(result, dict):
            what = "None" if result is None else type(result).__name__
            self._logger.error("handler of %s returned %s, not a dict (task %s)", task_type, what, task_id)
            return TaskResponse.failed(task_id, f"handler of {task_type} returned {what}, not a JSON object (dict)")
        return TaskResponse.completed(task_id, result, usage)

    def _reject(self, task_id: str, error: str, headers: Mapping[str, str]) -> Answer:
        self._logger.warning("rejected a message%s: %s", f" for task {task_id}" if task_id else "", error)
        return self._encode(TaskResponse.failed(task_id, _truncate(error)), headers)

    def _finish(self, task_id: str, response: TaskResponse, headers: Mapping[str, str]) -> Answer:
        answer = self._encode(response, headers)
        self._answers.set(task_id, answer)
        return answer

    def _encode(self, response: TaskResponse, headers: Mapping[str, str]) -> Answer:
        try:
            body = _json_bytes(response.wire())
        except (TypeError, ValueError, RecursionError) as error:
            response = TaskResponse.failed(response.task_id, f"result is not JSON: {_error_text(error)}")
            body = _json_bytes(response.wire())
        self._count(response.status)
        return Answer(response=response, body=body, headers=headers)

    def _count(self, status: TaskStatus) -> None:
        if status is TaskStatus.COMPLETED:
            self.stats.completed += 1
        elif status is TaskStatus.CANCELLED:
            self.stats.cancelled += 1
        else:
            self.stats.failed += 1


def _usage_problem(error: ValidationError) -> str:
    """What is wrong with a usage, worded as the orchestrator words it."""
    first = error.errors(include_url=False)[0]
    fields = [str(part) for part in first["loc"]]
    if not fields:
        return "usage: must be an object with tokens, input_tokens, output_tokens or cost"
    return f"usage.{'.'.join(fields)}: must be a non-negative number"


def _json_bytes(value: object) -> bytes:
    # allow_nan=False: NaN and Infinity are not JSON; an unpaired surrogate fails the UTF-8 encoding.
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def _trace_headers(incoming: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in incoming.items() if key.lower().startswith(_TRACE_HEADER_PREFIXES)}


def _attempt_of(incoming: Mapping[str, str]) -> Optional[int]:
    for key, value in incoming.items():
        if key.lower() == ATTEMPT_HEADER.lower():
            try:
                attempt = int(value)
            except ValueError:
                return None
            return attempt if attempt > 0 else None
    return None


def _error_text(error: BaseException) -> str:
    text = str(error)
    # A KeyError's text is only the key's repr: say what it was.
    if not text or isinstance(error, KeyError):
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return _truncate(text)


def _truncate(text: str) -> str:
    return text[:MAX_ERROR_LENGTH] + "…" if len(text) > MAX_ERROR_LENGTH else text
