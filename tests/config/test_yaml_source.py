"""YamlDocument keeps the line of every value so errors can say file:line."""

from __future__ import annotations

from pathlib import Path

from mendoza.config.yaml_source import read_yaml

TEXT = """\
# a comment
suite: s
cases:
  - id: a
  - id: b
    text: |
      two
      lines
variants: [{id: v}]
"""


def test_lines_of_keys_items_and_missing_parts(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(TEXT)
    document = read_yaml(path)
    assert document.data["cases"][1]["text"] == "two\nlines\n"
    assert document.line_of(()) == 2
    assert document.line_of(("suite",)) == 2
    assert document.line_of(("cases",)) == 3
    assert document.line_of(("cases", 0)) == 4
    assert document.line_of(("cases", 1, "text")) == 6
    assert document.line_of(("variants", 0, "id")) == 9
    # A location that does not exist stops at its nearest parent.
    assert document.line_of(("cases", 7)) == 3
    assert document.line_of(("cases", 1, "nope")) == 5
    assert document.where(("cases", 1)) == f"{path}:5"


def test_an_empty_file_has_no_line(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    document = read_yaml(path)
    assert document.data is None
    assert document.where(("suite",)) == str(path)
