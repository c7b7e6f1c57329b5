"""Every endpoint path, in one table a user can override.

Several task-family paths are inferred from peer services (new-api ``router/relay-router.go``,
the GoAmz Luma API) rather than read on API4GPT's own pages. If the service answers
differently, pass ``AsyncAPI4GPT(paths={"luma.generate": "/new/path"})`` instead of waiting
for a release.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["DEFAULT_PATHS", "resolve_paths"]

DEFAULT_PATHS: Mapping[str, str] = MappingProxyType(
    {
        # OpenAI-compatible
        "chat.completions": "/v1/chat/completions",
        "completions": "/v1/completions",
        "embeddings": "/v1/embeddings",
        "images.generate": "/v1/images/generations",
        "images.edit": "/v1/images/edits",
        "audio.transcriptions": "/v1/audio/transcriptions",
        "audio.translations": "/v1/audio/translations",
        "audio.speech": "/v1/audio/speech",
        "models": "/v1/models",
        # Luma, GoAmz-style pool: raw generation objects
        "luma.generate": "/luma/v1/generations",
        "luma.extend": "/luma/v1/extend",
        "luma.task": "/luma/v1/task",
        # Luma, VIP accounts: answers in the task envelope (the query path is documented)
        "lumvip.generate": "/luma/generations",
        "lumvip.extend": "/luma/extend",
        "lumvip.task": "/luma/task",
        # Midjourney (midjourney-proxy through new-api's /mj relay); `speed` puts /mj-fast,
        # /mj-relax or /mj-turbo in front of a submit path
        "midjourney.imagine": "/mj/submit/imagine",
        "midjourney.action": "/mj/submit/action",
        "midjourney.modal": "/mj/submit/modal",
        "midjourney.blend": "/mj/submit/blend",
        "midjourney.describe": "/mj/submit/describe",
        "midjourney.shorten": "/mj/submit/shorten",
        "midjourney.swap_face": "/mj/insight-face/swap",
        "midjourney.fetch": "/mj/task/{id}/fetch",
        "midjourney.list_by_condition": "/mj/task/list-by-condition",
        "midjourney.image_seed": "/mj/task/{id}/image-seed",
        "midjourney.list": "/mj/task/list",
        "midjourney.query": "/mj/task/query",
        "midjourney.queue": "/mj/task/queue",
        "midjourney.cancel": "/mj/task/{id}/cancel",
    }
)


def resolve_paths(overrides: Mapping[str, str] | None) -> Mapping[str, str]:
    """The default table with the caller's overrides; an unknown key is a typo, so it raises."""
    if not overrides:
        return DEFAULT_PATHS
    unknown = set(overrides) - set(DEFAULT_PATHS)
    if unknown:
        raise ValueError(f"unknown endpoint keys in paths: {', '.join(sorted(unknown))}")
    bad = [k for k, v in overrides.items() if not v.startswith("/")]
    if bad:
        raise ValueError(f"paths must start with '/': {', '.join(sorted(bad))}")
    return MappingProxyType({**DEFAULT_PATHS, **overrides})
