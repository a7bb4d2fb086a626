"""Where outputs come from: the ``Provider`` interface and the built-in providers.

Each provider module is imported on first use (the model SDKs take a second to import), so
``from mendoza.providers import MockProvider`` does not load ``openai`` or ``anthropic``. The embedded
``local`` provider lives in ``mendoza.providers.local`` and needs the ``local`` extra.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mendoza.providers.base import Provider

if TYPE_CHECKING:
    from mendoza.providers.anthropic import AnthropicProvider
    from mendoza.providers.echo import EchoProvider
    from mendoza.providers.mock import MockProvider
    from mendoza.providers.openai_compatible import OpenAIProvider
    from mendoza.providers.python_callable import PythonProvider
    from mendoza.providers.replay import ReplayProvider

__all__ = [
    "AnthropicProvider",
    "EchoProvider",
    "MockProvider",
    "OpenAIProvider",
    "Provider",
    "PythonProvider",
    "ReplayProvider",
]

_LAZY = {
    "AnthropicProvider": "mendoza.providers.anthropic",
    "EchoProvider": "mendoza.providers.echo",
    "MockProvider": "mendoza.providers.mock",
    "OpenAIProvider": "mendoza.providers.openai_compatible",
    "PythonProvider": "mendoza.providers.python_callable",
    "ReplayProvider": "mendoza.providers.replay",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mendoza.providers' has no attribute {name!r}")
