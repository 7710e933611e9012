"""The buffer's one database handle (a peewee proxy bound by ``db.open_database``) and its write transaction.

The lowest module of the buffer: the models bind to ``database``; every writer uses ``write_transaction``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import peewee

from kkt_adapter.buffer import storage

#: The one database handle of this process; bound with ``open_database``. Peewee keeps one connection
#: per thread, which is what gunicorn's threads and the background workers need.
database = peewee.DatabaseProxy()


@contextmanager
def write_transaction() -> Iterator[None]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; a full disk leaves it as ``storage.StorageFull`` (nothing committed).

    IMMEDIATE takes the write lock up front, so read-modify-write sequences (HLC, capacity) are serialised
    across every process that opens the buffer.
    """
    with storage.translating(), database.atomic("IMMEDIATE"):
        yield
