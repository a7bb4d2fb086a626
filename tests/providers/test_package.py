"""The providers package: its public names, its laziness, and the registry's paths to it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import mendoza.providers
from mendoza.providers import Provider
from mendoza.registry import provider_class

BUILTIN = ["openai", "anthropic", "python", "replay", "echo", "mock"]


def test_every_public_name_resolves_to_a_provider_class() -> None:
    for name in mendoza.providers.__all__:
        value = getattr(mendoza.providers, name)
        assert isinstance(value, type) and issubclass(value, Provider)
    with pytest.raises(AttributeError):
        _ = mendoza.providers.LocalProvider


@pytest.mark.parametrize("name", BUILTIN)
def test_the_registry_loads_each_builtin_provider_under_its_name(name: str) -> None:
    cls = provider_class(name)
    assert issubclass(cls, Provider) and cls.name == name
    assert cls.description and cls.example and cls.default_concurrency >= 1
    assert cls.__name__ in mendoza.providers.__all__


def test_importing_the_package_loads_no_model_sdk() -> None:
    code = (
        "import sys, mendoza.providers as p; p.MockProvider; p.EchoProvider; p.PythonProvider;"
        "import mendoza.providers.anthropic;"
        "print(sorted(m for m in ('openai', 'anthropic', 'aiohttp', 'llama_cpp') if m in sys.modules))"
    )
    src = str(Path(mendoza.providers.__file__).parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert result.stdout.strip() == "[]"
