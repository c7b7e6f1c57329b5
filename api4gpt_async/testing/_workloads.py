"""One table of the work the SDK does, family by family, for the chaos run and the fault matrix.

Each :class:`Workload` says how to start one piece of billable work with a client (a task
family's submit, a chat, a streamed chat) carrying a *marker* in its prompt, and how to tell
from the emulator's request log whether the server accepted it. Adding a family to the
reliability suite is adding one entry to :data:`WORKLOADS`.

Outcome classes (:func:`classify`): every intent ends as exactly one of

- ``"done"``: the work's result arrived (a job waited for and its media downloaded, a chat
  answered, a stream read to its end);
- ``"failed"``: the work was accepted and the client holds its handle or stream, but it ended in
  a typed error (a job that failed on the server, a stream cut short…);
- ``"refused"``: a typed error before acceptance, and the server's log shows no accepted submit;
- ``"uncertain"``: ``SubmissionUncertainError`` (the client cannot know; it did not re-send);
- ``"lost"``: the server accepted the work but the client has neither a handle, a result nor
  an uncertain error for it: the defect this suite exists to catch.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs

from .. import API4GPTError, SubmissionUncertainError, TaskFailedError
from ._suno import _V3_FLAVOURS as SUNO_V3_FLAVOURS
from ._zhipu import PREFIXES as ZHIPU_PREFIXES

if TYPE_CHECKING:
    from pathlib import Path

    from .. import AsyncAPI4GPT, TaskHandle
    from ._emulator import RecordedRequest

__all__ = [
    "MARKER",
    "WORKLOADS",
    "Attempt",
    "Workload",
    "accepted_by_marker",
    "classify",
    "key_leaks",
    "marker_of",
    "perform",
    "summary",
]

Shape = Literal["task", "chat", "stream"]
Stage = Literal["submit", "wait", "download", "read"]
Outcome = Literal["done", "failed", "refused", "uncertain", "lost"]

#: Markers look like ``chaos-000042``; one per intent, inside its prompt.
MARKER: Final = re.compile(rb"chaos-\d{6}")


def marker_of(number: int) -> str:
    """The marker of intent ``number``."""
    return f"chaos-{number:06d}"


def _ok(entry: RecordedRequest) -> bool:
    return entry.status == 200


@attrs.frozen(kw_only=True)
class Workload:
    """One kind of billable work.

    Attributes:
        name: the family, as reached from the client (``"suno.v3_5"`` is
            ``client.suno.v3_5``), or ``"chat"`` / ``"stream"``.
        shape: ``"task"`` (submit returns a ``TaskHandle``), ``"chat"`` or ``"stream"``.
        submit: ``submit(client, prompt)``: starts the work; a handle for a task, the answer
            for a chat, the open ``Stream`` for a stream.
        routes: the emulator route names of its billable submits.
        status_route: the emulator route name of its one-job status query (task families).
        accepted: whether a logged submit was accepted (default: answered 200; Midjourney
            refuses with codes inside a 200 only when the emulator's queue-full or banned-word
            switches are on, which the reliability suite leaves off).
        can_fail: whether a prompt asking to fail (a word "fail…") makes the job fail.
    """

    name: str
    shape: Shape
    submit: Callable[[AsyncAPI4GPT, str], Awaitable[Any]]
    routes: frozenset[str]
    status_route: str | None = None
    accepted: Callable[[RecordedRequest], bool] = _ok
    can_fail: bool = True


async def _luma(client: AsyncAPI4GPT, prompt: str) -> TaskHandle[Any]:
    return await client.luma.generate(prompt)


async def _lumvip(client: AsyncAPI4GPT, prompt: str) -> TaskHandle[Any]:
    return await client.lumvip.generate(prompt)


async def _midjourney(client: AsyncAPI4GPT, prompt: str) -> TaskHandle[Any]:
    return await client.midjourney.imagine(prompt)


async def _suno(client: AsyncAPI4GPT, prompt: str) -> TaskHandle[Any]:
    return await client.suno.generate(gpt_description_prompt=prompt)


def _suno_v3(version: str) -> Callable[[AsyncAPI4GPT, str], Awaitable[Any]]:
    async def submit(client: AsyncAPI4GPT, prompt: str) -> TaskHandle[Any]:
        service = getattr(client.suno, version)
        return await service.generate(gpt_description_prompt=prompt)  # type: ignore[no-any-return]

    return submit


def _candidates(route: str, count: int) -> frozenset[str]:
    """The emulator's names of a route served at ``count`` candidate paths."""
    return frozenset(route + (f".alt{n}" if n else "") for n in range(count))


