"""The database: schema, connection (SQLite file or PostgreSQL URL), transactional writes, the data
version, read snapshots and DataFrame loaders. Every statement zpb runs goes through this package."""
from zpb_lib.store.acting import acting_as
from zpb_lib.store.backend import (POSTGRESQL, SQLITE, Busy, Connection, DatabaseError, IntegrityError, PermissionDenied,
                      RetryError, StoreError, Timeouts, display, is_url)
from zpb_lib.store.connection import (connect, create, default_db_path, exists, folder_of, locate, new_database, optimize,
                                      resolve_db_path)
from zpb_lib.store.frames import Frames, content_hash, data_version, load, table_counts
from zpb_lib.store.queries.meta import is_synthetic, meta, meta_value
from zpb_lib.store.schema import SCHEMA_VERSION
from zpb_lib.store.snapshot import snapshot
from zpb_lib.store.write import transaction

__all__ = ["acting_as", "POSTGRESQL", "SQLITE", "Busy", "Connection", "StoreError", "DatabaseError", "IntegrityError",
           "PermissionDenied", "RetryError", "Timeouts", "display", "is_url", "connect", "create", "new_database",
           "exists", "locate", "folder_of", "optimize", "Frames", "is_synthetic", "meta", "meta_value",
           "default_db_path", "resolve_db_path", "load", "table_counts", "content_hash", "data_version",
           "SCHEMA_VERSION", "snapshot", "transaction"]
