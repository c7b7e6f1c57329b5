"""``AsyncAPI4GPT``: one client for every API4GPT family."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import aiohttp

from ._files import DEFAULT_MAX_BYTES, DEFAULT_READ_TIMEOUT, download
from ._hooks import Hooks
from ._logging import setup_logging_from_env
from ._paths import resolve_paths
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


class AsyncAPI4GPT:
    """The API4GPT client. Use it with ``async with``, or call ``await client.aclose()``.

    ``api_key`` and ``base_url`` default to ``API4GPT_API_KEY`` / ``API4GPT_BASE_URL``.
    ``timeout`` is the total seconds one call may take, retries and back-off included.
    A ``session`` you pass is used as is and never closed by the client. ``hooks`` are
    callbacks for metrics and tracing (see ``Hooks``).
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
    ) -> None:
        setup_logging_from_env()
        api_key = api_key if api_key is not None else os.environ.get("API4GPT_API_KEY")
        if not api_key:
            raise AuthenticationError(
                "no API key: pass api_key=... or set API4GPT_API_KEY", status=401
            )
        self.base_url = base_url or os.environ.get("API4GPT_BASE_URL") or DEFAULT_BASE_URL
        self.paths = resolve_paths(paths)
        self._transport = Transport(
            api_key=api_key,
            base_url=self.base_url,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            max_connections=max_connections,
            session=session,
            hooks=hooks,
        )
        self.base_url = self._transport.base_url
        self.tasks = Tasks(self._transport, poll or PollPolicy())
        context = ServiceContext(transport=self._transport, tasks=self.tasks, paths=self.paths)
        self.luma = LumaService(context, "luma")
        self.lumvip = LumaService(context, "lumvip")
        self.midjourney = MidjourneyService(context)
        self.suno = SunoService(context)
        self.zhipu_video = ZhipuVideoService(context)
        self.digital_human = DigitalHumanService(context)
        self.images = ImagesService(context)
        self.audio = AudioService(context)
        self.chat = ChatService(context)
        self.completions = CompletionsService(context)
        self.embeddings = EmbeddingsService(context)
        self.models = ModelsService(context)

    @property
    def timeout(self) -> float:
        return self._transport.timeout

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
        """Save any result URL (http or https) to ``dest`` and return the path.

        ``dest`` ending in a separator, or an existing folder, is a folder (created if needed;
        the name comes from the server or URL, made safe and unique: ``clip.mp4``,
        ``clip-1.mp4``…); any other ``dest`` is a file, and an existing one raises
        ``FileExistsError`` unless ``overwrite=True``. Written atomically (``.part``, then
        rename). A cut body, a read waiting over ``read_timeout`` seconds, a dropped connection
        or a 5xx is retried within ``timeout`` (the whole call), resuming with ``Range`` where
        the server allows. Over ``max_bytes`` (default 2 GiB) raises ``ResponseTooLargeError``.
        The API key is only sent when the URL is on the API's own host.
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

    async def aclose(self) -> None:
        """Stop polling and close the HTTP session (unless it was passed in)."""
        await self.tasks.scheduler.aclose()
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncAPI4GPT:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
