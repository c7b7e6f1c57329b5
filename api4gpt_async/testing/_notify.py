"""``notify_hook`` callbacks: the emulator POSTs a job's records to the URL it was given.

The one callback mechanism of every family. A family either calls :func:`notify_when_done` at
submit with the emulator-clock instant the job ends and a function that renders its record then
(one ``POST`` of the final record: Suno, digital human), or :func:`follow` with a function that,
given the clock, says what to send now and whether the job is over (every change, in order:
Midjourney). A small watcher task (started on first use, stopped with the server) asks each
followed job as the clock — running, or moved with ``emu.advance`` — goes on: one ``POST`` with
the JSON record per callback, no retries, as the gateway does. Every attempt is kept in
:func:`deliveries` (URL, record, status or error text).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

import aiohttp
import attrs
from aiohttp import web

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["Delivery", "Updates", "attach", "deliveries", "follow", "notify_when_done"]

_log = logging.getLogger("api4gpt_async.testing")

#: Real seconds between two looks at the clock while callbacks are due.
CHECK_INTERVAL: Final = 0.01
_TIMEOUT: Final = aiohttp.ClientTimeout(total=5)
_ATTACHED: Final = web.AppKey("api4gpt_notify_attached", bool)


@attrs.frozen(kw_only=True)
class Delivery:
    """One callback the emulator sent: where, what, and how it went (``status`` 0: failed)."""

    url: str
    payload: Any
    status: int
    error: str | None = None


#: What a followed job sends at a clock instant: ``(url, record)`` pairs in order, and whether
#: the job is over (then it is followed no more).
Updates = Callable[[float], tuple[Sequence[tuple[str, Any]], bool]]


@attrs.define
class _NotifyState:
    pending: list[Updates] = attrs.field(factory=list)
    sent: list[Delivery] = attrs.field(factory=list)
    watcher: asyncio.Task[None] | None = None


def attach(emu: Emulator, app: web.Application) -> None:
    """Stop the watcher with the server (call from every family's ``register``; idempotent)."""
    if app.get(_ATTACHED):
        return
    app[_ATTACHED] = True
    state = emu._family_state(_NotifyState)

    async def stop(_app: web.Application) -> None:
        watcher, state.watcher = state.watcher, None
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    app.on_cleanup.append(stop)


def notify_when_done(emu: Emulator, url: str | None, due: float, render: Callable[[], Any]) -> None:
    """POST ``render()`` to ``url`` once the emulator clock reaches ``due`` (no-op without url).

    Must be called from a request handler (the watcher runs on the server's loop).
    """
    if not url:
        return

    def updates(now: float) -> tuple[list[tuple[str, Any]], bool]:
        return ([(url, render())], True) if now >= due else ([], False)

    follow(emu, updates)


def follow(emu: Emulator, updates: Updates) -> None:
    """Ask ``updates(now)`` on every look at the clock and POST what it gives, until it says
    the job is over.

    Must be called from a request handler (the watcher runs on the server's loop).
    """
    state = emu._family_state(_NotifyState)
    state.pending.append(updates)
    if state.watcher is None or state.watcher.done():
        state.watcher = asyncio.get_running_loop().create_task(
            _watch(emu, state), name="api4gpt emulator notify_hook"
        )


def deliveries(emu: Emulator) -> list[Delivery]:
    """Every callback sent so far, oldest first."""
    return list(emu._family_state(_NotifyState).sent)


async def _watch(emu: Emulator, state: _NotifyState) -> None:
    async with aiohttp.ClientSession(timeout=_TIMEOUT) as session:
        while state.pending:
            now = emu.now
            sent = False
            for updates in list(state.pending):
                sends, over = updates(now)
                if over:
                    state.pending.remove(updates)
                for url, payload in sends:
                    state.sent.append(await _deliver(session, url, payload))
                    sent = True
            if not sent:
                await asyncio.sleep(CHECK_INTERVAL)


async def _deliver(session: aiohttp.ClientSession, url: str, payload: Any) -> Delivery:
    try:
        async with session.post(url, json=payload) as response:
            await response.read()
            return Delivery(url=url, payload=payload, status=response.status)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        _log.warning("notify_hook %s failed: %s", url, exc)
        return Delivery(url=url, payload=payload, status=0, error=str(exc))
