import json

import pytest
from pydantic import ValidationError

from orchestrator_sdk import (
    AgentAnnouncement,
    ProgressReport,
    TaskPriority,
    TaskRequest,
    TaskResponse,
    TaskStatus,
    validation_error_text,
)


def error_of(model: type, data: object) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)  # type: ignore[attr-defined]
    return validation_error_text(caught.value)


def test_request_applies_defaults_and_reads_priority_in_any_case() -> None:
    request = TaskRequest.model_validate({"task_id": "t-1", "task_type": "create_blog_post", "priority": "high"})
    assert request.payload == {}
    assert request.priority is TaskPriority.HIGH
    assert request.requester_id is None


def test_request_ignores_unknown_top_level_fields() -> None:
    request = TaskRequest.model_validate({"task_id": "t", "task_type": "x", "added_later": {"by": "another service"}})
    assert request.model_dump(exclude_none=True) == {"task_id": "t", "task_type": "x", "payload": {}, "priority": TaskPriority.NORMAL}


def test_request_keeps_not_before_in_seconds() -> None:
    request = TaskRequest.model_validate({"task_id": "t", "task_type": "x", "not_before": 1_900_000_000})
    assert request.not_before == 1_900_000_000.0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"task_type": "x"}, "task_id: is required"),
        ({"task_id": 7, "task_type": "x"}, "task_id: must be a string"),
        ({"task_id": "a b", "task_type": "x"}, "task_id: must be 1 to 128 characters without whitespace"),
        ({"task_id": "t", "task_type": "Bad Type"}, "task_type: must match ^[a-z0-9][a-z0-9_.-]{0,63}$"),
        ({"task_id": "t", "task_type": "x", "payload": [1]}, "payload: must be a JSON object"),
        ({"task_id": "t", "task_type": "x", "priority": "urgent"}, "priority: must be one of LOW, NORMAL, HIGH, CRITICAL"),
        ({"task_id": "t", "task_type": "x", "requester_id": "a.>"}, "requester_id: must be an agent name"),
        ({"task_id": "t", "task_type": "x", "created_at": "now"}, "created_at: must be a finite number"),
        ({"task_id": "t", "task_type": "x", "timeout_ms": 5}, "timeout_ms: must be at least 100"),
        ({"task_id": "t", "task_type": "x", "not_before": "tomorrow"}, "not_before: must be a finite number"),
        ({"task_id": "t", "task_type": "x", "not_before": 1_900_000_000_000}, "not_before: must be at most"),
        ([1, 2], "request: must be a JSON object"),
    ],
)
def test_request_refuses_bad_input_naming_the_field(data: object, message: str) -> None:
    assert message in error_of(TaskRequest, data)


def test_response_wire_form_has_every_field_in_order() -> None:
    response = TaskResponse.completed("t-1", {"n": 1})
    wire = response.wire()
    assert list(wire) == ["task_id", "status", "success", "result", "error", "completed_at"]
    assert wire["status"] == "COMPLETED" and wire["success"] is True and wire["error"] is None
    assert isinstance(wire["completed_at"], float)
    failed = TaskResponse.failed("t-2", "boom", TaskStatus.CANCELLED).wire()
    assert failed["status"] == "CANCELLED" and failed["success"] is False and failed["result"] is None


def test_response_reads_the_wire_form_and_ignores_unknown_fields() -> None:
    body = {"task_id": "t", "status": "FAILED", "success": False, "result": None, "error": "x", "completed_at": 1.5, "extra": 1}
    response = TaskResponse.model_validate(json.loads(json.dumps(body)))
    assert response.status is TaskStatus.FAILED and response.error == "x"
    assert not response.status.terminal is False
    assert TaskStatus.RUNNING.terminal is False
    assert "status: must be one of" in error_of(TaskResponse, {"task_id": "t", "status": "DONE"})


def test_announcement_checks_names_and_load() -> None:
    announcement = AgentAnnouncement.model_validate(
        {"name": "py_agent", "instance_id": "i-1", "agent_type": "utility", "capabilities": ["summarize"],
         "load": {"in_flight": 2, "max_concurrency": 4}, "ts": 1.0, "version": "ignored"}
    )
    assert announcement.load is not None and announcement.load.max_concurrency == 4
    bad = {"name": "py.agent", "instance_id": "i", "agent_type": "t", "capabilities": ["Bad Type"], "load": {"in_flight": -1, "max_concurrency": 0}, "ts": 1}
    text = error_of(AgentAnnouncement, bad)
    assert "name: must match" in text
    assert "capabilities[0]: must match" in text
    assert "load.in_flight: must be at least 0" in text
    assert "load.max_concurrency: must be at least 1" in text


def test_progress_report_keeps_fraction_within_bounds() -> None:
    assert ProgressReport(task_id="t", fraction=0.25).model_dump(exclude_none=True) == {"task_id": "t", "fraction": 0.25}
    assert "fraction: must be at most 1" in error_of(ProgressReport, {"task_id": "t", "fraction": 1.5})
