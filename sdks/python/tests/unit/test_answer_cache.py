import pytest

from orchestrator_sdk import AnswerCache


def test_keeps_the_most_recently_set_entries() -> None:
    cache: AnswerCache[str] = AnswerCache(2)
    cache.set("a", "1")
    cache.set("b", "2")
    cache.set("a", "1 again")  # setting again makes it the newest
    cache.set("c", "3")
    assert "b" not in cache
    assert cache.get("a") == "1 again" and cache.get("c") == "3"
    assert len(cache) == 2


def test_deletes_and_says_whether_it_held_the_key() -> None:
    cache: AnswerCache[int] = AnswerCache(3)
    cache.set("x", 1)
    assert cache.delete("x") is True
    assert cache.delete("x") is False
    assert cache.get("x") is None


@pytest.mark.parametrize("capacity", [0, -1, 1.5, True])
def test_refuses_a_capacity_that_is_not_a_positive_integer(capacity: object) -> None:
    with pytest.raises(ValueError, match="capacity: must be a positive integer"):
        AnswerCache(capacity)  # type: ignore[arg-type]
