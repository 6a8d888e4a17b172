"""An agent of the platform over NATS: the Python counterpart of the Node SDK's Agent (libs/agent-sdk)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any, Callable, Literal, Optional, Sequence, TypeVar

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from .connection import NatsLogin, connect, servers_from
from .models import AgentAnnouncement, AgentLoad, ProgressReport, TaskResponse, now_seconds
from .names import (
    agent_announcement_subject,
    agent_cancel_subject,
    agent_progress_subject,
    agent_response_subject,
    agent_task_subject,
    assert_agent_name,
    assert_task_type,
)
from .runner import AgentStats, Answer, Handler, TaskRunner

H = TypeVar("H", bound=Handler)



async def _subscribed(nc: NATS) -> None:
    """Returns once the server has taken the (un)subscriptions made so far on `nc`.

    nats-py's flush() writes its PING straight to the socket, ahead of the commands it still
    buffers, so its PONG alone proves nothing; the buffer is written first. (A message to an
    inbox of our own would prove it too, but an agent's NATS user may subscribe to nothing but
    its task and cancel subjects.)
    """
    write_buffered = getattr(nc, "_flush_pending", None)
    if write_buffered is not None:
        await write_buffered(force_flush=True)
    await nc.flush()


class Agent:
    """Takes sub-tasks on ``agent.<name>.task`` (one queue group per name), runs the handler of
    their ``task_type``, answers with a TaskResponse, announces itself and sends heartbeats with
    its load::

        agent = Agent("reviewer", agent_type="utility", max_concurrency=4)

        @agent.task("review_draft")
        async def review(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
            return {"approved": True}

        agent.run()  # until SIGINT/SIGTERM, then drains

    Delivery is at least once: a task id seen again gets the answer already given, and a repeat
    of one still running is ignored.
    """

    def __init__(
        self,
        name: str,
        *,
        agent_type: str = "generic",
        capabilities: Optional[Sequence[str]] = None,
        max_concurrency: int = 8,
        nats_url: Optional[str] = None,
        connection: Optional[NATS] = None,
        heartbeat_interval: float = 5.0,
        answer_by: Literal["reply", "publish"] = "reply",
        instance_id: Optional[str] = None,
        answer_cache_size: int = 10_000,
        logger: Optional[logging.Logger] = None,
        user: Optional[str] = None,
        password: Optional[str] = None,
        inbox_prefix: Optional[str] = None,
    ) -> None:
        """
        :param capabilities: the task types to announce; default those with a handler. Each needs a handler by ``start()``.
        :param max_concurrency: handlers running at once; more tasks wait in arrival order.
        :param nats_url: comma-separated servers; default ``$NATS_URL``, else nats://127.0.0.1:4222.
        :param connection: a connection to share; the agent then neither opens nor closes one.
        :param answer_by: ``reply`` answers on the message's reply subject when it has one;
            ``publish`` always on ``agent.<name>.response``.
        :param answer_cache_size: answered task ids remembered to recognise repeated deliveries.
        :param user: the NATS user of the connection the agent opens (under deploy/nats/permissions.conf,
            the agent's name), with ``password``.
        :param inbox_prefix: the prefix of that connection's inboxes; default ``_INBOX``.
        """
        self._login = NatsLogin(user, password, inbox_prefix)
        self.name = assert_agent_name(name)
        if not isinstance(agent_type, str) or not 1 <= len(agent_type) <= 64:
            raise ValueError(f"agent_type: must be 1 to 64 characters, got {agent_type!r}")
        if isinstance(heartbeat_interval, bool) or not isinstance(heartbeat_interval, (int, float)) or not heartbeat_interval > 0:
            raise ValueError(f"heartbeat_interval: must be a positive number of seconds, got {heartbeat_interval!r}")
        if answer_by not in ("reply", "publish"):
            raise ValueError(f"answer_by: must be 'reply' or 'publish', got {answer_by!r}")
        self.agent_type = agent_type
        self.instance_id = instance_id or str(uuid.uuid4())
        self._declared = [assert_task_type(c, "capabilities") for c in capabilities] if capabilities is not None else None
        self._nats_url = servers_from(nats_url)
        self._shared = connection
        self._heartbeat_interval = float(heartbeat_interval)
        self._answer_by = answer_by
        self._logger = logger or logging.getLogger(f"orchestrator_sdk.agent.{self.name}")
        self._runner = TaskRunner(
            self.name,
            max_concurrency,
            answer_cache_size=answer_cache_size,
            progress_sink=self._publish_progress,
            logger=self._logger,
        )
        self._nc: Optional[NATS] = None
        self._tasks: Optional[Subscription] = None
        self._cancels: Optional[Subscription] = None
        self._heartbeat: Optional[asyncio.Task[None]] = None
        self._pending: set[asyncio.Task[None]] = set()
        self._stopping: Optional[asyncio.Future[None]] = None

    # -- handlers ---------------------------------------------------------------------------

    def task(self, task_type: str) -> Callable[[H], H]:
        """Decorator: registers an ``async def handler(ctx, payload)`` for ``task_type``."""

        def register(handler: H) -> H:
            self._runner.handle(task_type, handler)
            return handler

        return register

    def handle(self, task_type: str, handler: Handler) -> Agent:
        """Registers the handler of a task type (the same as the decorator)."""
        self._runner.handle(task_type, handler)
        return self

    @property
    def capabilities(self) -> list[str]:
        return list(self._declared) if self._declared is not None else self._runner.capabilities

    @property
    def max_concurrency(self) -> int:
        return self._runner.max_concurrency

    @property
    def stats(self) -> AgentStats:
        return self._runner.stats

    @property
    def started(self) -> bool:
        return self._nc is not None

    @property
    def accepting_tasks(self) -> bool:
        """Subscribed to its task subject: false before start, and once stop has unsubscribed it."""
        return self._tasks is not None

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribes, announces the agent on its own subject (platform.events.agent.<name>.registered,
        which a permissions file grants to this agent alone) and starts heartbeats (...heartbeat)."""
        if self._nc is not None:
            raise RuntimeError(f"agent {self.name} is already started")
        missing = [c for c in self.capabilities if c not in self._runner.capabilities]
        if missing:
            raise ValueError(f"capabilities: {', '.join(missing)} of agent {self.name} ha{'s' if len(missing) == 1 else 've'} no handler")
        if not self.capabilities:
            self._logger.warning("starting with no handler registered")
        nc = self._shared or await connect(
            self._nats_url,
            f"{self.name}:{self.instance_id}",
            logger=self._logger,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
            login=self._login,
        )
        self._nc = nc
        self._stopping = None
        try:
            self._tasks = await nc.subscribe(agent_task_subject(self.name), queue=self.name, cb=self._on_task)
            self._cancels = await nc.subscribe(agent_cancel_subject(self.name), cb=self._on_cancel)
            await _subscribed(nc)
        except BaseException:
            await self.stop()
            raise
        await self._announce("registered")
        self._heartbeat = asyncio.create_task(self._beat())
        self._logger.info(
            "started (instance %s, task types: %s)", self.instance_id, ", ".join(self.capabilities) or "none"
        )

    async def stop(self) -> None:
        """Stops taking tasks, lets the ones already taken finish and answer (they can still be
        cancelled meanwhile), then closes the agent's own connection or flushes a shared one."""
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._shutdown())
        await asyncio.shield(self._stopping)

    async def __aenter__(self) -> Agent:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    async def serve(self) -> None:
        """Starts, runs until SIGINT or SIGTERM, then stops cleanly (see :func:`serve`)."""
        from .lifecycle import serve

        await serve(self)

    def run(self) -> None:
        """``asyncio.run(agent.serve())``: the whole life of a program that is one agent.

        A NATS server that cannot be reached at start ends the program with one line naming it,
        rather than a traceback.
        """
        try:
            asyncio.run(self.serve())
        except ConnectionError as error:
            raise SystemExit(f"{self.name}: {error}; set NATS_URL to the platform's NATS (npm run demo: nats://127.0.0.1:14222)") from None

    async def _shutdown(self) -> None:
        nc = self._nc
        if nc is None:
            return
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None
        if self._tasks is not None and not nc.is_closed:
            try:
                await self._tasks.drain()  # type: ignore[no-untyped-call]
                await _subscribed(nc)  # the server has taken the unsubscription too
            except Exception as error:
                self._logger.warning("draining the task subscription: %s", error)
        self._tasks = None
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        if self._cancels is not None and not nc.is_closed:
            try:
                await self._cancels.unsubscribe()
            except Exception as error:
                self._logger.warning("leaving the cancel subject: %s", error)
        self._cancels = None
        if not nc.is_closed:
            try:
                if self._shared is not None:
                    await nc.flush()
                else:
                    await nc.drain()
            except Exception as error:
                self._logger.warning("closing the connection: %s", error)
        self._nc = None
        self._logger.info("stopped")

    # -- messages ---------------------------------------------------------------------------

    async def _on_task(self, msg: Msg) -> None:
        # The client calls this once per message, in order: hand the work to a task of its own.
        work = asyncio.create_task(self._work(msg))
        self._pending.add(work)
        work.add_done_callback(self._pending.discard)

    async def _work(self, msg: Msg) -> None:
        try:
            answer = await self._runner.run(msg.data, msg.headers or {})
            if answer is not None:
                await self._send(msg, answer)
        except Exception as error:
            self._logger.error("task message on %s: %s", msg.subject, error)

    async def _on_cancel(self, msg: Msg) -> None:
        try:
            body: Any = json.loads(msg.data)
        except (ValueError, UnicodeDecodeError):
            self._logger.warning("ignored a cancel message that is not JSON")
            return
        task_id = body.get("task_id") if isinstance(body, dict) else None
        if not isinstance(task_id, str) or not task_id:
            self._logger.warning("ignored a cancel message without a task_id")
            return
        found = self._runner.cancel(task_id)
        if found != "unknown":
            self._logger.info("cancelled %s task %s", found, task_id)

    async def _send(self, msg: Msg, answer: Answer) -> None:
        nc = self._nc
        task_id = answer.response.task_id
        if nc is None or nc.is_closed:
            self._logger.warning("connection closed, answer to task %s not sent", task_id)
            return
        body = answer.body
        max_payload = nc.max_payload
        if max_payload and len(body) > max_payload:
            error = f"answer of {len(body)} bytes exceeds the server's max_payload of {max_payload} bytes"
            self._logger.error("task %s: %s", task_id, error)
            body = json.dumps(TaskResponse.failed(task_id, error).wire()).encode()
        headers = dict(answer.headers) or None
        subject = msg.reply if msg.reply and self._answer_by == "reply" else agent_response_subject(self.name)
        try:
            await nc.publish(subject, body, headers=headers)
        except Exception as error:
            self._logger.error("answer to task %s not sent: %s", task_id, error)

    async def _publish_progress(self, report: ProgressReport) -> None:
        nc = self._nc
        if nc is None or nc.is_closed:
            return
        body = report.model_dump(mode="json", exclude_none=True)
        await nc.publish(agent_progress_subject(self.name), json.dumps(body, ensure_ascii=False).encode("utf-8"))

    async def _announce(self, kind: Literal["registered", "heartbeat"]) -> None:
        subject = agent_announcement_subject(self.name, kind)
        nc = self._nc
        if nc is None or nc.is_closed or nc.is_draining:
            return
        announcement = AgentAnnouncement(
            name=self.name,
            instance_id=self.instance_id,
            agent_type=self.agent_type,
            capabilities=self.capabilities,
            load=AgentLoad(in_flight=self.stats.held, max_concurrency=self.max_concurrency),
            ts=now_seconds(),
        )
        try:
            await nc.publish(subject, announcement.model_dump_json().encode("utf-8"))
        except Exception as error:
            self._logger.warning("announcement on %s not sent: %s", subject, error)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_interval)
            await self._announce("heartbeat")

    async def _on_disconnected(self) -> None:
        if self._stopping is None:  # closing our own connection at stop disconnects it too
            self._logger.warning("disconnected from NATS, reconnecting")

    async def _on_reconnected(self) -> None:
        self._logger.info("reconnected to NATS")
        await self._announce("registered")
