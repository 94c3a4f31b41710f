"""Results kept in memory by key, computed once when many threads ask at once.

The web app's pages read what is the same for every user of a data version — a unit's desk, the
checks of the whole database — and twenty coordinators may open them in the same second: the
first computes, the others wait for its result instead of computing it again beside it."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

T = TypeVar("T")


class Memo(Generic[T]):
    """The last ``size`` results by key (least recently used dropped first)."""

    def __init__(self, size: int):
        self.size = size
        self._held: OrderedDict[Hashable, T] = OrderedDict()
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._guard:
            if key in self._held:
                self._held.move_to_end(key)
                return self._held[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._held:  # computed by the thread this one waited for
                    return self._held[key]
            value = compute()  # an exception leaves nothing held: the next call tries again
            with self._guard:
                self._held[key] = value
                while len(self._held) > self.size:
                    self._held.popitem(last=False)
                self._locks.pop(key, None)
            return value

    def clear(self) -> None:
        with self._guard:
            self._held.clear()