async def _zhipu_video(client: AsyncAPI4GPT, prompt: str) -> TaskHandle[Any]:
    return await client.zhipu_video.generate(prompt=prompt)


async def _digital_human(client: AsyncAPI4GPT, prompt: str) -> TaskHandle[Any]:
    # The marker (and a word asking to fail) ride in the avatar's URL.
    avatar = "https://example.com/" + prompt.replace(" ", "-") + ".jpg"
    return await client.digital_human.create(avatar, audio_url="https://example.com/voice.mp3")


def _messages(prompt: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": prompt}]


async def _chat(client: AsyncAPI4GPT, prompt: str) -> Any:
    return await client.chat.completions.create(model="gpt-4o-mini", messages=_messages(prompt))


async def _stream(client: AsyncAPI4GPT, prompt: str) -> Any:
    return await client.chat.completions.create(
        model="gpt-4o-mini", messages=_messages(prompt), stream=True
    )


_CHATS: Final[tuple[tuple[Shape, Callable[[AsyncAPI4GPT, str], Awaitable[Any]]], ...]] = (
    ("chat", _chat),
    ("stream", _stream),
)

#: Every family of work, each once. Task families first.
WORKLOADS: Final[tuple[Workload, ...]] = (
    *(
        Workload(
            name=name,
            shape="task",
            submit=submit,
            routes=frozenset({f"{name}.{submit_route}"}),
            status_route=f"{name}.{status_route}",
        )
        for name, submit, submit_route, status_route in (
            ("luma", _luma, "generate", "task"),
            ("lumvip", _lumvip, "generate", "task"),
            ("midjourney", _midjourney, "imagine", "fetch"),
            ("suno", _suno, "generate", "fetch"),
            ("digital_human", _digital_human, "create", "task"),
        )
    ),
    Workload(
        name="zhipu_video",
        shape="task",
        submit=_zhipu_video,
        # Every candidate prefix: a submit may land on any of them.
        routes=_candidates("zhipu_video.generate", len(ZHIPU_PREFIXES)),
        status_route="zhipu_video.result",
    ),
    *(
        Workload(
            name=f"suno.{version}",
            shape="task",
            submit=_suno_v3(version),
            routes=_candidates(f"suno.{version}.generate", len(prefixes)),
            status_route=f"suno.{version}.fetch",
        )
        for version, _model, prefixes in SUNO_V3_FLAVOURS
    ),
    *(
        Workload(
            name=shape,
            shape=shape,
            submit=submit,
            routes=frozenset({"chat.completions"}),
            can_fail=False,
        )
        for shape, submit in _CHATS
    ),
)


@attrs.define(kw_only=True, eq=False)
class Attempt:
    """What became of one piece of work, from the client's side (see :func:`perform`).

    Attributes:
        workload: what was done.
        held: the client got the work's handle, answer or open stream.
        completed: its result arrived in full (downloaded, answered, read to the end).
        uncertain: the submit raised ``SubmissionUncertainError``.
        error: the error it ended with, if any (a ``TaskFailedError`` for a job that failed).
        handle: the task handle (task families).
        stages: the stages entered, in order.
    """

    workload: Workload
    held: bool = False
    completed: bool = False
    uncertain: bool = False
    error: BaseException | None = None
    handle: TaskHandle[Any] | None = None
    stages: list[Stage] = attrs.field(factory=list)

    def outcome(self, accepted: int) -> Outcome:
        """The outcome class, given how many accepted submits the server's log shows."""
        return classify(
            held=self.held, completed=self.completed, uncertain=self.uncertain, accepted=accepted
        )


async def perform(
    client: AsyncAPI4GPT,
    workload: Workload,
    prompt: str,
    *,
    folder: Path,
    wait_timeout: float = 60.0,
    download_timeout: float | None = None,
    on_stage: Callable[[Stage], None] | None = None,
) -> Attempt:
    """Do one piece of work to its end and say what became of it; never raises an
    ``Exception`` (an error that is not an SDK error is kept in ``error`` like any other).

    Task families: submit, ``wait(timeout=wait_timeout)``, ``download`` into ``folder``
    (created if needed); chats: the answer; streams: read to the end. ``on_stage(stage)`` is
    called as each stage (``"submit"``, ``"wait"``, ``"download"``, ``"read"``) begins, e.g. to
    arm a fault for it.
    """
    attempt = Attempt(workload=workload)

    def enter(stage: Stage) -> None:
        attempt.stages.append(stage)
        if on_stage is not None:
            on_stage(stage)

    try:
        enter("submit")
        answer = await workload.submit(client, prompt)
        attempt.held = True
        if workload.shape == "task":
            attempt.handle = answer
            enter("wait")
            try:
                await answer.wait(timeout=wait_timeout)
            except TaskFailedError as exc:
                attempt.error = exc  # the job's own end
                return attempt
            enter("download")
            folder.mkdir(parents=True, exist_ok=True)
            await answer.download(folder, timeout=download_timeout)
        elif workload.shape == "stream":
            enter("read")
            async with answer as stream:
                async for _chunk in stream:
                    pass
        attempt.completed = True
    except SubmissionUncertainError as exc:
        attempt.uncertain = not attempt.held
        attempt.error = exc
    except API4GPTError as exc:
        attempt.error = exc
    except Exception as exc:  # counted by the caller as an untyped escape
        attempt.error = exc
    return attempt


def accepted_by_marker(
    requests: Iterable[RecordedRequest], workloads: Iterable[Workload] = WORKLOADS
) -> dict[str, int]:
    """How many accepted billable submits the log shows for each marker."""
    accepts: dict[str, Callable[[RecordedRequest], bool]] = {}
    for workload in workloads:
        for route in workload.routes:
            accepts.setdefault(route, workload.accepted)
    counts: dict[str, int] = {}
    for entry in requests:
        accepted = accepts.get(entry.route or "")
        if accepted is None or not accepted(entry):
            continue
        match = MARKER.search(entry.body)
        if match is not None:
            marker = match.group().decode()
            counts[marker] = counts.get(marker, 0) + 1
    return counts


def classify(*, held: bool, completed: bool, uncertain: bool, accepted: int) -> Outcome:
    """The outcome class of one intent.

    Args:
        held: the client got the work's handle, answer or open stream.
        completed: its result arrived in full (downloaded, answered, read to the end).
        uncertain: the submit raised ``SubmissionUncertainError``.
        accepted: accepted submits of it in the server's log.
    """
    if completed:
        return "done"
    if held:
        return "failed"
    if uncertain:
        return "uncertain"
    return "lost" if accepted else "refused"


def summary(outcomes: Iterable[Outcome]) -> Mapping[str, int]:
    """How many intents ended in each class."""
    counts: dict[str, int] = dict.fromkeys(("done", "failed", "refused", "uncertain", "lost"), 0)
    for outcome in outcomes:
        counts[outcome] += 1
    return counts


def key_leaks(error: BaseException, key: str) -> list[str]:
    """Where ``key`` can be read in ``error``: its repr, str, args, ``__dict__``, the same for
    every exception of its cause / context chain, and its formatted traceback."""
    found: list[str] = []
    seen: set[int] = set()
    chain: list[BaseException] = [error]
    while chain:
        exc = chain.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        name = type(exc).__name__
        for place, text in (
            ("repr", _safe(repr, exc)),
            ("str", _safe(str, exc)),
            ("args", _safe(repr, exc.args)),
            ("__dict__", _safe(repr, getattr(exc, "__dict__", {}))),
        ):
            if key in text:
                found.append(f"{name}.{place}")
        chain.extend(e for e in (exc.__cause__, exc.__context__) if e is not None)
    text = "".join(traceback.format_exception(error))
    if key in text:
        found.append("traceback")
    return found


def _safe(fn: Any, value: Any) -> str:
    try:
        return str(fn(value))
    except Exception as exc:  # a broken repr is not our question here
        return f"<{type(exc).__name__}>"
