"""The submit-once journal: both implementations keep the same promises."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api4gpt_async.journal import (
    Journal,
    JournalEntry,
    RedisJournal,
    SQLiteJournal,
    open_journal,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "redis"])
async def journal(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Journal]:
    if request.param == "sqlite":
        async with SQLiteJournal(tmp_path / "sub" / "journal.sqlite3") as sqlite_journal:
            yield sqlite_journal
        return
    fakeredis = pytest.importorskip("fakeredis")
    server = fakeredis.FakeRedis().connection_pool.connection_kwargs["server"]
    redis = fakeredis.FakeAsyncRedis(server=server)
    async with RedisJournal(redis, prefix="t") as redis_journal:
        yield redis_journal
    await redis.aclose()


async def test_claim_is_first_come(journal: Journal) -> None:
    first = JournalEntry(key="a", status="submitting", meta={"p": 1}, attempts=1)
    assert await journal.claim(first) is None
    second = JournalEntry(key="a", status="submitting", meta={"p": 2}, attempts=1)
    stored = await journal.claim(second)
    assert stored is not None
    assert stored.meta == {"p": 1}  # the first claim won; the second changed nothing
    assert await journal.get("a") == first


async def test_update_replaces_and_entries_list_in_claim_order(journal: Journal) -> None:
    for key in ("k3", "k1", "k2"):
        assert await journal.claim(JournalEntry(key=key, status="submitting")) is None
    ref = {"kind": "luma", "id": "x-1"}
    await journal.update(JournalEntry(key="k1", status="accepted", ref=ref, attempts=1))
    await journal.update(JournalEntry(key="k2", status="succeeded", outcome={"files": ["f"]}))
    assert [e.key for e in await journal.entries()] == ["k3", "k1", "k2"]
    accepted = await journal.entries(status="accepted")
    assert [(e.key, e.ref) for e in accepted] == [("k1", ref)]
    assert [e.outcome for e in await journal.entries(status="succeeded")] == [{"files": ["f"]}]
    assert await journal.get("missing") is None


async def test_sqlite_survives_reopening_and_is_wal(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    async with SQLiteJournal(path) as journal:
        await journal.claim(JournalEntry(key="a", status="submitting", attempts=1))
    # Committed before the call returned: another connection sees it, and the file is WAL.
    with contextlib.closing(sqlite3.connect(path)) as db:  # (sqlite3's own `with` never closes)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT key, status FROM api4gpt_jobs").fetchall() == [
            ("a", "submitting")
        ]
    async with SQLiteJournal(path) as journal:
        entry = await journal.get("a")
        assert entry is not None and entry.status == "submitting"


async def test_a_file_that_is_no_database_is_refused_and_left_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "j.sqlite3"
    path.write_text("not a database " * 100)
    opened: list[sqlite3.Connection] = []
    connect = sqlite3.connect

    def recording_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        opened.append(connect(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(sqlite3, "connect", recording_connect)
    async with SQLiteJournal(path) as journal:
        with pytest.raises(sqlite3.DatabaseError, match="not a database"):
            await journal.get("a")
    (db,) = opened
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        db.execute("SELECT 1")
    assert path.read_text() == "not a database " * 100  # nothing written over it


def test_open_journal_picks_by_location(tmp_path: Path) -> None:
    assert isinstance(open_journal(tmp_path / "j.sqlite3"), SQLiteJournal)
    assert isinstance(open_journal(str(tmp_path / "j.db")), SQLiteJournal)
    pytest.importorskip("redis")
    assert isinstance(open_journal("redis://127.0.0.1:1/0"), RedisJournal)
