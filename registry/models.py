"""Registry tables."""

__all__: list[str] = []
