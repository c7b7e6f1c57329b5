"""``notify_hook`` callbacks: the emulator POSTs a job's record to the URL it was given.

A family calls, at submit, either

- :func:`notify_when_done` with the emulator-clock instant the job ends and a function that
  renders its record then: one callback, the final record (new-api task relays); or
- :func:`notify_changes` with a function rendering the record at any emulator time, what counts
  as a change, what ends the job and when it may change: a callback on every change, in order,
  even when the clock jumps (midjourney-proxy's ``notifyHook``). :func:`resend` starts over
  (a Midjourney task confirmed out of ``MODAL``).

A small watcher task (started on first use, stopped with the server) delivers each callback once
the clock — running, or moved with ``emu.advance`` — has passed its instant: one ``POST`` with the
JSON record, no retries, as the gateway does. Every attempt is kept in :func:`deliveries` (URL,
record, status or error text).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any, Final

import aiohttp
import attrs
from aiohttp import web

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = [
    "Delivery",
    "Watch",
    "attach",
    "deliveries",
    "notify_changes",
    "notify_when_done",
    "resend",
]

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


@attrs.define(eq=False, kw_only=True)
class Watch:
    """A job whose every change is POSTed to ``url`` (see :func:`notify_changes`)."""

    url: str
    render: Callable[[float], Any]
    key: Callable[[Any], Hashable | None]
    final: Callable[[Any], bool]
    times: Callable[[], Iterable[float]]
    sent: Hashable | None = None
    done: bool = False


@attrs.define
class _NotifyState:
    pending: list[_Pending] = attrs.field(factory=list)
    watches: list[Watch] = attrs.field(factory=list)
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
    _start(emu, state)


def notify_changes(
    emu: Emulator,
    url: str | None,
    *,
    render: Callable[[float], Any],
    key: Callable[[Any], Hashable | None],
    final: Callable[[Any], bool],
    times: Callable[[], Iterable[float]],
) -> Watch | None:
    """POST every change of a job to ``url`` from now on, in order (no-op without url).

    ``render(at)`` is the record at emulator time ``at``; ``key(record)`` what counts as a
    change (None: not sent, e.g. a state not shown yet); ``final(record)`` whether nothing
    follows it; ``times()`` the emulator times at which the record may change, so that each
    change is sent even when the clock jumps past several. Call from a request handler.
    """
    if not url:
        return None
    state = emu._family_state(_NotifyState)
    watch = Watch(url=url, render=render, key=key, final=final, times=times)
    state.watches.append(watch)
    _start(emu, state)
    return watch


def resend(emu: Emulator, watch: Watch, url: str | None = None) -> None:
    """Send ``watch``'s job again from its current state on (to ``url`` when given)."""
    watch.url = url or watch.url
    watch.sent, watch.done = None, False
    _start(emu, emu._family_state(_NotifyState))


def _start(emu: Emulator, state: _NotifyState) -> None:
    if state.watcher is None or state.watcher.done():
        state.watcher = asyncio.get_running_loop().create_task(
            _watch(emu, state), name="api4gpt emulator notify_hook"
        )


def deliveries(emu: Emulator) -> list[Delivery]:
    """Every callback sent so far, oldest first."""
    return list(emu._family_state(_NotifyState).sent)


async def _watch(emu: Emulator, state: _NotifyState) -> None:
    while True:
        async with aiohttp.ClientSession(timeout=_TIMEOUT) as session:
            while _has_work(state):
                now = emu.now
                due = [p for p in state.pending if p.due <= now]
                for item in due:
                    state.pending.remove(item)
                    state.sent.append(await _deliver(session, item.url, item.render()))
                for watch in [w for w in state.watches if not w.done]:
                    await _send_changes(session, state, watch, now)
                state.watches = [w for w in state.watches if not w.done]
                if not due:
                    await asyncio.sleep(CHECK_INTERVAL)
        # A job may have come while the session closed: ``_start`` saw this task still
        # running and started none. Checked with no await before the task ends.
        if not _has_work(state):
            return


def _has_work(state: _NotifyState) -> bool:
    return bool(state.pending) or any(not w.done for w in state.watches)


async def _send_changes(
    session: aiohttp.ClientSession, state: _NotifyState, watch: Watch, now: float
) -> None:
    """POST each change of ``watch``'s job up to ``now`` not sent yet, in order."""
    for at in [*(t for t in sorted(watch.times()) if t <= now), now]:
        record = watch.render(at)
        key = watch.key(record)
        if key is None or key == watch.sent:
            continue
        watch.sent, watch.done = key, watch.final(record)
        state.sent.append(await _deliver(session, watch.url, record))
        if watch.done:
            return


async def _deliver(session: aiohttp.ClientSession, url: str, payload: Any) -> Delivery:
    try:
        async with session.post(url, json=payload) as response:
            await response.read()
            return Delivery(url=url, payload=payload, status=response.status)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        _log.warning("notify_hook %s failed: %s", url, exc)
        return Delivery(url=url, payload=payload, status=0, error=str(exc))
