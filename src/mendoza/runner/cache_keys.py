"""Keys of the cache of model calls: defined in ``mendoza.calls.cache_keys`` (shared with judges), re-exported
here for code that imported them from the runner."""

from mendoza.calls.cache_keys import cache_key

__all__ = ["cache_key"]
