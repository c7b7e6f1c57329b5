"""Typed answers, one module per endpoint family (``api4gpt_async.models.luma``…).

Every model class is importable from here too: ``from api4gpt_async.models import ChatCompletion``
(loaded on first use: the family modules need the converter, which needs this package).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .audio import (
        SpeechResponse,
        Transcription,
        TranscriptionSegment,
        TranscriptionVerbose,
        TranscriptionWord,
        Translation,
        TranslationVerbose,
    )
    from .chat import (
        ChatCompletion,
        ChatCompletionAccumulator,
        ChatCompletionChunk,
        ChatCompletionMessage,
        ChatCompletionMessageToolCall,
        ChatCompletionTokenLogprob,
        Choice,
        ChoiceDelta,
        ChoiceDeltaFunctionCall,
        ChoiceDeltaToolCall,
        ChoiceDeltaToolCallFunction,
        ChoiceLogprobs,
        ChunkChoice,
        CompletionTokensDetails,
        CompletionUsage,
        Function,
        FunctionCall,
        PromptTokensDetails,
        TopLogprob,
    )
    from .completions import (
        Completion,
        CompletionChoice,
        CompletionLogprobs,
    )
    from .embeddings import (
        CreateEmbeddingResponse,
        Embedding,
        EmbeddingUsage,
    )
    from .images import (
        Image,
        ImagesResponse,
        ImageTokenDetails,
        ImageUsage,
    )
    from .luma import (
        LumaGeneration,
        LumaImage,
        LumaVideo,
    )
    from .model_list import (
        ModelInfo,
        ModelList,
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

__all__ = [
    "ChatCompletion",
    "ChatCompletionAccumulator",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "ChatCompletionTokenLogprob",
    "Choice",
    "ChoiceDelta",
    "ChoiceDeltaFunctionCall",
    "ChoiceDeltaToolCall",
    "ChoiceDeltaToolCallFunction",
    "ChoiceLogprobs",
    "ChunkChoice",
    "Completion",
    "CompletionChoice",
    "CompletionLogprobs",
    "CompletionTokensDetails",
    "CompletionUsage",
    "CreateEmbeddingResponse",
    "Embedding",
    "EmbeddingUsage",
    "Function",
    "FunctionCall",
    "Image",
    "ImageTokenDetails",
    "ImageUsage",
    "ImagesResponse",
    "LumaGeneration",
    "LumaImage",
    "LumaVideo",
    "ModelInfo",
    "ModelList",
    "PromptTokensDetails",
    "SpeechResponse",
    "TopLogprob",
    "Transcription",
    "TranscriptionSegment",
    "TranscriptionVerbose",
    "TranscriptionWord",
    "Translation",
    "TranslationVerbose",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
