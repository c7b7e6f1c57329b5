"""The request knobs chat and completions share: model, stop, stream options, sampling."""

from __future__ import annotations

from typing import Any

from ._validate import Invalid, number_param, object_param, string_param

__all__ = ["model_param", "sampling_params", "stop_param", "stream_options_param"]


def model_param(body: dict[str, Any]) -> str:
    model = string_param(body, "model")
    if not model:
        raise Invalid("you must provide a model parameter", "model")
    return model


def stop_param(body: dict[str, Any]) -> list[str]:
    stop = body.get("stop")
    if stop is None:
        return []
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, list) and len(stop) <= 4 and all(isinstance(s, str) for s in stop):
        return list(stop)
    raise Invalid("Invalid 'stop': expected a string or up to 4 strings.", "stop")


def stream_options_param(body: dict[str, Any], stream: bool) -> bool:
    """Whether a usage chunk was asked for."""
    options = object_param(body, "stream_options")
    if options is None:
        return False
    if not stream:
        raise Invalid(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
        )
    include = options.get("include_usage")
    if include is not None and not isinstance(include, bool):
        raise Invalid(
            "Invalid type for 'stream_options.include_usage': expected a boolean.",
            "stream_options.include_usage",
        )
    return bool(include)


def sampling_params(body: dict[str, Any]) -> None:
    """Check the sampling knobs chat and completions share, in OpenAI's ranges."""
    for name, low, high in (
        ("temperature", 0, 2),
        ("top_p", 0, 1),
        ("presence_penalty", -2, 2),
        ("frequency_penalty", -2, 2),
    ):
        number_param(body, name, low, high)
