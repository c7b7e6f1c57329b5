"""One module per endpoint family; each is thin: build the request, send it, decode it."""

__all__: list[str] = []
