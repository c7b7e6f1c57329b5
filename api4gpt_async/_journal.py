"""The submit-once journal: what was about to be sent, what was accepted, how it ended.

Every job of a batch has a *key*. Its entry is written **before** the submit (``submitting``),
then with the job's ref once the service accepted it (``accepted``), then with its outcome
(``succeeded`` / ``failed`` / ``cancelled``). A refused submit (nothing billed) is ``refused``; a
submit whose answer was lost (``SubmissionUncertainError``) is ``uncertain``. After a crash:

- ``accepted`` → resumed through its ref, never submitted again;
- ``submitting`` / ``uncertain`` → the submit may or may not have reached the service: reported
  as uncertain, re-sent only when the caller asks (``resubmit_uncertain=True``);
- ``refused`` → sent again (nothing was billed);
- ``succeeded`` / ``failed`` / ``cancelled`` → done.

Two implementations: :class:`SQLiteJournal` (standard library, the default; every write is
committed, WAL and ``synchronous=FULL``, before the call returns, so a ``kill -9`` right after
never loses it) and :class:`RedisJournal` (``redis-py`` asyncio, the ``redis`` extra) for
workers on several machines. :func:`open_journal` picks one from a path or a ``redis://`` URL.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, runtime_checkable

import anyio
import anyio.to_thread
import attrs

from ._files import user_path

if TYPE_CHECKING:
    import redis.asyncio

__all__ = [
    "FINISHED",
    "UNCERTAIN",
    "Journal",
    "JournalEntry",
    "JournalStatus",
    "RedisJournal",
    "SQLiteJournal",
    "open_journal",
]

JournalStatus = Literal[
    "submitting", "accepted", "refused", "uncertain", "succeeded", "failed", "cancelled"
]
STATUSES: Final[tuple[JournalStatus, ...]] = (
    "submitting",
    "accepted",
    "refused",
    "uncertain",
    "succeeded",
    "failed",
    "cancelled",
)
#: The job ended on the service; nothing more to do for it.
FINISHED: Final = frozenset({"succeeded", "failed", "cancelled"})
#: The submit may or may not have reached the service.
UNCERTAIN: Final = frozenset({"submitting", "uncertain"})


@attrs.frozen(kw_only=True)
class JournalEntry:
    """One job's line in the journal.

    Attributes:
        key: the job's unique key (the batch runner defaults it to a hash of the job line).
        status: see the module docstring.
        ref: the accepted job's ``TaskHandle.ref`` (``{"kind": ..., "id": ...}``), else None.
        meta: what the job is, JSON-safe (the batch runner stores family, op and params).
        outcome: a JSON-safe summary of how it ended (e.g. the files saved), else None.
        error: the error's type and message when it was refused, uncertain or failed.
        attempts: how many times its submit was sent (more than 1 only after a refusal, or
            with ``resubmit_uncertain``).
        updated_at: Unix time of the last change.
    """

    key: str
    status: JournalStatus
    ref: dict[str, str] | None = None
    meta: dict[str, Any] = attrs.field(factory=dict)
    outcome: dict[str, Any] | None = None
    error: str | None = None
    attempts: int = 0
    updated_at: float = attrs.field(factory=time.time)

    def to_json(self) -> dict[str, Any]:
        """The entry as a JSON-safe mapping (the stored form)."""
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JournalEntry:
        """An entry from its stored form (unknown fields ignored)."""
        fields = {a.name for a in attrs.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in fields})


@runtime_checkable
class Journal(Protocol):
    """Where submit-once state lives. Every method is durable when it returns.

    ``claim`` is the one atomic step: it stores ``entry`` only when its key is new, so two
    workers that claim the same key agree on which one submits.
    """

    async def claim(self, entry: JournalEntry) -> JournalEntry | None:
        """Store ``entry`` if its key is new and return None; else return the stored entry."""
        ...

    async def update(self, entry: JournalEntry) -> None:
        """Replace the entry with ``entry.key``."""
        ...

    async def get(self, key: str) -> JournalEntry | None:
        """The entry with ``key``, or None."""
        ...

    async def entries(self, *, status: str | None = None) -> list[JournalEntry]:
        """Every entry (with ``status``: only those), oldest first."""
        ...

    async def aclose(self) -> None:
        """Release the connection (a client passed in by the caller stays open)."""
        ...


# --------------------------------------------------------------------------- SQLite

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS api4gpt_jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    data TEXT NOT NULL
)
"""


