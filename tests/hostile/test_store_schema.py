"""Files mendoza must not write to (issue 10, item 10): a database from a newer mendoza, an SQLite file of
another program. Each is refused in one line (exit code 2) and left exactly as it was; an empty file or a new
path is initialised."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from mendoza.cli.main import main
from mendoza.cli.options import EXIT_BAD_INPUT
from mendoza.errors import StoreError
from mendoza.store import Store
from mendoza.store.migrations import MIGRATIONS


def _dump(path: Path) -> list[str]:
    raw = sqlite3.connect(path)
    try:
        return list(raw.iterdump())
    finally:
        raw.close()


def _refused(path: Path) -> str:
    with pytest.raises(StoreError) as info:
        Store(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message


def _cli_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "suite: s\ncases: [{id: a, w: x}]\nvariants: [{id: e, model: echo, prompt: '{{ w }}'}]\n"
        "graders: [{contains: x}]\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(sys, "argv", ["mendoza", "run", str(suite), "--db", str(path), "--quiet"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    return err


def test_a_database_from_a_newer_mendoza_is_refused_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "newer.db"
    Store(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO _migrations VALUES ('m042_something_new', '2030-01-01T00:00:00+00:00')")
    raw.close()
    before = _dump(path)
    ours = len(MIGRATIONS)
    expected = (
        f"{path}: written by a newer mendoza (schema version 42; this mendoza knows up to {ours}); "
        "upgrade mendoza to write to it"
    )
    assert _refused(path) == expected
    assert _cli_run(path, tmp_path, monkeypatch, capsys) == f"error: {expected}"
    assert _dump(path) == before  # no run recorded, no migration applied


def test_an_sqlite_file_of_another_program_is_refused_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "contacts.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
        raw.execute("CREATE TABLE notes (body TEXT)")
        raw.execute("INSERT INTO contacts VALUES ('Ana', '555')")
    raw.close()
    before = path.read_bytes()
    expected = (
        f"{path}: not a mendoza database (it holds other tables: contacts, notes); "
        "give mendoza a file of its own with --db"
    )
    assert _refused(path) == expected  # the old code added mendoza's tables beside the contacts
    assert _cli_run(path, tmp_path, monkeypatch, capsys) == f"error: {expected}"
    assert path.read_bytes() == before  # not even switched to WAL
    with sqlite3.connect(path) as raw:
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"contacts", "notes"}


@pytest.mark.parametrize("existing", [False, True])
def test_a_new_path_or_an_empty_file_is_initialised(tmp_path: Path, existing: bool) -> None:
    path = tmp_path / "fresh.db"
    if existing:
        path.write_bytes(b"")
    with Store(path) as store:
        assert store.applied_migrations() == [migration.__name__ for migration in MIGRATIONS]
    with Store(path) as store:  # and opens again as its own
        assert store.runs.latest() == []
