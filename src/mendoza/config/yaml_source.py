"""Read YAML and keep the line of every value, so errors can name ``file:line``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from mendoza.errors import ConfigError

__all__ = ["YamlDocument", "read_yaml"]


class YamlDocument:
    """A parsed YAML file: its data, plus the line on which each value (by path) starts."""

    def __init__(self, path: Path, data: Any, root: yaml.Node | None) -> None:
        self.path = path
        self.data = data
        self._root = root

    def line_of(self, location: Sequence[str | int]) -> int | None:
        """The 1-based line of the value at ``location`` (keys and list indexes), or of its nearest parent."""
        node = self._root
        line = node.start_mark.line + 1 if node is not None else None
        for part in location:
            if isinstance(node, yaml.MappingNode):
                match = next((pair for pair in node.value if pair[0].value == part), None)
                if match is None:
                    break
                key_node, node = match
                line = key_node.start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                break
        return line

    def where(self, location: Sequence[str | int] = ()) -> str:
        """``file:line`` for a location, ready to put in front of an error message."""
        line = self.line_of(location)
        return f"{self.path}:{line}" if line else str(self.path)


def read_yaml(path: Path) -> YamlDocument:
    """Parse a YAML file, turning every read or syntax problem into one ``ConfigError`` line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", where=str(path)) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"invalid YAML: {problem}", where=where) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", where=str(path)) from None
    return YamlDocument(path, data, root)
