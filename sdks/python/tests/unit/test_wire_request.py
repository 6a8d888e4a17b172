"""The runner's cheap reading of a request agrees with the TaskRequest model on every input."""

from typing import Any

import pytest
from pydantic import ValidationError

from orchestrator_sdk import TaskRequest, validation_error_text
from orchestrator_sdk.wire_request import WireRequest, read_task_request

VALID: dict[str, Any] = {"task_id": "sub-1:1", "task_type": "generate_content"}

CASES: list[object] = [
    VALID,
    {**VALID, "payload": {"topic": "t", "nested": [1, {"a": None}]}, "priority": "NORMAL", "requester_id": "orchestrator_agent", "created_at": 1_764_000_000.5},
    {**VALID, "priority": "critical"},
    {**VALID, "timeout_ms": 100},
    {**VALID, "timeout_ms": 86_400_000},
    {**VALID, "extra": {"x": 1}},
    {**VALID, "budget": {"max_tokens": 10}},
    {**VALID, "budget": {"max_tokens": -1}},
    {**VALID, "not_before": 5},
    {**VALID, "not_before": 1_764_000_000_000},
    {**VALID, "created_at": 0},
    {**VALID, "created_at": 1e11},
    {**VALID, "requester_id": None},
    {**VALID, "created_at": None},
    {**VALID, "timeout_ms": None},
    {**VALID, "task_id": "é-1"},
    [VALID],
    None,
    {"task_type": "x"},
    {**VALID, "task_id": "a b"},
    {**VALID, "task_id": "x" * 129},
    {**VALID, "task_id": ""},
    {**VALID, "task_id": 7},
    {**VALID, "task_id": "a\u2003b"},
    {**VALID, "task_type": "Generate"},
    {"task_id": "a"},
    {**VALID, "payload": "text"},
    {**VALID, "payload": [1]},
    {**VALID, "payload": None},
    {**VALID, "priority": "urgent"},
    {**VALID, "priority": 1},
    {**VALID, "priority": None},
    {**VALID, "requester_id": "a.b"},
    {**VALID, "created_at": 1_764_000_000_000},
    {**VALID, "created_at": -1},
    {**VALID, "created_at": "1"},
    {**VALID, "created_at": True},
    {**VALID, "timeout_ms": 100.0},
    {**VALID, "timeout_ms": 99},
    {**VALID, "timeout_ms": 86_400_001},
    {**VALID, "timeout_ms": False},
]


@pytest.mark.parametrize("body", CASES)
def test_reads_a_request_exactly_as_the_model_does(body: object) -> None:
    read = read_task_request(body)
    try:
        model = TaskRequest.model_validate(body)
    except ValidationError as error:
        assert isinstance(read, ValidationError)
        assert validation_error_text(read) == validation_error_text(error)
        return
    assert read == WireRequest(model.task_id, model.task_type, model.payload, model.requester_id)
