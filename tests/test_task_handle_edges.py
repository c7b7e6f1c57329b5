"""``TaskHandle`` and ``client.tasks`` at their edges: what a handle shows, what its downloads
pass on, the messages of its refusals and of a wait that ends without a result, and how
``as_completed`` / ``gather`` bound polling."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest
from _until import until

from api4gpt_async import (
    APITimeoutError,
    AsyncAPI4GPT,
    PollPolicy,
    ResponseTooLargeError,
    TaskCancelledError,
    TaskError,
    TaskFailedError,
    TaskNeedsActionError,
    TaskState,
    TaskTimeoutError,
)
from api4gpt_async.tasks import TaskKind, TaskSnapshot
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio


def _polls_of(emulator: Emulator, task_id: str) -> int:
    return sum(1 for r in emulator.requests if r.route == "luma.task" and r.query["id"] == task_id)


# -- what a handle shows -------------------------------------------------------------------------


async def test_repr_names_kind_id_and_last_state(client: AsyncAPI4GPT) -> None:
    assert repr(client.luma.task("abc")) == "<TaskHandle luma abc unknown>"  # nothing seen yet
    handle = await client.luma.generate("a fox")
    assert repr(handle) == f"<TaskHandle luma {handle.id} pending>"


# -- download_all passes its options on ---------------------------------------------------------


async def _finished(client: AsyncAPI4GPT, emulator: Emulator) -> Any:
    handle = await client.luma.generate("a fox")
    emulator.advance(60)
    await handle.wait()
    return handle


async def test_download_all_refuses_to_overwrite_unless_asked(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    handle = await _finished(client, emulator)
    first = await handle.download_all(tmp_path)
    with pytest.raises(FileExistsError):
        await handle.download_all(tmp_path)
    assert await handle.download_all(tmp_path, overwrite=True) == first


async def test_download_all_refuses_before_fetching_anything_when_one_name_is_taken(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    handle = await _finished(client, emulator)
    video, _thumbnail = await handle.download_all(tmp_path)
    video.unlink()  # the video is gone, its thumbnail still there
    fetched = emulator.count("files")
    with pytest.raises(FileExistsError):
        await handle.download_all(tmp_path)
    assert emulator.count("files") == fetched and not video.exists()


async def test_download_all_honours_max_bytes(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    handle = await _finished(client, emulator)
    with pytest.raises(ResponseTooLargeError):
        await handle.download_all(tmp_path, max_bytes=10)
    assert list(tmp_path.iterdir()) == []


async def test_download_all_honours_its_timeout(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    """The client's own timeout is 10 s; the call's 0.3 s is what bounds the slow file."""
    handle = await _finished(client, emulator)
    emulator.delay("files", 5, times=None)
    with anyio.fail_after(3), pytest.raises(APITimeoutError):
        await handle.download_all(tmp_path, timeout=0.3)


async def test_download_passes_its_options_on(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    handle = await _finished(client, emulator)
    with pytest.raises(ResponseTooLargeError):
        await handle.download(tmp_path, max_bytes=10)
    assert list(tmp_path.iterdir()) == []
    emulator.delay("files", 5)  # the client's own timeout is 10 s
    with anyio.fail_after(3), pytest.raises(APITimeoutError):
        await handle.download(tmp_path, timeout=0.3)


async def test_download_names_a_nameless_file_after_the_job(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    """A server name that is no usable name (here ``..``) gives ``<job id>.mp4``."""
    handle = await _finished(client, emulator)
    headers = {"Content-Disposition": 'attachment; filename=".."', "Content-Type": "video/mp4"}
    emulator.fail("files", status=200, body=b"\0" * 64, headers=headers)
    path = await handle.download(tmp_path)
    assert path == tmp_path / f"{handle.id}.mp4"


async def test_download_of_a_finished_job_asks_no_status(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    handle = await _finished(client, emulator)
    emulator.clear_requests()
    await handle.download(tmp_path)
    await handle.download_all(tmp_path / "all")
    assert emulator.count("luma.task") == 0  # the finished snapshot it has is enough


async def test_download_of_a_job_waiting_for_input_fails_after_one_look(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    """A Midjourney job in MODAL will not finish alone: one status request, no waiting."""
    grid = await client.midjourney.imagine("red fox")
    emulator.advance(60)
    upscale = await client.midjourney.upscale(await grid.wait(), 1)
    emulator.advance(60)
    handle = await client.midjourney.custom_zoom(await upscale.wait())
    emulator.clear_requests()
    with pytest.raises(TaskNeedsActionError):
        await handle.download(tmp_path)
    assert emulator.count("midjourney.fetch") + emulator.count("midjourney.list_by_condition") == 1


@attrs.define
class NoMediaKind(TaskKind[str, str]):
    """Jobs that succeed at once with a result that has no file."""

    transport: Any = None
    name: str = "nomedia"

    async def fetch(self, task_id: str, *, timeout: float | None = None) -> str:
        return "done"

    def snapshot(self, task_id: str, status: str) -> TaskSnapshot[str]:
        return TaskSnapshot(id=task_id, kind=self.name, state=TaskState.SUCCEEDED, raw=status)

    def result(self, status: str) -> str:
        return status


async def test_a_job_without_media_says_so(client: AsyncAPI4GPT, tmp_path: Path) -> None:
    client.tasks.register(NoMediaKind())
    handle = client.tasks.resume("nomedia:j1")
    with pytest.raises(TaskError) as info:
        await handle.download_all(tmp_path)
    assert str(info.value) == "nomedia task j1 has no media to download"
    with pytest.raises(TaskError) as info:
        await handle.download(tmp_path)
    assert str(info.value) == "nomedia task j1 has no media to download"


def test_resume_reads_padded_json_and_ids_with_colons() -> None:
    client = AsyncAPI4GPT(api_key="k")
    padded = client.tasks.resume('  {"kind": "luma", "id": "abc"}\n')
    assert (padded.kind, padded.id) == ("luma", "abc")
    colon = client.tasks.resume("luma:a:b")  # the first colon ends the kind
    assert (colon.kind, colon.id) == ("luma", "a:b")


def test_resume_of_an_unknown_kind_lists_the_known_ones() -> None:
    client = AsyncAPI4GPT(api_key="k")
    with pytest.raises(ValueError, match=r"^unknown task kind") as info:
        client.tasks.resume("nope:1")
    known = ", ".join(client.tasks.kinds)
    assert str(info.value) == f"unknown task kind 'nope' (known: {known})"


def test_read_of_an_unknown_kind_lists_the_known_ones() -> None:
    client = AsyncAPI4GPT(api_key="k")
    with pytest.raises(ValueError, match=r"^unknown task kind") as info:
        client.tasks.read("nope", {"id": "1"})
    known = ", ".join(client.tasks.kinds)
    assert "luma, lumvip" in known
    assert str(info.value) == f"unknown task kind 'nope' (known: {known})"


# -- as_completed / gather bound polling --------------------------------------------------------


async def test_as_completed_polls_at_most_concurrency_jobs_past_a_finished_one(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    """A job already known finished is yielded at once and does not use up a polling slot."""
    done = await client.luma.generate("done")
    emulator.advance(60)
    await done.refresh()
    a, b, c = [await client.luma.generate(f"job {i}") for i in range(3)]  # pending: clock frozen
    outcomes: list[Any] = []

    async def consume() -> None:
        async for outcome in client.tasks.as_completed([a, done, b, c], concurrency=2):
            outcomes.append(outcome)

    async with anyio.create_task_group() as tg:
        tg.start_soon(consume)
        await until(lambda: _polls_of(emulator, a.id) >= 3 and _polls_of(emulator, b.id) >= 3)
        assert [o.index for o in outcomes] == [1]
        assert _polls_of(emulator, c.id) == 0  # two slots, both taken by a and b
        emulator.advance(60)
    assert sorted(o.index for o in outcomes) == [0, 1, 2, 3]
    assert all(o.ok for o in outcomes)


async def test_gather_passes_concurrency_on(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    a, b, c = [await client.luma.generate(f"job {i}") for i in range(3)]
    async with anyio.create_task_group() as tg:
        results: list[Any] = []

        async def gather() -> None:
            results.extend(await client.tasks.gather([a, b, c], concurrency=1))

        tg.start_soon(gather)
        await until(lambda: _polls_of(emulator, a.id) >= 3)
        assert (_polls_of(emulator, b.id), _polls_of(emulator, c.id)) == (0, 0)
        emulator.advance(60)
    assert [r.id for r in results] == [a.id, b.id, c.id]


async def test_a_timed_out_outcome_carries_the_last_snapshot(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    slow = await client.luma.generate("slow")
    (outcome,) = [o async for o in client.tasks.as_completed([slow], timeout=0.1)]
    assert isinstance(outcome.error, TaskTimeoutError)
    assert outcome.error.snapshot is not None
    assert outcome.error.snapshot is slow.last
    assert outcome.error.snapshot.state is TaskState.PENDING


# -- how a wait ends: the errors and their messages ------------------------------------------------


@attrs.define
class ScriptedKind(TaskKind[dict[str, Any], str]):
    """Every status query answers ``status``: a state word, and optionally a failure reason,
    ``needs_action`` and a suggested input."""

    transport: Any = None
    name: str = "scripted"
    status: dict[str, Any] = attrs.Factory(dict)

    async def fetch(self, task_id: str, *, timeout: float | None = None) -> dict[str, Any]:
        return dict(self.status)

    def snapshot(self, task_id: str, status: dict[str, Any]) -> TaskSnapshot[dict[str, Any]]:
        return TaskSnapshot(
            id=task_id,
            kind=self.name,
            state=TaskState(status["state"]),
            raw=status,
            failure_reason=status.get("reason"),
            needs_action=status.get("needs_action", False),
        )

    def result(self, status: dict[str, Any]) -> str:
        return str(status["state"])

    def suggested_input(self, status: dict[str, Any]) -> str | None:
        return status.get("suggested")


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        ({"state": "failed"}, TaskFailedError, "scripted task j1 failed: no reason given"),
        ({"state": "failed", "reason": "boom"}, TaskFailedError, "scripted task j1 failed: boom"),
        ({"state": "cancelled"}, TaskCancelledError, "scripted task j1 was cancelled"),
        (
            {"state": "running", "needs_action": True},
            TaskNeedsActionError,
            "scripted task j1 waits for input and will not finish alone",
        ),
        (
            {"state": "running", "needs_action": True, "suggested": "a fox"},
            TaskNeedsActionError,
            "scripted task j1 waits for input and will not finish alone "
            "(suggested prompt: 'a fox')",
        ),
    ],
)
async def test_a_wait_that_ends_without_a_result_says_how(
    client: AsyncAPI4GPT, status: dict[str, Any], error: type[Exception], message: str
) -> None:
    client.tasks.register(ScriptedKind(status=status))
    handle = client.tasks.resume("scripted:j1")
    with pytest.raises(error) as info:
        await handle.wait()
    assert str(info.value) == message
    assert getattr(info.value, "snapshot", None) is handle.last is not None
    if isinstance(info.value, TaskFailedError):
        assert info.value.reason == status.get("reason")
    if isinstance(info.value, TaskNeedsActionError):
        assert info.value.suggested_prompt == status.get("suggested")


async def test_wait_times_out_after_the_policy_timeout_unless_told_otherwise(
    make_client: Callable[..., AsyncAPI4GPT],
) -> None:
    fast = {"initial_delay": 0.001, "max_delay": 0.005, "jitter": 0}
    async with make_client(poll=PollPolicy(**fast, timeout=0.05)) as client:
        handle = await client.luma.generate("slow")  # the clock is frozen: it never ends
        with anyio.fail_after(3), pytest.raises(TaskTimeoutError) as info:
            await handle.wait()
        assert str(info.value) == (
            f"luma task {handle.id} did not finish within 0.05s "
            "(it may still finish: wait again or keep its ref)"
        )
        assert info.value.snapshot is handle.last is not None
        own = PollPolicy(**fast, timeout=0.07)
        with anyio.fail_after(3), pytest.raises(TaskTimeoutError, match=r"within 0\.07s "):
            await handle.wait(poll=own)
        with anyio.fail_after(3), pytest.raises(TaskTimeoutError, match=r"within 0\.03s "):
            await handle.wait(timeout=0.03, poll=own)


# -- every save returns where it wrote, absolute -------------------------------------------------

#: Each way to save (client, finished handle, its video URL), to a relative destination.
SAVES: dict[str, Callable[[AsyncAPI4GPT, Any, str], Any]] = {
    "download to a file": lambda c, h, url: h.download("out/fox.mp4"),
    "download into a folder": lambda c, h, url: h.download("out/"),
    "download_all into a folder": lambda c, h, url: h.download_all("out"),
    "client.download to a file": lambda c, h, url: c.download(url, "out/raw.mp4"),
    "client.download into a folder": lambda c, h, url: c.download(url, "out/"),
}


@pytest.mark.parametrize("save", SAVES)
async def test_every_save_returns_an_absolute_path(
    client: AsyncAPI4GPT,
    emulator: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    save: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    handle = await _finished(client, emulator)
    url = (await handle.wait()).video.url
    saved = await SAVES[save](client, handle, url)
    for path in saved if isinstance(saved, list) else [saved]:
        assert path.is_absolute() and path.is_file()
        assert path.parent == tmp_path / "out"
