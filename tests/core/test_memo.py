"""Memo: one computation per key however many threads ask at once; the least recently used dropped."""
from __future__ import annotations

import threading

import pytest

from zpb_lib.core.memo import Memo


def test_threads_asking_at_once_share_one_computation():
    memo: Memo[int] = Memo(4)
    calls = []
    release = threading.Event()
    started = threading.Event()

    def compute() -> int:
        calls.append(1)
        started.set()
        release.wait(30)
        return 42

    results = []
    threads = [threading.Thread(target=lambda: results.append(memo.get("k", compute))) for _ in range(8)]
    threads[0].start()
    assert started.wait(30)
    for t in threads[1:]:
        t.start()
    release.set()
    for t in threads:
        t.join(30)
    assert results == [42] * 8 and len(calls) == 1


def test_the_least_recently_used_goes_and_a_failure_is_not_kept():
    memo: Memo[str] = Memo(2)
    memo.get("a", lambda: "A")
    memo.get("b", lambda: "B")
    memo.get("a", lambda: "not again")  # "a" used last: "b" is the one dropped
    memo.get("c", lambda: "C")
    assert memo.get("a", lambda: "again") == "A"
    assert memo.get("b", lambda: "B2") == "B2"

    def fail() -> str:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        memo.get("x", fail)
    assert memo.get("x", lambda: "X") == "X"
