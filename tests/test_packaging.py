"""What a package index shows and what a user types first: licence, metadata, README, CHANGELOG."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api4gpt_async import TaskState, __version__

ROOT = Path(__file__).resolve().parent.parent
tomllib = pytest.importorskip("tomllib")  # Python 3.11+


def test_license_is_mit() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text


def test_project_metadata() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert project["readme"] == "README.md"
    assert project["urls"]["Homepage"].startswith("https://")
    versions = {c.rsplit(" ", 1)[-1] for c in project["classifiers"] if "Python :: 3." in c}
    assert {"3.10", "3.11", "3.12", "3.13"} <= versions


def test_readme_works_as_a_long_description() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "virtual environment" in readme
    assert "pip install 'api4gpt-async[cli]'" in readme  # works from an index, not a checkout
    relative = [t for t in re.findall(r"\]\(([^)]+)\)", readme) if not t.startswith("http")]
    assert relative == []  # links that only work inside the repository break on an index page


def test_changelog_has_a_released_section_under_unreleased() -> None:
    headings = re.findall(r"^## \[([^\]]+)\](.*)$", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert headings[0] == ("Unreleased", "")
    released = headings[1]
    assert released[0] == __version__
    assert re.fullmatch(r" - \d{4}-\d{2}-\d{2}", released[1])


def test_task_state_prints_as_its_word() -> None:
    assert str(TaskState.PENDING) == "pending"
    assert f"{TaskState.SUCCEEDED}" == "succeeded"
    assert [str(s) for s in TaskState] == [s.value for s in TaskState]


def test_model_classes_are_importable_from_models() -> None:
    import api4gpt_async.models as models
    from api4gpt_async.models import ChatCompletion, ImagesResponse, LumaGeneration, ModelList
    from api4gpt_async.models.chat import ChatCompletion as FromFamily

    assert ChatCompletion is FromFamily
    assert {
        "ChatCompletion",
        "Completion",
        "CreateEmbeddingResponse",
        "Transcription",
        "SpeechResponse",
    } <= set(models.__all__)
    for name in models.__all__:
        assert isinstance(getattr(models, name), type)
    assert ImagesResponse.__module__ == "api4gpt_async.models.images"
    assert LumaGeneration.__module__ == "api4gpt_async.models.luma"
    assert ModelList.__module__ == "api4gpt_async.models.model_list"
