"""Optional integrations with other libraries; each needs its own extra
(``api4gpt_async.integrations.taskiq``: ``pip install 'api4gpt-async[taskiq]'``)."""

__all__: list[str] = []
