"""Pydantic models of the wire contract (docs/contract.md).

Every model ignores top-level fields it does not know, as the contract asks of receivers, so that
either side can add fields without breaking the other; what it does know is checked strictly (no
string taken for a number, no number for a string).
"""

from __future__ import annotations

import time
from enum import Enum
from typing import Annotated, Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .names import AGENT_NAME_PATTERN, TASK_ID_PATTERN, TASK_TYPE_PATTERN


class TaskStatus(str, Enum):
    PENDING = "PENDING"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    #: A step of a workflow waiting for a signal, an external event or a time (never a workflow's own status).
    WAITING = "WAITING"

    @property
    def terminal(self) -> bool:
        return self in (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED)


class TaskPriority(str, Enum):
    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


_CONFIG = ConfigDict(extra="ignore", strict=True, frozen=True)

AgentName = Annotated[str, Field(pattern=AGENT_NAME_PATTERN.pattern)]
TaskType = Annotated[str, Field(pattern=TASK_TYPE_PATTERN.pattern)]
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]


def now_seconds() -> float:
    return time.time()


NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class Usage(BaseModel):
    """What a sub-task cost, as its agent reports it with its answer; for a workflow, what all its steps cost."""

    model_config = _CONFIG

    tokens: Optional[NonNegative] = None
    input_tokens: Optional[NonNegative] = None
    output_tokens: Optional[NonNegative] = None
    cost: Optional[NonNegative] = None

    def wire(self) -> dict[str, float]:
        return {name: value for name, value in self.model_dump().items() if value is not None}


class Budget(BaseModel):
    """What a task may spend in all (a request's `budget`)."""

    model_config = _CONFIG

    max_tokens: Optional[NonNegative] = None
    max_cost: Optional[NonNegative] = None


class TaskRequest(BaseModel):
    """A request to perform `task_type`: what the orchestrator sends an agent, and what a client submits."""

    model_config = _CONFIG

    task_id: Annotated[str, Field(pattern=TASK_ID_PATTERN.pattern)]
    task_type: TaskType
    payload: dict[str, Any] = Field(default_factory=dict)
    priority: Annotated[TaskPriority, Field(strict=False)] = TaskPriority.NORMAL
    requester_id: Optional[AgentName] = None
    created_at: Optional[Annotated[float, Field(ge=0, le=1e11, allow_inf_nan=False)]] = None
    #: The whole task must finish within this many milliseconds, or it fails.
    timeout_ms: Optional[Annotated[int, Field(ge=100, le=86_400_000)]] = None
    #: What the whole task may spend (tokens, cost), within the orchestrator's maximum.
    budget: Optional[Budget] = None
    #: Store the task now (PENDING) and start its workflow at this time, in seconds since the epoch.
    not_before: Optional[Annotated[float, Field(ge=0, le=1e11, allow_inf_nan=False)]] = None

    @field_validator("priority", mode="before")
    @classmethod
    def _priority_in_any_case(cls, value: object) -> object:
        # Case-insensitive on input (contract).
        return value.upper() if isinstance(value, str) else value


class TaskResponse(BaseModel):
    """The answer to a TaskRequest."""

    model_config = _CONFIG

    task_id: str
    status: Annotated[TaskStatus, Field(strict=False)]
    success: bool = False
    result: Optional[dict[str, Any]] = None
    error: Optional[str] = None
    completed_at: Optional[Seconds] = None
    usage: Optional[Usage] = None

    @classmethod
    def completed(cls, task_id: str, result: dict[str, Any], usage: Optional[Usage] = None) -> TaskResponse:
        return cls(task_id=task_id, status=TaskStatus.COMPLETED, success=True, result=result, completed_at=now_seconds(), usage=usage)

    @classmethod
    def failed(cls, task_id: str, error: str, status: TaskStatus = TaskStatus.FAILED) -> TaskResponse:
        return cls(task_id=task_id, status=status, success=False, error=error, completed_at=now_seconds())

    def wire(self) -> dict[str, Any]:
        """The JSON object sent on the wire, with every field of the contract, in its order."""
        return {
            "task_id": self.task_id,
            "status": self.status.value,
            "success": self.success,
            "result": self.result,
            "error": self.error,
            "completed_at": self.completed_at,
            **({"usage": self.usage.wire()} if self.usage is not None else {}),
        }


class SignalStatus(str, Enum):
    ACCEPTED = "ACCEPTED"
    REFUSED = "REFUSED"


class SignalReply(BaseModel):
    """The answer to a signal (``agent.orchestrator_agent.signal``): taken by the waiting step
    (``outcome == "delivered"``), kept for the step that will wait (``"kept"``), a repeat of a
    ``signal_id`` (``duplicate``), or refused with an ``error`` and a ``code``."""

    model_config = _CONFIG

    task_id: str
    signal: str
    status: Annotated[SignalStatus, Field(strict=False)]
    error: Optional[str] = None
    code: Optional[str] = None
    outcome: Optional[str] = None
    step: Optional[str] = None
    duplicate: bool = False


class AgentLoad(BaseModel):
    model_config = _CONFIG

    in_flight: Annotated[int, Field(ge=0)]
    max_concurrency: Annotated[int, Field(ge=1)]


class AgentAnnouncement(BaseModel):
    """What an agent says of itself at start (agent_registered) and on every heartbeat."""

    model_config = _CONFIG

    name: AgentName
    instance_id: Annotated[str, Field(min_length=1, max_length=128)]
    agent_type: Annotated[str, Field(min_length=1, max_length=64)]
    capabilities: Annotated[list[TaskType], Field(max_length=256)]
    load: Optional[AgentLoad] = None
    ts: Seconds


class ProgressReport(BaseModel):
    """Published on `agent.<name>.progress` while a sub-task runs."""

    model_config = _CONFIG

    task_id: str
    fraction: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
    message: Optional[str] = None


_PATTERN_MESSAGES = {
    "task_id": "must be 1 to 128 characters without whitespace",
    "requester_id": f"must be an agent name matching {AGENT_NAME_PATTERN.pattern}",
}


def validation_error_text(error: ValidationError, what: str = "request") -> str:
    """`field: reason` for every problem, joined by `; ` (e.g. `task_type: must match ...`), as the other SDKs say it."""
    parts: list[str] = []
    for problem in error.errors(include_url=False):
        loc = problem["loc"]
        field = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".") or what
        parts.append(f"{field}: {_reason(problem['type'], problem.get('ctx') or {}, str(loc[0]) if loc else '', problem['msg'])}")
    return "; ".join(parts)


def _reason(kind: str, ctx: dict[str, Any], field: str, fallback: str) -> str:
    if kind == "missing":
        return "is required"
    if kind == "string_type":
        return "must be a string"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "must be a JSON object"
    if kind == "list_type":
        return "must be an array"
    if kind in ("float_type", "finite_number"):
        return "must be a finite number"
    if kind == "int_type":
        return "must be an integer"
    if kind == "bool_type":
        return "must be a boolean"
    if kind == "string_pattern_mismatch":
        return _PATTERN_MESSAGES.get(field, f"must match {ctx.get('pattern')}")
    if kind == "enum":
        return f"must be one of {str(ctx.get('expected', '')).replace(chr(39), '').replace(' or ', ', ')}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"must be at least {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"must be at most {ctx.get('le', ctx.get('lt'))}"
    if kind == "string_too_short":
        return f"must be at least {ctx.get('min_length')} characters"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items"
    return fallback
