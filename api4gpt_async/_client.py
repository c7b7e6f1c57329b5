"""``AsyncAPI4GPT``: one client for every API4GPT family."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
import attrs

from ._config import check_api_key, check_base_url
from ._files import DEFAULT_MAX_BYTES, DEFAULT_READ_TIMEOUT, download
from ._hooks import Hooks
from ._logging import setup_logging_from_env
from ._paths import PathTable, resolve_paths
from ._raw_response import WithRawResponse
from ._retry import RetryPolicy
from ._task_handle import Tasks
from ._task_kind import PollPolicy
from ._transport import DEFAULT_BASE_URL, Transport
from .errors import AuthenticationError
from .services._common import ServiceContext
from .services.audio import AudioService
from .services.chat import ChatService
from .services.completions import CompletionsService
from .services.digital_human import DigitalHumanService
from .services.embeddings import EmbeddingsService
from .services.images import ImagesService
from .services.luma import LumaService
from .services.midjourney import MidjourneyService
from .services.models import ModelsService
from .services.suno import SunoService
from .services.zhipu_video import ZhipuVideoService

__all__ = ["AsyncAPI4GPT"]

DEFAULT_TIMEOUT = 600.0
DEFAULT_MAX_CONNECTIONS = 100


class AsyncAPI4GPT(WithRawResponse):
    """The API4GPT client. Use it with ``async with``, or call ``await client.aclose()``.

    One client per event loop: used from a later ``asyncio.run`` it opens a new session, and
    the old loop's connections are dropped without a clean close.

    ``api_key`` and ``base_url`` default to ``API4GPT_API_KEY`` / ``API4GPT_BASE_URL``.
    ``timeout`` is the total seconds one call may take, retries and back-off included.
    ``max_connections`` caps the client's open connections (default 100, all hosts
    together): requests beyond it wait for a free one, and that wait counts against their
    ``timeout``. A ``session`` you pass is used as is (with its own connection limit) and
    never closed by the client. ``hooks`` are
    callbacks for metrics and tracing (see ``Hooks``). As in openai-python, ``max_retries``
    overrides ``retry.max_retries`` and ``default_headers`` are sent with every request.

    Both are checked here: the key loses surrounding whitespace (a trailing newline), and a
    key with whitespace inside or a base URL without an http(s) scheme or host raises
    ``ValueError``; no key at all raises ``AuthenticationError``.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        poll: PollPolicy | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        session: aiohttp.ClientSession | None = None,
        paths: Mapping[str, str] | None = None,
        hooks: Hooks | None = None,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        setup_logging_from_env()
        api_key = api_key if api_key is not None else os.environ.get("API4GPT_API_KEY")
        if not api_key:
            raise AuthenticationError(
                "no API key: pass api_key=... or set API4GPT_API_KEY", status=401
            )
        api_key = check_api_key(api_key)
        self.base_url: str = check_base_url(
            base_url or os.environ.get("API4GPT_BASE_URL") or DEFAULT_BASE_URL
        )
        self.paths: PathTable = resolve_paths(paths)
        retry = retry or RetryPolicy()
        if max_retries is not None:
            retry = attrs.evolve(retry, max_retries=max_retries)
        # What with_options() starts from (the session is shared, not passed again).
        self._options: dict[str, Any] = {
            "api_key": api_key,
            "base_url": self.base_url,
            "timeout": timeout,
            "retry": retry,
            "poll": poll,
            "max_connections": max_connections,
            "paths": paths,
            "hooks": hooks,
            "default_headers": dict(default_headers or {}),
        }
        self._transport = Transport(
            api_key=api_key,
            base_url=self.base_url,
            timeout=timeout,
            retry=retry,
            max_connections=max_connections,
            session=session,
            hooks=hooks,
            default_headers=default_headers,
        )
        self.base_url = self._transport.base_url
        self.tasks: Tasks = Tasks(self._transport, poll or PollPolicy())
        context = ServiceContext(transport=self._transport, tasks=self.tasks, paths=self.paths)
        self.luma: LumaService = LumaService(context, "luma")
        self.lumvip: LumaService = LumaService(context, "lumvip")
        self.midjourney: MidjourneyService = MidjourneyService(context)
        self.suno: SunoService = SunoService(context)
        self.zhipu_video: ZhipuVideoService = ZhipuVideoService(context)
        self.digital_human: DigitalHumanService = DigitalHumanService(context)
        self.images: ImagesService = ImagesService(context)
        self.audio: AudioService = AudioService(context)
        self.chat: ChatService = ChatService(context)
        self.completions: CompletionsService = CompletionsService(context)
        self.embeddings: EmbeddingsService = EmbeddingsService(context)
        self.models: ModelsService = ModelsService(context)

    @property
    def timeout(self) -> float:
        return self._transport.timeout

    @property
    def max_retries(self) -> int:
        return self._transport.retry.max_retries

    @property
    def retry(self) -> RetryPolicy:
        return self._transport.retry

    @property
    def poll(self) -> PollPolicy:
        return self.tasks.poll

    @property
    def paths_in_use(self) -> Mapping[str, str]:
        """Your ``paths=`` overrides, and the path each endpoint with candidates settled on."""
        return self.paths.in_use

    def __repr__(self) -> str:
        return f"<AsyncAPI4GPT base_url={self.base_url!r}>"

    async def download(
        self,
        url: str,
        dest: str | os.PathLike[str],
        *,
        timeout: float | None = None,
        overwrite: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
    ) -> Path:
        """Save any result URL (http or https) to ``dest`` and return its absolute path.

        A leading ``~`` in ``dest`` is the home folder. ``dest`` ending in a separator, or an
        existing folder, is a folder (created if needed; the name comes from the server or URL,
        made safe and unique: ``clip.mp4``, ``clip-1.mp4``…); any other ``dest`` is a file,
        and an existing one raises ``FileExistsError`` unless ``overwrite=True``. Written
        atomically (``.part``, then rename). A cut body, a read waiting over ``read_timeout``
        seconds, a dropped connection or a 5xx is retried within ``timeout`` (the whole call),
        resuming with ``Range`` where the server allows. Over ``max_bytes`` (default 2 GiB)
        raises ``ResponseTooLargeError``. The API key is only sent when the URL is on the API's
        own host.
        """
        return await download(
            self._transport,
            url,
            dest,
            timeout=timeout,
            overwrite=overwrite,
            max_bytes=max_bytes,
            read_timeout=read_timeout,
        )

    def with_options(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        poll: PollPolicy | None = None,
        default_headers: Mapping[str, str] | None = None,
        hooks: Hooks | None = None,
    ) -> AsyncAPI4GPT:
        """A copy with some options changed that shares this client's HTTP session.

        As openai-python's ``with_options`` (alias ``copy``): cheap, meant for one call
        (``await client.with_options(timeout=5).chat.completions.create(...)``).
        ``default_headers`` are added to this client's. Closing either closes the shared
        session; handles a copy returns poll through the copy.
        """
        options = dict(self._options)
        changes = {
            "api_key": api_key,
            "base_url": base_url,
            "timeout": timeout,
            "retry": retry,
            "poll": poll,
            "hooks": hooks,
        }
        options.update({name: value for name, value in changes.items() if value is not None})
        if max_retries is not None:
            options["retry"] = attrs.evolve(options["retry"], max_retries=max_retries)
        if default_headers is not None:
            options["default_headers"] = {**options["default_headers"], **default_headers}
        copy = AsyncAPI4GPT(**options)
        copy._transport.share_session_of(self._transport)
        return copy

    copy = with_options

    async def aclose(self) -> None:
        """Stop polling and close the HTTP session (unless it was passed in)."""
        await self.tasks.scheduler.aclose()
        await self._transport.aclose()

    async def close(self) -> None:
        """``aclose()``, under openai-python's name."""
        await self.aclose()

    async def __aenter__(self) -> AsyncAPI4GPT:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
