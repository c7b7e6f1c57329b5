"""A job's progress and ETA are figures or None: never NaN, infinity or a negative wait.

A gateway may send ``"estimate_wait_seconds": NaN`` or ``"progress": "NaN%"`` (JSON from a
JavaScript or Python server that serialised a missing number); every family's snapshot is
made in one place, which keeps such values out of ``progress`` and ``eta_seconds`` (a CLI
would print ``~nans``, a scheduler compare with NaN).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from api4gpt_async import AsyncAPI4GPT, TaskState
from api4gpt_async._convert import fraction_from_percent
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio

JSON = {"Content-Type": "application/json"}


NO_FIGURES = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}
CASES = [
    *(
        pytest.param("luma", "estimate_wait_seconds", sent, "eta_seconds", id=f"luma-eta-{name}")
        for name, sent in {**NO_FIGURES, "negative": -5}.items()
    ),
    *(
        pytest.param("midjourney", "progress", sent, "progress", id=f"midjourney-progress-{name}")
        for name, sent in {**NO_FIGURES, "NaN%": "NaN%", "nan-text": "nan", "inf%": "inf%"}.items()
    ),
]


@pytest.mark.parametrize(("family", "field", "sent", "figure"), CASES)
async def test_a_progress_or_eta_that_is_no_figure_is_unknown(
    client: AsyncAPI4GPT, emulator: Emulator, family: str, field: str, sent: Any, figure: str
) -> None:
    service = getattr(client, family)
    handle = await (service.generate if family == "luma" else service.imagine)("a paper boat")
    emulator.advance(5)
    running = await service.get(handle.id)
    route = {"luma": "luma.task", "midjourney": "midjourney.fetch"}[family]
    # The running status as the emulator sends it, with NaN or infinity as Python's json writes.
    emulator.fail(route, status=200, body=json.dumps({**running.raw, field: sent}), headers=JSON,
                  times=1)  # fmt: skip
    snap = await handle.refresh()
    assert snap.state is TaskState.RUNNING
    assert getattr(snap, figure) is None
    assert getattr(await handle.refresh(), figure) is not None  # the next figure reads as sent


@pytest.mark.parametrize(
    ("sent", "read"),
    [("45%", 0.45), (" 45 % ", 0.45), (0.3, 0.3), (250, 1.0), (-3, 0.0), ("NaN", None),
     ("-inf%", None), (float("inf"), None), (True, None), ("soon", None)],
)  # fmt: skip
def test_progress_reads_as_a_fraction_or_none(sent: Any, read: float | None) -> None:
    assert fraction_from_percent(sent) == read


@pytest.mark.parametrize(
    ("progress", "eta", "read"),
    [(float("nan"), float("nan"), (None, None)), (1.5, 0.0, (1.0, 0.0)), (-0.5, 0.5, (0.0, 0.5)),
     (0.25, -1e-9, (0.25, None)), (None, float("inf"), (None, None)), (1.0, 9, (1.0, 9))],
)  # fmt: skip
async def test_any_family_s_snapshot_keeps_its_figures_readable(
    client: AsyncAPI4GPT, progress: float | None, eta: float | None, read: tuple[Any, Any]
) -> None:
    # What a family's reader passes (its own parsing, or a plug-in family's) is checked once,
    # where every snapshot is made.
    handle = await client.luma.generate("a paper boat")
    status = await client.luma.get(handle.id)
    snap = client.luma.snapshot(status, TaskState.RUNNING, progress=progress, eta_seconds=eta)
    assert (snap.progress, snap.eta_seconds) == read
