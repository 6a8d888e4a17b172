"""Reading a sub-task's TaskRequest cheaply, the way the TaskRequest model would read it."""

from __future__ import annotations

import math
from typing import Any, NamedTuple, Optional, Union

from pydantic import ValidationError

from .models import TaskPriority, TaskRequest
from .names import AGENT_NAME_PATTERN, TASK_ID_PATTERN, TASK_TYPE_PATTERN

_PRIORITIES = frozenset(priority.value for priority in TaskPriority)


class WireRequest(NamedTuple):
    """What the runner needs of a TaskRequest."""

    task_id: str
    task_type: str
    payload: dict[str, Any]
    requester_id: Optional[str]


def read_task_request(body: object) -> Union[WireRequest, ValidationError]:
    """`body` as a request, checked field by field as ``TaskRequest.model_validate`` would accept
    it. Validating the model costs more than the rest of a sub-task's handling, so a request whose
    every field is plainly right is taken here; anything else (a missing or wrong field, a task_id
    outside ASCII, where pydantic's regular expressions and Python's may differ) goes to the model,
    which decides and names what is wrong. So does a request with a `budget` or a `not_before`: a
    sub-task has neither."""
    plain = _plainly_valid(body)
    if plain is not None:
        return plain
    try:
        request = TaskRequest.model_validate(body)
    except ValidationError as error:
        return error
    return WireRequest(request.task_id, request.task_type, request.payload, request.requester_id)


def _plainly_valid(body: object) -> Optional[WireRequest]:
    if type(body) is not dict:
        return None
    task_id = body.get("task_id")
    task_type = body.get("task_type")
    payload = body.get("payload", {})
    priority = body.get("priority")
    requester_id = body.get("requester_id")
    created_at = body.get("created_at")
    timeout_ms = body.get("timeout_ms")
    plain = (
        "budget" not in body
        and "not_before" not in body
        and type(task_id) is str
        and task_id.isascii()
        and TASK_ID_PATTERN.fullmatch(task_id) is not None
        and type(task_type) is str
        and TASK_TYPE_PATTERN.fullmatch(task_type) is not None
        and type(payload) is dict
        and ("priority" not in body or type(priority) is str and priority.upper() in _PRIORITIES)
        and (requester_id is None or type(requester_id) is str and AGENT_NAME_PATTERN.fullmatch(requester_id) is not None)
        and (created_at is None or type(created_at) in (int, float) and math.isfinite(created_at) and 0 <= created_at <= 1e11)
        and (timeout_ms is None or type(timeout_ms) is int and 100 <= timeout_ms <= 86_400_000)
    )
    return WireRequest(task_id, task_type, payload, requester_id) if plain else None  # type: ignore[arg-type]
