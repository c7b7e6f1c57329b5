"""API4GPT_LOG turns on the SDK's own log output, once, at the level it names."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from api4gpt_async import _logging

LOGGER = logging.getLogger("api4gpt_async")


@pytest.fixture
def fresh_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(_logging, "_configured", False)
    handlers, level = list(LOGGER.handlers), LOGGER.level
    yield
    LOGGER.handlers[:] = handlers
    LOGGER.setLevel(level)


@pytest.mark.usefixtures("fresh_logging")
def test_api4gpt_log_sets_level_and_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API4GPT_LOG", "debug")
    _logging.setup_logging_from_env()
    _logging.setup_logging_from_env()  # a second client adds nothing
    assert LOGGER.level == logging.DEBUG
    added = [h for h in LOGGER.handlers if type(h) is logging.StreamHandler]
    assert len(added) == 1


@pytest.mark.usefixtures("fresh_logging")
@pytest.mark.parametrize("value", ["", "verbose"])
def test_unset_or_unknown_value_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("API4GPT_LOG", value)
    before = list(LOGGER.handlers)
    _logging.setup_logging_from_env()
    assert LOGGER.handlers == before


_WARN = "logging.getLogger('api4gpt_async.x').warning('heard')"


@pytest.mark.parametrize(
    ("setup", "heard"),
    [("", False), ("logging.basicConfig(); ", True)],
    ids=["no-logging-set-up", "application-logging"],
)
def test_the_sdk_is_silent_until_the_application_sets_logging_up(setup: str, heard: bool) -> None:
    # A library's NullHandler: no last-resort output on the stderr of an application that set
    # nothing up; the application's own handlers hear everything.
    code = "import logging, api4gpt_async; " + setup + _WARN
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={**os.environ, "API4GPT_LOG": ""},
    )  # fmt: skip
    assert ("heard" in done.stderr) is heard
