"""Midjourney tasks as midjourney-proxy reports them (through new-api's ``/mj`` relay).

The wire uses camelCase (``imageUrl``, ``failReason``); the models use the same names in
snake_case and read either spelling. Sources: midjourney-proxy ``Task`` / ``Button`` DTOs
(novicezk/midjourney-proxy, litter-coder/midjourney-proxy-plus ``docs/api.md``) and new-api
``relay/relay-mj.go`` (what the gateway changes: ``status`` may be ``""`` before its first sync,
``properties`` mostly stripped, ``imageUrl`` rewritten to ``/mj/image/{id}``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any, Final

import attrs

from .._convert import camel_case_keys
from ._base import Model

__all__ = [
    "MidjourneyButton",
    "MidjourneyPage",
    "MidjourneySubmitResult",
    "MidjourneyTask",
    "parse_progress",
]

#: ``status`` words (midjourney-proxy ``TaskStatus``); new-api adds ``""`` before its first sync.
STATUSES: Final = ("NOT_START", "SUBMITTED", "MODAL", "IN_PROGRESS", "FAILURE", "SUCCESS", "CANCEL")

_PERCENT: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%?\s*$")


def parse_progress(value: Any) -> float | None:
    """``"37%"`` → 0.37; ``"100%"`` → 1.0; ``""`` / None / NaN / unreadable → None.

    A bare number is read as a percentage too (``37`` → 0.37), as the proxies only send
    percentages; the result is kept within 0.0–1.0.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        match = _PERCENT.match(str(value))
        if match is None:
            return None
        number = float(match.group(1))
    if not math.isfinite(number):  # NaN or infinity: no figure
        return None
    return min(max(number / 100.0, 0.0), 1.0)


def _ms_datetime(value: int | None) -> dt.datetime | None:
    if not value:  # 0 and None both mean "not yet"
        return None
    try:
        return dt.datetime.fromtimestamp(value / 1000, dt.timezone.utc)
    except (ValueError, OverflowError, OSError):  # no instant a datetime can hold
        return None


@camel_case_keys
@attrs.frozen(kw_only=True)
class MidjourneyButton(Model):
    """A button of a finished task (U1–U4, V1–V4, 🔄, Zoom Out, pans, Vary…).

    ``custom_id`` is what ``midjourney.action`` sends; ``label`` is the text on the button
    (empty for emoji-only buttons such as 🔄 and the pan arrows), ``emoji`` its icon, ``style``
    2 (primary) or 3 (green, already used), ``type`` 2 (a Discord button).
    """

    custom_id: str
    label: str | None = None
    emoji: str | None = None
    style: int | None = None
    type: int | None = None

    @property
    def action(self) -> str | None:
        """The kind of the button from its ``custom_id``: ``"upsample"``, ``"variation"``,
        ``"reroll"``, ``"pan_left"``, ``"Outpaint"``, ``"CustomZoom"``, ``"Inpaint"``…"""
        parts = self.custom_id.split("::")
        if len(parts) >= 3 and parts[1] == "JOB":
            return parts[2]
        return parts[1] if len(parts) >= 2 else None

    @property
    def index(self) -> int | None:
        """The grid quadrant (1–4) of a U/V/vary/pan button, when the ``custom_id`` has one."""
        parts = self.custom_id.split("::")
        if len(parts) >= 4 and parts[1] == "JOB" and parts[3].isdigit():
            return int(parts[3]) or None
        return None


@camel_case_keys
@attrs.frozen(kw_only=True)
class MidjourneyTask(Model):
    """One Midjourney task as the service reports it; also a finished job's result.

    ``status`` is one of :data:`STATUSES` or ``None`` (new-api's ``""`` before its first sync);
    ``progress`` the raw text (``"37%"``; see :attr:`progress_fraction`); times are epoch
    milliseconds (0 / None while unset; see :attr:`submitted_at` and friends). ``buttons`` are
    there once the task succeeded. ``properties`` keeps what the gateway lets through (new-api:
    ``finalPrompt`` and ``finalZhPrompt`` only). ``action`` stays an open string: proxies add
    ``UPSCALE_HD``, ``INPAINT``, ``VIDEO``…
    """

    id: str
    action: str | None = None
    status: str | None = None
    progress: str | None = None
    prompt: str | None = None
    prompt_en: str | None = None
    description: str | None = None
    state: str | None = None
    submit_time: int | None = None
    start_time: int | None = None
    finish_time: int | None = None
    image_url: str | None = None
    fail_reason: str | None = None
    buttons: list[MidjourneyButton] = attrs.field(factory=list)
    properties: Mapping[str, Any] | None = None
    bot_type: str | None = None
    custom_id: str | None = None
    video_url: str | None = None

    @property
    def progress_fraction(self) -> float | None:
        """``progress`` as 0.0–1.0 (``"37%"`` → 0.37), or None when not reported."""
        return parse_progress(self.raw.get("progress", self.progress))

    @property
    def final_prompt(self) -> str | None:
        """``properties.finalPrompt``: the prompt Midjourney ran, or the text a describe /
        shorten task produced, or the prompt a task waiting in MODAL suggests."""
        props = self.properties or {}
        value = props.get("finalPrompt") or props.get("final_prompt")
        return value if isinstance(value, str) and value else None

    @property
    def submitted_at(self) -> dt.datetime | None:
        return _ms_datetime(self.submit_time)

    @property
    def started_at(self) -> dt.datetime | None:
        return _ms_datetime(self.start_time)

    @property
    def finished_at(self) -> dt.datetime | None:
        return _ms_datetime(self.finish_time)

    def button(self, label: str) -> MidjourneyButton | None:
        """The button whose label, emoji or ``custom_id`` kind is ``label`` (case-insensitive):
        ``"U2"``, ``"V1"``, ``"🔄"``, ``"Zoom Out 2x"``, ``"Vary (Strong)"``, ``"reroll"``…"""
        wanted = label.strip().casefold()
        for button in self.buttons:
            names = (button.label, button.emoji, button.custom_id)
            if any(name and name.strip().casefold() == wanted for name in names):
                return button
        for button in self.buttons:
            if (button.action or "").casefold() == wanted:
                return button
        return None


@camel_case_keys
@attrs.frozen(kw_only=True)
class MidjourneySubmitResult(Model):
    """The answer to every ``/mj/submit/*`` request (and ``/mj/task/{id}/image-seed``).

    ``code`` 1 accepted, 21 exists / waits in MODAL, 22 queued (new-api rewrites most 21 and
    all 22 to 1); other codes never reach this model, they are raised as errors. ``result`` is
    the new task id (a number or a string on the wire, always a string here), the seed for
    ``image-seed``, or a list of URLs for ``upload-discord-images``.
    """

    code: int | None = None
    description: str | None = None
    result: Any = None
    properties: Mapping[str, Any] | None = None

    @property
    def task_id(self) -> str:
        """``result`` as a task id."""
        if isinstance(self.result, bool) or not isinstance(self.result, (str, int)):
            raise ValueError(f"the submit answer carries no task id: {self.result!r}")
        return str(self.result)


@camel_case_keys
@attrs.frozen(kw_only=True)
class MidjourneyPage(Model):
    """One page of ``POST /mj/task/query`` (a Spring ``Page``: ``content`` plus counts).

    The shape is inferred (no open implementation found), so ``raw`` keeps the page as sent.
    """

    content: list[MidjourneyTask] = attrs.field(factory=list)
    total_elements: int | None = None
    total_pages: int | None = None
    number: int | None = None
    size: int | None = None
    first: bool | None = None
    last: bool | None = None
