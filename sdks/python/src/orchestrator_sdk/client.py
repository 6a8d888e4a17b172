"""Submitting tasks to the orchestrator over NATS and waiting for their final answer."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any, Mapping, Optional, Union

from nats.aio.client import Client as NATS
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from pydantic import ValidationError

from .connection import connect, servers_from
from .models import SignalReply, SignalStatus, TaskPriority, TaskRequest, TaskResponse, now_seconds, validation_error_text
from .names import (
    APPROVAL_SIGNAL,
    EVENT_NAME_PATTERN,
    EXTERNAL_EVENT_PREFIX,
    ORCHESTRATOR_AGENT_NAME,
    SIGNAL_NAME_PATTERN,
    TASK_ID_PATTERN,
    assert_agent_name,
)

_logger = logging.getLogger("orchestrator_sdk.client")
#: Between two asks about a task the orchestrator says is still running.
STILL_RUNNING_POLL_SECONDS = 0.5


class OrchestratorError(Exception):
    """Base of the client's errors."""


class OrchestratorUnavailableError(OrchestratorError):
    """No orchestrator listens on the subject (NATS "no responders")."""


class SubmitTimeoutError(OrchestratorError, TimeoutError):
    """No final answer within the time the caller gave; the task may still be running."""


class InvalidResponseError(OrchestratorError):
    """The answer is not a TaskResponse."""


class SignalRefusedError(OrchestratorError):
    """The orchestrator refused a signal: ``code`` says why (``INVALID_PAYLOAD``, ``TASK_NOT_FOUND``,
    ``TASK_FINISHED``, ``NO_WAITING_STEP``, ``INVALID_REQUEST``), the message names the field."""

    def __init__(self, reply: SignalReply) -> None:
        super().__init__(reply.error or f"signal {reply.signal} refused")
        self.code = reply.code or "REJECTED"
        self.reply = reply


