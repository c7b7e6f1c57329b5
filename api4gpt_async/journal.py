"""The submit-once journal (intent → accepted ref → outcome) used by ``client.tasks.submit_many``,
the ``api4gpt batch`` runner and the taskiq integration. See :mod:`api4gpt_async._journal`."""

from ._exports import publish
from ._journal import (
    FINISHED,
    UNCERTAIN,
    Journal,
    JournalEntry,
    JournalStatus,
    RedisJournal,
    SQLiteJournal,
    open_journal,
)

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


publish(__name__, globals(), __all__)
