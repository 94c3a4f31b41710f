"""The embedded database: schema, connection, transactional writes and DataFrame loaders."""
from .connection import StoreError, connect, create, default_db_path, resolve_db_path
from .frames import content_hash, data_version, file_hash, load, table_counts
from .schema import SCHEMA_VERSION
from .write import transaction

__all__ = ["StoreError", "connect", "create", "default_db_path", "resolve_db_path", "load",
           "table_counts", "content_hash", "data_version", "file_hash", "SCHEMA_VERSION", "transaction"]
