"""The demo's display: a failed job's bar is red, file names whole, prompts cut with "…"."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from rich.progress import Progress

from api4gpt_async.cli._demo import PROMPT_WIDTH, StateBar, _Row, _summary, cut


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("short", 10, "short"),
        ("exactly10!", 10, "exactly10!"),
        ("a lighthouse in a storm, cinematic", 12, "a lighthous…"),
        ("word then space", 10, "word then…"),
    ],
)
def test_cut_keeps_the_width_and_ends_with_an_ellipsis(
    text: str, width: int, expected: str
) -> None:
    assert cut(text, width) == expected
    assert len(cut(text, width)) <= width


@pytest.mark.parametrize(("failed", "red"), [(True, True), (False, False)])
def test_a_failed_jobs_bar_is_red(failed: bool, red: bool) -> None:
    progress = Progress(StateBar(), console=Console(file=None, width=80))
    task_id = progress.add_task("job", total=1, completed=1, failed=failed)
    bar = StateBar().render(progress.tasks[task_id])
    assert (bar.finished_style == "red" and bar.complete_style == "red") is red


@pytest.mark.parametrize("width", [120, 60])
def test_summary_shows_file_names_whole_and_cuts_prompts(tmp_path: Path, width: int) -> None:
    long_name = "0f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9-1.mp4"
    prompt = "timelapse of a city skyline from dusk to night, with [fail] markers and more words"
    rows = [
        _Row(prompt, "luma", state="saved", path=tmp_path / long_name, seconds=2.0),
        _Row("a cat", "lumvip", state="failed", seconds=1.0, note="emulated failure [x]"),
    ]
    console = Console(record=True, width=width, color_system=None)
    console.print(_summary(rows, 3.0, tmp_path))
    text = console.export_text()
    if width >= 120:
        assert long_name in text  # whole, on one line
        assert cut(prompt, PROMPT_WIDTH) in text
    folded = "".join(ch for ch in text if ch not in " \n│┃")
    assert long_name in folded  # never cut short, at most folded over lines
    assert prompt not in text and "…" in text
    assert "emulated failure [x]" in text  # notes are not read as markup
