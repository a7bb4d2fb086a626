"""Write a suite folder (suite.yaml plus side files) under a test's tmp_path; load one expecting an error."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mendoza.config import load_suite
from mendoza.errors import ConfigError

#: A minimal valid suite, to append to or replace parts of.
MINIMAL = """\
suite: tiny
cases:
  - id: a
    question: What is 2 + 2?
    expected: "4"
variants:
  - id: plain
    prompt: "Q: {{ question }}"
"""


def write_suite(folder: Path, text: str, **files: str | bytes) -> Path:
    """``folder/suite.yaml`` holding ``text`` (dedented), plus ``files`` by relative name; returns the
    suite file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    path = folder / "suite.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def config_error(folder: Path, text: str, **files: str | bytes) -> ConfigError:
    """The one ``ConfigError`` loading this suite raises (any other exception fails the test)."""
    path = write_suite(folder, text, **files)
    with pytest.raises(ConfigError) as info:
        load_suite(path)
    message = str(info.value)
    assert "\n" not in message, f"the message must be one line: {message!r}"
    return info.value
