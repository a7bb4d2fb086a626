"""Read YAML and keep the line of every value, so errors can name ``file:line``.

A suite file is untrusted input: it is read with a loader that refuses what would hang or exhaust mendoza
(aliases that expand past ``MAX_EXPANDED_SIZE`` -- the "billion laughs" --, a recursive alias, nesting deeper
than ``MAX_DEPTH``, a file over ``MAX_YAML_BYTES``) and what YAML would accept silently but is a mistake (a key
written twice in one mapping, a lone surrogate). Each is one ``ConfigError`` naming ``file:line``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from mendoza.errors import ConfigError

__all__ = ["MAX_DEPTH", "MAX_EXPANDED_SIZE", "MAX_YAML_BYTES", "YamlDocument", "read_limited", "read_yaml"]

#: The largest suite file read (bigger case sets belong in a .jsonl or .csv file).
MAX_YAML_BYTES = 8 * 1024 * 1024
#: How deep values may nest (mappings in lists in mappings...), counted after aliases are expanded.
MAX_DEPTH = 100
#: How large the document may grow once every alias is expanded: values plus characters of text.
MAX_EXPANDED_SIZE = 10_000_000
#: Python refuses to turn longer digit strings into an int (``sys.get_int_max_str_digits``).
_MAX_INT_DIGITS = 4_300
_MERGE_TAG = "tag:yaml.org,2002:merge"
_INT_TAG = "tag:yaml.org,2002:int"


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


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class _SafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that stops composing past ``MAX_DEPTH`` and names the node of any value it cannot
    construct (a 5,000-digit integer, a 13th month) instead of raising a bare ``ValueError``."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except Exception as exc:  # a value YAML's constructors choke on (``!!timestamp 2024-13-45``)
            if node.tag == _INT_TAG and len(str(node.value)) > _MAX_INT_DIGITS:
                problem = f"an integer of {len(str(node.value)):,} digits is too long; quote it to keep it as text"
            else:
                problem = f"cannot read {str(node.value)[:40]!r} as {node.tag.rsplit(':', 1)[-1]}: {exc}"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_mapping(node: yaml.MappingNode) -> None:
    """A key written twice in one mapping is refused (YAML would keep the last silently)."""
    first_lines: dict[tuple[str, str], int] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
            continue
        seen = first_lines.get((key.tag, key.value))
        if seen is not None:
            problem = f"duplicate key {key.value[:80]!r} (first on line {seen}); keep one"
            raise yaml.composer.ComposerError(None, None, problem, key.start_mark)
        first_lines[(key.tag, key.value)] = key.start_mark.line + 1


def _check_tree(root: yaml.Node) -> None:
    """Walk the composed graph once (each anchored node once): refuse a recursive alias, a document whose
    expansion is too large or too deep, duplicate keys and lone surrogates, each at its node's line."""
    measured: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, expanded depth)
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            children = _children(node)
            size = 1 + sum(measured[id(child)][0] for child in children)
            depth = 1 + max((measured[id(child)][1] for child in children), default=0)
            if isinstance(node, yaml.ScalarNode):
                size += len(node.value)
            open_nodes.discard(key)
            measured[key] = (size, depth)
            if size > MAX_EXPANDED_SIZE:
                problem = f"aliases expand this document past {MAX_EXPANDED_SIZE:,} values and characters"
                raise yaml.composer.ComposerError(None, None, problem, node.start_mark)
            if depth > MAX_DEPTH:
                problem = f"aliases nest this value more than {MAX_DEPTH} levels deep"
                raise yaml.composer.ComposerError(None, None, problem, node.start_mark)
            continue
        if key in measured:
            continue
        if key in open_nodes:
            problem = "an alias refers to a value that contains it (a recursive structure)"
            raise yaml.composer.ComposerError(None, None, problem, node.start_mark)
        if isinstance(node, yaml.ScalarNode) and _has_lone_surrogate(node.value):
            problem = "the text contains a lone surrogate (an escape like \\ud800), which is not valid Unicode"
            raise yaml.composer.ComposerError(None, None, problem, node.start_mark)
        if isinstance(node, yaml.MappingNode):
            _check_mapping(node)
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in measured)


def _parse(text: str) -> tuple[Any, yaml.Node | None]:
    loader = _SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        _check_tree(root)
        return loader.construct_document(root), root
    finally:
        loader.dispose()


def read_limited(path: Path, limit: int = MAX_YAML_BYTES) -> bytes:
    """The bytes of a file the suite names, refusing one over ``limit`` bytes (``/dev/zero`` included) with a
    ``ConfigError``; ``OSError`` (not found...) is left to the caller."""
    with path.open("rb") as handle:
        raw = handle.read(limit + 1)
    if len(raw) > limit:
        megabytes = limit // (1024 * 1024)
        raise ConfigError(f"the file is over {megabytes} MB, the most mendoza reads here", where=str(path))
    return raw


def read_yaml(path: Path) -> YamlDocument:
    """Parse a YAML file, turning every read, syntax or size problem into one ``ConfigError`` line."""
    try:
        raw = read_limited(path)
    except ConfigError:
        megabytes = MAX_YAML_BYTES // (1024 * 1024)
        message = f"a suite file may have at most {megabytes} MB (put cases in a .jsonl file)"
        raise ConfigError(message, where=str(path)) from None
    except FileNotFoundError:
        raise ConfigError("file not found", where=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc}", where=str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        byte = raw[exc.start : exc.start + 1].hex()
        raise ConfigError(f"not UTF-8 text: {exc.reason} (byte 0x{byte})", where=f"{path}:{line}") from None
    try:
        data, root = _parse(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"invalid YAML: {_one_line(problem)}", where=where) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise ConfigError(f"invalid YAML: unacceptable character #x{code:04x}", where=f"{path}:{line}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {_one_line(str(exc))}", where=str(path)) from None
    except RecursionError:
        raise ConfigError(f"invalid YAML: nested too deeply (at most {MAX_DEPTH} levels)", where=str(path)) from None
    return YamlDocument(path, data, root)