class SQLiteJournal(Journal):
    """A journal in one SQLite file (standard library; a leading ``~`` in ``path`` is the home
    folder). Safe under ``kill -9``: each write is
    committed (WAL, ``synchronous=FULL``) before the call returns. Calls run in a worker thread,
    one at a time. Usable from one process at a time per file; for several, use Redis.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path: Path = Path(user_path(path))
        self._db: sqlite3.Connection | None = None
        self._lock = anyio.Lock()

    def __repr__(self) -> str:
        return f"<SQLiteJournal {str(self.path)!r}>"

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            if self.path.parent != Path():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                db.execute("PRAGMA busy_timeout=5000")
                db.execute(_SCHEMA)
            except BaseException:  # not a database, locked…: no connection left open
                db.close()
                raise
            self._db = db
        return self._db

    async def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        def go() -> list[tuple[Any, ...]]:
            return self._connect().execute(sql, args).fetchall()

        async with self._lock:
            return await anyio.to_thread.run_sync(go)

    async def claim(self, entry: JournalEntry) -> JournalEntry | None:
        data = json.dumps(entry.to_json())
        rows = await self._run(
            "INSERT INTO api4gpt_jobs (key, status, data) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO NOTHING RETURNING seq",
            (entry.key, entry.status, data),
        )
        return None if rows else await self.get(entry.key)

    async def update(self, entry: JournalEntry) -> None:
        data = json.dumps(entry.to_json())
        await self._run(
            "INSERT INTO api4gpt_jobs (key, status, data) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET status = excluded.status, data = excluded.data",
            (entry.key, entry.status, data),
        )

    async def get(self, key: str) -> JournalEntry | None:
        rows = await self._run("SELECT data FROM api4gpt_jobs WHERE key = ?", (key,))
        return JournalEntry.from_json(json.loads(rows[0][0])) if rows else None

    async def entries(self, *, status: str | None = None) -> list[JournalEntry]:
        if status is None:
            rows = await self._run("SELECT data FROM api4gpt_jobs ORDER BY seq")
        else:
            rows = await self._run(
                "SELECT data FROM api4gpt_jobs WHERE status = ? ORDER BY seq", (status,)
            )
        return [JournalEntry.from_json(json.loads(row[0])) for row in rows]

    async def aclose(self) -> None:
        async with self._lock:
            db, self._db = self._db, None
            if db is not None:
                db.close()

    async def __aenter__(self) -> SQLiteJournal:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


# --------------------------------------------------------------------------- Redis


class RedisJournal(Journal):
    """A journal in Redis (``pip install 'api4gpt-async[redis]'``), shared by many workers.

    Entries are JSON strings under ``{prefix}:job:{key}``, created with ``SET NX`` (the atomic
    claim); the sorted set ``{prefix}:keys`` lists them by creation time. Durability is Redis's
    own: run it with ``appendonly yes`` and ``appendfsync always`` for SQLite's guarantee.

    Pass a ``redis.asyncio.Redis`` (kept open: you close it) or a URL (closed by ``aclose``).
    """

    def __init__(self, client: redis.asyncio.Redis | str, *, prefix: str = "api4gpt") -> None:
        if isinstance(client, str):
            import redis.asyncio as aioredis

            self._redis: redis.asyncio.Redis = aioredis.Redis.from_url(client)
            self._owned = True
        else:
            self._redis = client
            self._owned = False
        self.prefix: str = prefix

    def __repr__(self) -> str:
        return f"<RedisJournal prefix={self.prefix!r}>"

    def _key(self, key: str) -> str:
        return f"{self.prefix}:job:{key}"

    async def claim(self, entry: JournalEntry) -> JournalEntry | None:
        # Listed first (idempotent), so a crash between the two steps never hides an entry.
        await self._redis.zadd(f"{self.prefix}:keys", {entry.key: entry.updated_at}, nx=True)
        created = await self._redis.set(self._key(entry.key), json.dumps(entry.to_json()), nx=True)
        return None if created else await self.get(entry.key)

    async def update(self, entry: JournalEntry) -> None:
        await self._redis.set(self._key(entry.key), json.dumps(entry.to_json()))

    async def get(self, key: str) -> JournalEntry | None:
        raw = await self._redis.get(self._key(key))
        return None if raw is None else JournalEntry.from_json(json.loads(raw))

    async def entries(self, *, status: str | None = None) -> list[JournalEntry]:
        keys = [
            k.decode() if isinstance(k, bytes) else str(k)
            for k in await self._redis.zrange(f"{self.prefix}:keys", 0, -1)
        ]
        if not keys:
            return []
        found = []
        for raw in await self._redis.mget([self._key(k) for k in keys]):
            if raw is not None:
                entry = JournalEntry.from_json(json.loads(raw))
                if status is None or entry.status == status:
                    found.append(entry)
        return found

    async def aclose(self) -> None:
        if self._owned:
            await self._redis.aclose()

    async def __aenter__(self) -> RedisJournal:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def open_journal(location: str | os.PathLike[str]) -> Journal:
    """A journal for ``location``: a ``redis://`` / ``rediss://`` / ``unix://`` URL gives a
    :class:`RedisJournal`, anything else is the path of a :class:`SQLiteJournal` file."""
    text = str(location)
    if text.startswith(("redis://", "rediss://", "unix://")):
        return RedisJournal(text)
    return SQLiteJournal(location)
