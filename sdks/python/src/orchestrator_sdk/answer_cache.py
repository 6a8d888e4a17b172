"""The most recent answers by task id, so that a repeated delivery gets the same answer."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, Optional, TypeVar

V = TypeVar("V")


class AnswerCache(Generic[V]):
    """Keeps at most `capacity` entries; the one set least recently goes first."""

    def __init__(self, capacity: int) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity: must be a positive integer, got {capacity!r}")
        self.capacity = capacity
        self._entries: OrderedDict[str, V] = OrderedDict()

    def get(self, key: str) -> Optional[V]:
        return self._entries.get(key)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def set(self, key: str, value: V) -> None:
        self._entries.pop(key, None)
        self._entries[key] = value
        if len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def delete(self, key: str) -> bool:
        return self._entries.pop(key, None) is not None
