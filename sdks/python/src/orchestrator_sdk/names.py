"""Naming rules and subjects of the wire contract (docs/contract.md). A name that breaks them never reaches a subject."""

from __future__ import annotations

import re
from typing import Final

AGENT_NAME_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
TASK_TYPE_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
TASK_ID_PATTERN: Final = re.compile(r"^\S{1,128}$")
SIGNAL_NAME_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
EVENT_NAME_PATTERN: Final = re.compile(r"^(?=.{1,128}$)[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$")
#: The signal of the common approval, whose payload is ``{"approved": bool, "comment"?: str}``.
APPROVAL_SIGNAL: Final = "approval"
EXTERNAL_EVENT_PREFIX: Final = "platform.events.external"

ORCHESTRATOR_AGENT_NAME: Final = "orchestrator_agent"
AGENT_REGISTERED_SUBJECT: Final = "platform.events.agent_registered"
AGENT_HEARTBEAT_SUBJECT: Final = "platform.events.agent_heartbeat"

#: Set by the orchestrator on every sub-task it dispatches: the attempt number, from 1.
ATTEMPT_HEADER: Final = "Orchestrator-Attempt"


class InvalidNameError(ValueError):
    """A name that does not match the contract's rule; the message names it and the rule."""


def is_agent_name(value: object) -> bool:
    return isinstance(value, str) and AGENT_NAME_PATTERN.fullmatch(value) is not None


def assert_agent_name(name: str, field: str = "name") -> str:
    if not is_agent_name(name):
        raise InvalidNameError(f"{field}: agent name {name[:80]!r} does not match {AGENT_NAME_PATTERN.pattern}")
    return name


def assert_task_type(task_type: str, field: str = "task_type") -> str:
    if not isinstance(task_type, str) or TASK_TYPE_PATTERN.fullmatch(task_type) is None:
        raise InvalidNameError(f"{field}: {str(task_type)[:80]!r} does not match {TASK_TYPE_PATTERN.pattern}")
    return task_type


def agent_task_subject(agent_name: str) -> str:
    return f"agent.{assert_agent_name(agent_name)}.task"


def agent_response_subject(agent_name: str) -> str:
    return f"agent.{assert_agent_name(agent_name)}.response"


def agent_cancel_subject(agent_name: str) -> str:
    return f"agent.{assert_agent_name(agent_name)}.cancel"


def agent_progress_subject(agent_name: str) -> str:
    return f"agent.{assert_agent_name(agent_name)}.progress"
