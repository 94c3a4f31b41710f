"""Shared by the ingest tests."""
from __future__ import annotations

import pytest

from zpb_lib import store
from zpb_lib.ingest import IngestError


def refused(con, fn, *parts: str) -> IngestError:
    """Run ``fn``, expect it refused with every text of ``parts`` in the message, database unchanged."""
    before = store.content_hash(con)
    with pytest.raises(IngestError) as info:
        fn()
    assert store.content_hash(con) == before
    for part in parts:
        assert part in str(info.value), f"{part!r} not in:\n{info.value}"
    return info.value
