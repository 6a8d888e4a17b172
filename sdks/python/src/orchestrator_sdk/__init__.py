"""Python agents and clients of the orchestrator, over NATS with the platform's plain JSON contract.

An agent::

    from orchestrator_sdk import Agent, TaskContext

    agent = Agent("reviewer", agent_type="utility", max_concurrency=4)

    @agent.task("review_draft")
    async def review(ctx: TaskContext, payload: dict) -> dict:
        await ctx.progress(0.5, "reading")
        return {"approved": True}

    agent.run()

A client::

    async with OrchestratorClient() as client:
        response = await client.submit("create_blog_post", {"topic": "Graphs"})
        await client.approve("post-1", comment="Ship it")       # a workflow waiting for a person
        await client.publish_event("payment.received", {"invoice_id": "inv-1"})
"""

from .agent import Agent
from .answer_cache import AnswerCache
from .client import (
    InvalidResponseError,
    OrchestratorClient,
    OrchestratorError,
    OrchestratorUnavailableError,
    SignalRefusedError,
    SubmitTimeoutError,
)
from .context import TaskContext
from .lifecycle import serve
from .limiter import ConcurrencyLimiter, JobDropped
from .models import (
    AgentAnnouncement,
    AgentLoad,
    Budget,
    ProgressReport,
    SignalReply,
    SignalStatus,
    TaskPriority,
    TaskRequest,
    TaskResponse,
    TaskStatus,
    Usage,
    validation_error_text,
)
from .names import (
    ATTEMPT_HEADER,
    InvalidNameError,
    agent_cancel_subject,
    agent_progress_subject,
    agent_response_subject,
    agent_task_subject,
)
from .runner import AgentStats, Answer, Handler, TaskRunner, WithUsage

__all__ = [
    "ATTEMPT_HEADER",
    "Agent",
    "AgentAnnouncement",
    "AgentLoad",
    "AgentStats",
    "Answer",
    "AnswerCache",
    "ConcurrencyLimiter",
    "Handler",
    "InvalidNameError",
    "InvalidResponseError",
    "JobDropped",
    "OrchestratorClient",
    "OrchestratorError",
    "OrchestratorUnavailableError",
    "ProgressReport",
    "SignalRefusedError",
    "SignalReply",
    "SignalStatus",
    "SubmitTimeoutError",
    "TaskContext",
    "TaskPriority",
    "TaskRequest",
    "TaskResponse",
    "TaskRunner",
    "TaskStatus",
    "Usage",
    "Budget",
    "WithUsage",
    "agent_cancel_subject",
    "agent_progress_subject",
    "agent_response_subject",
    "agent_task_subject",
    "serve",
    "validation_error_text",
]
