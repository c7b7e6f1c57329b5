"""Typed answers, one module per endpoint family (``api4gpt_async.models.luma``…)."""

__all__: list[str] = []
