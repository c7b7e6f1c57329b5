"""``notify_hook`` callbacks: the emulator POSTs a job's final record to the URL it was given.

A family calls :func:`notify_when_done` at submit with the emulator-clock instant the job ends
and a function that renders its record then. A small watcher task (started on first use, stopped
with the server) delivers each callback once the clock — running, or moved with
``emu.advance`` — has passed that instant: one ``POST`` with the JSON record, no retries, as the
gateway does. Every attempt is kept in :func:`deliveries` (URL, record, status or error text).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import aiohttp
import attrs
from aiohttp import web

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["Delivery", "attach", "deliveries", "notify_when_done"]

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


@attrs.define(eq=False)
class _Pending:
    url: str
    due: float
    render: Callable[[], Any]


@attrs.define
class _NotifyState:
    pending: list[_Pending] = attrs.field(factory=list)
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
    state = emu._family_state(_NotifyState)
    state.pending.append(_Pending(url, due, render))
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
            due = [p for p in state.pending if p.due <= now]
            for item in due:
                state.pending.remove(item)
                state.sent.append(await _deliver(session, item))
            if not due:
                await asyncio.sleep(CHECK_INTERVAL)


async def _deliver(session: aiohttp.ClientSession, item: _Pending) -> Delivery:
    payload = item.render()
    try:
        async with session.post(item.url, json=payload) as response:
            await response.read()
            return Delivery(url=item.url, payload=payload, status=response.status)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        _log.warning("notify_hook %s failed: %s", item.url, exc)
        return Delivery(url=item.url, payload=payload, status=0, error=str(exc))
