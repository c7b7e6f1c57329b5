"""Optional integrations with other libraries; each needs its own extra."""
