"""The kit's callback sender: a job's ``notify_hook`` gets every change of the job, POSTed.

A family calls :func:`notifier` once in its ``register`` (every family shares one sender per
emulator app) and :meth:`Notifier.watch` for each job submitted with a hook URL, giving:

- ``body(at)``: the JSON body the hook gets for the job as it is at emulator time ``at``
  (the family's status view, inside its envelope where the family's answers have one);
- ``key(body)``: what counts as a change (e.g. ``(state, progress)``); ``None`` is not sent;
- ``final(body)``: whether this body ends the job (nothing is sent after it);
- ``times()``: the emulator times at which the job may change, so that every change is sent,
  in order, even when the clock jumps (``emu.advance``).

A hook that cannot be reached, or answers an error, is not retried (as midjourney-proxy's
``NotifyServiceImpl``); a test then sees polling carry on. ``emu.notify_log`` lists what was
sent: ``(url, body, status)`` with ``status`` None when it did not arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any

import aiohttp
import anyio
import attrs
from aiohttp import web

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["Notifier", "notifier"]


@attrs.define(eq=False, kw_only=True)
class _Watch:
    url: str
    body: Callable[[float], Any]
    key: Callable[[Any], Hashable | None]
    final: Callable[[Any], bool]
    times: Callable[[], Iterable[float]]
    sent: Hashable | None = None
    done: bool = False

    def restart(self, url: str | None = None) -> None:
        """Send again from the job's current state (a job that started over, e.g. out of a
        Midjourney MODAL form), to ``url`` if given."""
        self.url = url or self.url
        self.sent, self.done = None, False


@attrs.define(eq=False)
class Notifier:
    """The callback sender of one emulator (kept across restarts, like its jobs)."""

    watches: list[_Watch] = attrs.field(factory=list)
    #: Every POST made: ``(url, body, HTTP status or None when it did not arrive)``.
    log: list[tuple[str, Any, int | None]] = attrs.field(factory=list)
    _wake: asyncio.Event | None = None

    def watch(
        self,
        url: str,
        *,
        body: Callable[[float], Any],
        key: Callable[[Any], Hashable | None],
        final: Callable[[Any], bool],
        times: Callable[[], Iterable[float]],
    ) -> _Watch:
        """Send every change of a job to ``url`` from now on (see the module docstring)."""
        watch = _Watch(url=url, body=body, key=key, final=final, times=times)
        self.watches.append(watch)
        self.wake()
        return watch

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def run(self, emu: Emulator) -> None:
        """POST changes while the emulator serves."""
        self._wake = asyncio.Event()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            while True:
                self._wake.clear()
                for watch in [w for w in self.watches if not w.done]:
                    await self._send_changes(emu, session, watch)
                pending = any(not w.done for w in self.watches)
                # The clock moves without telling anyone (advance, time_scale): look again soon.
                with anyio.move_on_after(0.01 if pending else 1.0):
                    await self._wake.wait()

    async def _send_changes(
        self, emu: Emulator, session: aiohttp.ClientSession, watch: _Watch
    ) -> None:
        now = emu.now
        for at in [*(t for t in sorted(watch.times()) if t <= now), now]:
            body = watch.body(at)
            key = watch.key(body)
            if key is None or key == watch.sent:
                continue
            watch.sent = key
            watch.done = watch.final(body)
            status: int | None = None
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with session.post(watch.url, json=body) as resp:
                    await resp.read()
                    status = resp.status
            self.log.append((watch.url, body, status))
            if watch.done:
                return


_APP_KEY = web.AppKey("api4gpt_async.notifier", Notifier)


def notifier(emu: Emulator, app: web.Application) -> Notifier:
    """The emulator's callback sender, started with ``app`` (once, whichever family asks)."""
    sender = emu._family_state(Notifier)
    if _APP_KEY not in app:
        app[_APP_KEY] = sender

        async def running(_app: web.Application) -> AsyncIterator[None]:
            worker = asyncio.get_running_loop().create_task(sender.run(emu))
            yield
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

        app.cleanup_ctx.append(running)
    return sender
