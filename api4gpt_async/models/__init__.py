"""Typed answers, one module per endpoint family (``api4gpt_async.models.luma``…).

Every model class is importable from here too: ``from api4gpt_async.models import ChatCompletion``
(loaded on first use: the family modules need the converter, which needs this package).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .audio import (
        SpeechResponse as SpeechResponse,
    )
    from .audio import (
        Transcription as Transcription,
    )
    from .audio import (
        TranscriptionSegment as TranscriptionSegment,
    )
    from .audio import (
        TranscriptionVerbose as TranscriptionVerbose,
    )
    from .audio import (
        TranscriptionWord as TranscriptionWord,
    )
    from .audio import (
        Translation as Translation,
    )
    from .audio import (
        TranslationVerbose as TranslationVerbose,
    )
    from .chat import (
        ChatCompletion as ChatCompletion,
    )
    from .chat import (
        ChatCompletionAccumulator as ChatCompletionAccumulator,
    )
    from .chat import (
        ChatCompletionChunk as ChatCompletionChunk,
    )
    from .chat import (
        ChatCompletionMessage as ChatCompletionMessage,
    )
    from .chat import (
        ChatCompletionMessageToolCall as ChatCompletionMessageToolCall,
    )
    from .chat import (
        ChatCompletionTokenLogprob as ChatCompletionTokenLogprob,
    )
    from .chat import (
        Choice as Choice,
    )
    from .chat import (
        ChoiceDelta as ChoiceDelta,
    )
    from .chat import (
        ChoiceDeltaFunctionCall as ChoiceDeltaFunctionCall,
    )
    from .chat import (
        ChoiceDeltaToolCall as ChoiceDeltaToolCall,
    )
    from .chat import (
        ChoiceDeltaToolCallFunction as ChoiceDeltaToolCallFunction,
    )
    from .chat import (
        ChoiceLogprobs as ChoiceLogprobs,
    )
    from .chat import (
        ChunkChoice as ChunkChoice,
    )
    from .chat import (
        CompletionTokensDetails as CompletionTokensDetails,
    )
    from .chat import (
        CompletionUsage as CompletionUsage,
    )
    from .chat import (
        Function as Function,
    )
    from .chat import (
        FunctionCall as FunctionCall,
    )
    from .chat import (
        PromptTokensDetails as PromptTokensDetails,
    )
    from .chat import (
        TopLogprob as TopLogprob,
    )
    from .completions import (
        Completion as Completion,
    )
    from .completions import (
        CompletionChoice as CompletionChoice,
    )
    from .completions import (
        CompletionLogprobs as CompletionLogprobs,
    )
    from .embeddings import (
        CreateEmbeddingResponse as CreateEmbeddingResponse,
    )
    from .embeddings import (
        Embedding as Embedding,
    )
    from .embeddings import (
        EmbeddingUsage as EmbeddingUsage,
    )
    from .images import (
        Image as Image,
    )
    from .images import (
        ImagesResponse as ImagesResponse,
    )
    from .images import (
        ImageTokenDetails as ImageTokenDetails,
    )
    from .images import (
        ImageUsage as ImageUsage,
    )
    from .luma import (
        LumaGeneration as LumaGeneration,
    )
    from .luma import (
        LumaImage as LumaImage,
    )
    from .luma import (
        LumaVideo as LumaVideo,
    )
    from .model_list import (
        ModelInfo as ModelInfo,
    )
    from .model_list import (
        ModelList as ModelList,
    )

#: Where each name lives (``api4gpt_async.models.<module>``).
_HOMES = {
    "ChatCompletion": "chat",
    "ChatCompletionAccumulator": "chat",
    "ChatCompletionChunk": "chat",
    "ChatCompletionMessage": "chat",
    "ChatCompletionMessageToolCall": "chat",
    "ChatCompletionTokenLogprob": "chat",
    "Choice": "chat",
    "ChoiceDelta": "chat",
    "ChoiceDeltaFunctionCall": "chat",
    "ChoiceDeltaToolCall": "chat",
    "ChoiceDeltaToolCallFunction": "chat",
    "ChoiceLogprobs": "chat",
    "ChunkChoice": "chat",
    "Completion": "completions",
    "CompletionChoice": "completions",
    "CompletionLogprobs": "completions",
    "CompletionTokensDetails": "chat",
    "CompletionUsage": "chat",
    "CreateEmbeddingResponse": "embeddings",
    "Embedding": "embeddings",
    "EmbeddingUsage": "embeddings",
    "Function": "chat",
    "FunctionCall": "chat",
    "Image": "images",
    "ImageTokenDetails": "images",
    "ImageUsage": "images",
    "ImagesResponse": "images",
    "LumaGeneration": "luma",
    "LumaImage": "luma",
    "LumaVideo": "luma",
    "ModelInfo": "model_list",
    "ModelList": "model_list",
    "PromptTokensDetails": "chat",
    "SpeechResponse": "audio",
    "TopLogprob": "chat",
    "Transcription": "audio",
    "TranscriptionSegment": "audio",
    "TranscriptionVerbose": "audio",
    "TranscriptionWord": "audio",
    "Translation": "audio",
    "TranslationVerbose": "audio",
}

__all__ = sorted(_HOMES)  # pyright: ignore[reportUnsupportedDunderAll]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
