"""Where the report template lives, and atomic file writes: shared by the export (in the workers)
and the index page (in the build process), without importing nbconvert into the latter."""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

TEMPLATE_BASEDIR = Path(__file__).resolve().parent.parent / "templates"
TEMPLATE_NAME = "zpb"


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """A binary file that replaces `path` only once fully written.

    The temporary file lives in the target directory so that `os.replace` is a rename on one
    file system: readers see the old file or the new one, never half of it. On error the
    temporary file is removed and `path` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; reports are shared files
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