class OrchestratorClient:
    """Sends TaskRequests to the orchestrator (``agent.orchestrator_agent.task``) as NATS requests::

        async with OrchestratorClient() as client:
            response = await client.submit("create_blog_post", {"topic": "Graphs"})
            print(response.status, response.result)

    The orchestrator answers a request on its reply subject when the workflow ends, so ``submit``
    returns the final TaskResponse: COMPLETED, FAILED (bad input is answered at once, with an
    ``error`` naming the field) or CANCELLED.
    """

    def __init__(
        self,
        nats_url: Optional[str] = None,
        *,
        connection: Optional[NATS] = None,
        orchestrator: str = ORCHESTRATOR_AGENT_NAME,
    ) -> None:
        """
        :param nats_url: comma-separated servers; default ``$NATS_URL``, else nats://127.0.0.1:4222.
        :param connection: a connection to share; the client then neither opens nor closes one.
        :param orchestrator: the orchestrator's agent name, when it runs under another.
        """
        self._nats_url = servers_from(nats_url)
        self._shared = connection
        self._nc: Optional[NATS] = connection
        name = assert_agent_name(orchestrator, "orchestrator")
        self.task_subject = f"agent.{name}.task"
        self.cancel_subject = f"agent.{name}.cancel"
        self.signal_subject = f"agent.{name}.signal"

    async def connect(self) -> None:
        if self._nc is None:
            self._nc = await connect(self._nats_url, "orchestrator-client", logger=_logger)

    async def close(self) -> None:
        if self._nc is not None and self._shared is None and not self._nc.is_closed:
            await self._nc.drain()
        self._nc = self._shared

    async def __aenter__(self) -> OrchestratorClient:
        await self.connect()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def submit(
        self,
        task_type: str,
        payload: Optional[Mapping[str, Any]] = None,
        *,
        task_id: Optional[str] = None,
        priority: Union[TaskPriority, str, None] = None,
        timeout: float = 300.0,
        task_timeout_ms: Optional[int] = None,
        not_before: Optional[float] = None,
    ) -> TaskResponse:
        """Submits a task and returns its final TaskResponse.

        :param task_id: default a new UUID; submitting the same request again is safe (the
            orchestrator does not run it twice).
        :param timeout: seconds to wait for the final answer (:class:`SubmitTimeoutError` after).
        :param task_timeout_ms: the task's own deadline, enforced by the orchestrator.
        :param not_before: seconds since the epoch: the orchestrator stores the task now and starts
            it then; the final answer comes after it has run (give a ``timeout`` long enough).
        :raises ValueError: the request breaks the contract (the message names the field).
        :raises OrchestratorUnavailableError: nobody listens on the orchestrator's subject.
        """
        fields: dict[str, Any] = {
            "task_id": task_id if task_id is not None else str(uuid.uuid4()),
            "task_type": task_type,
            "payload": dict(payload) if payload is not None else {},
            "created_at": now_seconds(),
        }
        if priority is not None:
            fields["priority"] = priority
        if task_timeout_ms is not None:
            fields["timeout_ms"] = task_timeout_ms
        if not_before is not None:
            fields["not_before"] = not_before
        try:
            request = TaskRequest.model_validate(fields)
        except ValidationError as error:
            raise ValueError(validation_error_text(error)) from None
        body = request.model_dump_json(exclude_none=True).encode("utf-8")

        deadline = time.monotonic() + timeout
        while True:
            response = await self._ask(self.task_subject, body, deadline, request.task_id)
            # A repeat of a task still running is answered with its state: ask again until it ends.
            if response.status.terminal:
                return response
            if time.monotonic() + STILL_RUNNING_POLL_SECONDS >= deadline:
                raise SubmitTimeoutError(f"task {request.task_id} is still {response.status.value} after {timeout} s")
            await asyncio.sleep(STILL_RUNNING_POLL_SECONDS)

    async def cancel(self, task_id: str, *, timeout: float = 10.0) -> TaskResponse:
        """Cancels a running task; returns its state (CANCELLED, or how it had already finished)."""
        body = json.dumps({"task_id": task_id}).encode("utf-8")
        return await self._ask(self.cancel_subject, body, time.monotonic() + timeout, task_id)

    async def signal(
        self,
        task_id: str,
        signal: str,
        payload: Optional[Mapping[str, Any]] = None,
        *,
        signal_id: Optional[str] = None,
        timeout: float = 10.0,
    ) -> SignalReply:
        """Sends a signal to a workflow: its step waiting for ``signal`` takes it, or it is kept for
        the step that will wait for it (in the order signals came, one per step).

        :param signal_id: makes a repeat recognisable: the same id twice for one workflow is taken
            once (the second answer has ``duplicate`` true).
        :raises SignalRefusedError: refused (a payload the step does not take, an unknown or
            finished task, no step waiting for that signal).
        """
        if not isinstance(task_id, str) or TASK_ID_PATTERN.fullmatch(task_id) is None:
            raise ValueError("task_id: must be 1 to 128 characters without whitespace")
        if SIGNAL_NAME_PATTERN.fullmatch(signal) is None:
            raise ValueError(f"signal: must match {SIGNAL_NAME_PATTERN.pattern}")
        fields: dict[str, Any] = {"task_id": task_id, "signal": signal, "payload": dict(payload) if payload is not None else {}}
        if signal_id is not None:
            fields["signal_id"] = signal_id
        msg = await self._request(self.signal_subject, json.dumps(fields).encode("utf-8"), timeout, task_id)
        try:
            reply = SignalReply.model_validate(json.loads(msg.data))
        except (ValueError, UnicodeDecodeError) as error:
            text = validation_error_text(error, "reply") if isinstance(error, ValidationError) else "is not valid JSON"
            raise InvalidResponseError(f"answer on {self.signal_subject} for task {task_id}: {text}") from None
        if reply.status is not SignalStatus.ACCEPTED:
            raise SignalRefusedError(reply)
        return reply

    async def approve(
        self, task_id: str, *, comment: Optional[str] = None, signal: str = APPROVAL_SIGNAL, signal_id: Optional[str] = None, timeout: float = 10.0
    ) -> SignalReply:
        """Approves a workflow waiting for a person: ``signal`` (default ``approval``) with ``{"approved": true, "comment"?}``."""
        return await self.signal(task_id, signal, _approval(True, comment), signal_id=signal_id, timeout=timeout)

    async def reject(
        self, task_id: str, *, comment: Optional[str] = None, signal: str = APPROVAL_SIGNAL, signal_id: Optional[str] = None, timeout: float = 10.0
    ) -> SignalReply:
        """Rejects it: ``{"approved": false, "comment"?}``."""
        return await self.signal(task_id, signal, _approval(False, comment), signal_id=signal_id, timeout=timeout)

    async def publish_event(self, name: str, event: Mapping[str, Any]) -> None:
        """Publishes an external event on ``platform.events.external.<name>``: every step waiting for
        it whose ``match`` fields it equals resumes. Nothing answers it."""
        if EVENT_NAME_PATTERN.fullmatch(name) is None:
            raise ValueError(f"name: must match {EVENT_NAME_PATTERN.pattern}")
        nc = self._connected()
        await nc.publish(f"{EXTERNAL_EVENT_PREFIX}.{name}", json.dumps(dict(event)).encode("utf-8"))
        await nc.flush()

    def _connected(self) -> NATS:
        if self._nc is None:
            raise OrchestratorError("the client is not connected: use `async with OrchestratorClient()` or await connect()")
        return self._nc

    async def _request(self, subject: str, body: bytes, timeout: float, task_id: str) -> Any:
        nc = self._connected()
        try:
            return await nc.request(subject, body, timeout=timeout)
        except NoRespondersError:
            raise OrchestratorUnavailableError(f"no orchestrator listens on {subject} (NATS: no responders)") from None
        except NatsTimeoutError:
            raise SubmitTimeoutError(f"no answer on {subject} for task {task_id} within {timeout} s") from None

    async def _ask(self, subject: str, body: bytes, deadline: float, task_id: str) -> TaskResponse:
        if self._nc is None:
            raise OrchestratorError("the client is not connected: use `async with OrchestratorClient()` or await connect()")
        left = deadline - time.monotonic()
        if left <= 0:
            raise SubmitTimeoutError(f"no final answer for task {task_id} in time")
        try:
            msg = await self._nc.request(subject, body, timeout=left)
        except NoRespondersError:
            raise OrchestratorUnavailableError(f"no orchestrator listens on {subject} (NATS: no responders)") from None
        except NatsTimeoutError:
            raise SubmitTimeoutError(
                f"no final answer for task {task_id} within the time given; it may still be running"
            ) from None
        try:
            return TaskResponse.model_validate(json.loads(msg.data))
        except (ValueError, UnicodeDecodeError) as error:
            text = validation_error_text(error, "response") if isinstance(error, ValidationError) else "is not valid JSON"
            raise InvalidResponseError(f"answer on {subject} for task {task_id}: {text}") from None


def _approval(approved: bool, comment: Optional[str]) -> dict[str, Any]:
    return {"approved": approved, **({"comment": comment} if comment is not None else {})}
