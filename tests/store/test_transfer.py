"""Portable runs in the store (issue 15, part 4): a run copied into a run file (``.mdz``) and into another store
under new ids gives the same report to the last digit, labels, regrades, pairwise judgements and steps
included; importing it again is a no-op, a different run with its id is refused; a damaged, foreign or newer
file is one ``StoreError`` naming it."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mendoza.core import Step
from mendoza.errors import StoreError
from mendoza.report import build_report, evaluate_gate, rank_variants, report_to_dict, sample_lines
from mendoza.soft import record_label
from mendoza.store import RUN_FILE_FORMAT, Store, export_run, import_run, read_run_file
from mendoza.store.migrations import MIGRATIONS, apply_migrations
from mendoza.store.transfer import TRANSFERRED_TABLES, _copy_run, _digest, _file_columns
from tests.soft_suites import WORDS
from tests.store.factories import make_suite, sample
from tests.store.transfer_runs import make_rich_run
from tests.support.postgres import PostgresCluster


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, Path]]:
    """A store holding the rich run (after another run), and the run exported: (store, run id, run file)."""
    folder = tmp_path_factory.mktemp("rich")
    with Store(folder / "source.db") as store:
        run_id = make_rich_run(store, folder)
        export_run(store, run_id, folder / "run.mdz")
    yield folder / "source.db", run_id, folder / "run.mdz"


def _copy_of(run_file: Path, tmp_path: Path, name: str = "copy.mdz") -> Path:
    target = tmp_path / name
    shutil.copyfile(run_file, target)
    return target


def _everything(store: Store, run_id: str) -> dict[str, Any]:
    """What every output of mendoza shows of a run: the report (both verdicts, judges included) and its JSON,
    the ranking from pairwise judgements, every sample with its grades and steps (JSON Lines), the labels'
    history and the current grades, all without the store's own ids."""
    shown: dict[str, Any] = {}
    for verdicts in ("human-adjusted", "automatic"):
        report = build_report(store, run_id, verdicts=verdicts)  # type: ignore[arg-type]
        shown[f"report {verdicts}"] = repr(report)
        shown[f"json {verdicts}"] = report_to_dict(report, evaluate_gate(report))
    shown["ranking"] = repr(rank_variants(store, run_id, n_boot=50))
    shown["samples"] = list(sample_lines(store, run_id, steps=True))
    records = list(store.samples.iterate(run_id))
    ids = [s.id for s in store.browse.case_samples(run_id, "bad", ("app", "chatty"))]
    shown["labels"] = [
        [dataclasses.replace(grade, id=0, sample_id=0) for grade in grades]
        for _, grades in sorted(store.browse.grade_records(ids).items())
    ]
    shown["current"] = [dataclasses.replace(grade, sample_id=0) for grade in store.grades.current(run_id)]
    shown["grader set"] = (store.grades.grader_set_revision(run_id), store.grades.grader_set(run_id))
    shown["pairwise"] = [
        dataclasses.replace(j, sample_a=j.sample_a is None, sample_b=j.sample_b is None)
        for j in store.pairwise.judgements(run_id)
    ]
    shown["sample records"] = [
        dataclasses.replace(record, id=0)
        for case in WORDS
        for record in store.browse.case_samples(run_id, case, ("app", "chatty"))
    ]
    shown["count"] = len(records)
    return shown


def test_a_run_imported_into_a_fresh_store_reports_exactly_what_the_original_does(
    rich: tuple[Path, str, Path], tmp_path: Path
) -> None:
    source, run_id, run_file = rich
    with Store(source, readonly=True) as original, Store(tmp_path / "fresh.db") as fresh:
        imported = import_run(fresh, run_file)
        assert imported.run.id == run_id and not imported.already_there
        assert imported.run == original.runs.get(run_id)
        before, after = _everything(original, run_id), _everything(fresh, run_id)
    assert before == after
    # the run is as rich as meant: labels (one cleared), a judge's regrade, pairwise judgements, steps, a note
    assert '"source": "human"' in "".join(before["samples"]) and "changed my mind" in repr(before["labels"])
    assert "judges=JudgeReport(" in before["report human-adjusted"]
    assert "steps=[StepReport" in before["report automatic"]
    assert "U+FFFD" in "".join(before["samples"]) and "no answer for dull" in "".join(before["samples"])
    assert "wins=" in before["ranking"]


def test_the_store_reads_a_run_file_as_it_is(rich: tuple[Path, str, Path]) -> None:
    source, run_id, run_file = rich
    with Store(source, readonly=True) as original, Store(run_file, readonly=True) as as_a_store:
        assert as_a_store.runs.count() == 1
        assert repr(build_report(as_a_store, "latest")) == repr(build_report(original, run_id))


def test_a_run_file_holds_one_run_a_header_and_no_model_cache(rich: tuple[Path, str, Path]) -> None:
    source, run_id, run_file = rich
    with Store(source, readonly=True) as original:
        assert original.runs.count() == 2  # the file holds only the run asked for
    db = sqlite3.connect(run_file)
    try:
        meta = dict(db.execute("SELECT key, value FROM mdz_meta").fetchall())
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone() == (1,)
        assert db.execute("SELECT COUNT(*) FROM model_cache").fetchone() == (0,)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file, no -wal beside it
        migrations = [row[0] for row in db.execute("SELECT name FROM _migrations ORDER BY rowid")]
    finally:
        db.close()
    assert migrations == [m.__name__ for m in MIGRATIONS]
    assert meta["format"] == RUN_FILE_FORMAT == "mendoza.run-file/1" and meta["run_id"] == run_id
    assert meta["suite_name"] == "portable" and meta["mendoza_version"] and meta["exported_at"].startswith("20")
    assert meta["rows.samples"] == "24"
    assert all(int(meta[f"rows.{table}"]) > 0 for table in TRANSFERRED_TABLES)  # every table is copied
    info = read_run_file(run_file)
    assert info.run_id == run_id and info.samples == 24 and info.digest == meta["digest"]


def test_every_table_of_the_store_is_carried_or_left_out_on_purpose(tmp_path: Path) -> None:
    with Store(tmp_path / "m.db"):
        pass
    db = sqlite3.connect(tmp_path / "m.db")
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        db.close()
    # A new migration's table must be added to TRANSFERRED_TABLES (and docs/run-file.md), or here.
    assert tables == set(TRANSFERRED_TABLES) | {"_migrations", "model_cache"}


def test_ids_are_the_stores_own_and_the_latest_label_stays_the_latest(
    rich: tuple[Path, str, Path], tmp_path: Path
) -> None:
    _, run_id, run_file = rich
    with Store(tmp_path / "busy.db") as busy:
        other = busy.runs.create(make_suite(n_cases=3, variant_ids=("a",), repeats=4))
        busy.samples.write(other.id, [sample(f"c{c}", "a", r) for c in (1, 2, 3) for r in range(4)])
        taken = {s.id for s in busy.browse.case_samples(other.id, "c1", ("a",))}
        imported = import_run(busy, run_file)
        new = busy.browse.case_samples(run_id, "bad", ("app", "chatty"))
        assert not taken & {s.id for s in new}
        by_key = {(s.variant_id, s.repeat): s for s in new}
        assert by_key[("app", 0)].human_passed is True and by_key[("chatty", 1)].human_passed is False
        assert by_key[("app", 1)].human_passed is None  # labelled, then cleared: the clearing is the latest
        history = busy.browse.grade_records([by_key[("app", 1)].id])[by_key[("app", 1)].id]
        assert [(g.source, g.passed) for g in history if g.source == "human"] == [("human", True), ("human", None)]
        db = sqlite3.connect(tmp_path / "busy.db")
        try:
            dangling = db.execute(
                "SELECT COUNT(*) FROM pairwise_judgements p JOIN samples s ON s.id = p.sample_a "
                "WHERE p.run_id = ? AND (s.run_id <> p.run_id OR s.variant_id <> p.variant_a "
                "OR s.case_id <> p.case_id OR s.repeat <> p.repeat)", (run_id,)
            ).fetchone()[0]
            steps_elsewhere = db.execute(
                "SELECT COUNT(*) FROM steps st JOIN samples s ON s.id = st.sample_id WHERE s.run_id = ?",
                (other.id,),
            ).fetchone()[0]
        finally:
            db.close()
        assert dangling == 0 and steps_elsewhere == 0 and imported.file.samples == 24
        # the other run is untouched
        assert [s.output for s in busy.samples.iterate(other.id)] == ["an output"] * 12


def test_importing_the_same_run_again_is_a_no_op(rich: tuple[Path, str, Path], tmp_path: Path) -> None:
    _, run_id, run_file = rich
    with Store(tmp_path / "m.db") as store:
        assert not import_run(store, run_file).already_there
        again = import_run(store, run_file)
        assert again.already_there and again.run.id == run_id
        assert store.runs.count() == 1 and store.samples.variant_counts(run_id)[0].samples == 12
        # the same content under another id is the same no-op the second time
        assert not import_run(store, run_file, run_id="renamed").already_there
        assert import_run(store, run_file, run_id="renamed").already_there
        assert repr(build_report(store, "renamed").variants) == repr(build_report(store, run_id).variants)


def test_a_different_run_with_the_same_id_is_refused_and_can_come_in_under_another(tmp_path: Path) -> None:
    with Store(tmp_path / "source.db") as source:
        run = source.runs.create(make_suite(n_cases=2, variant_ids=("a",), repeats=1))
        source.samples.write(run.id, [sample("c1", "a", 0), sample("c2", "a", 0)])
        export_run(source, run.id, tmp_path / "before.mdz")
        record_label(source, source.browse.case_samples(run.id, "c1", ("a",))[0].id, passed=False)
        export_run(source, run.id, tmp_path / "after.mdz")
    with Store(tmp_path / "target.db") as target:
        import_run(target, tmp_path / "before.mdz")
        with pytest.raises(StoreError) as refused:
            import_run(target, tmp_path / "after.mdz")
        message = str(refused.value)
        assert "\n" not in message and "after.mdz" in message and f"different run {run.id}" in message
        assert target.runs.count() == 1 and target.labels.verdicts(run.id) == {}
        renamed = import_run(target, tmp_path / "after.mdz", run_id=f"{run.id}-labelled")
        assert renamed.run.id == f"{run.id}-labelled" and target.runs.count() == 2
        with pytest.raises(StoreError, match="not a usable run id"):
            import_run(target, tmp_path / "after.mdz", run_id="latest")


def test_a_run_file_written_before_a_migration_reads_into_a_newer_store(
    rich: tuple[Path, str, Path], tmp_path: Path
) -> None:
    """A file of a mendoza without steps (m007): the columns both have are copied, the others get defaults."""
    source, run_id, run_file = rich
    old = _copy_of(run_file, tmp_path, "old.mdz")
    db = sqlite3.connect(old, isolation_level=None)
    try:
        db.executescript(
            "DROP TABLE steps; ALTER TABLE samples DROP COLUMN failed_step; "
            "ALTER TABLE model_cache DROP COLUMN steps_json; ALTER TABLE model_cache DROP COLUMN metadata_json; "
            "DELETE FROM _migrations WHERE name = 'm007_steps'; DELETE FROM mdz_meta WHERE key = 'rows.steps';"
        )
        digest = _digest(db, "main", run_id, _file_columns(db, "main"))
        db.execute("UPDATE mdz_meta SET value = ? WHERE key = 'digest'", (digest,))
    finally:
        db.close()
    with Store(tmp_path / "new.db") as store, Store(source, readonly=True) as original:
        import_run(store, old)
        assert import_run(store, old).already_there
        assert sum(len(s.steps) for s in store.samples.iterate(run_id, steps=True)) == 0
        assert store.samples.variant_counts(run_id) == original.samples.variant_counts(run_id)


def test_an_export_replaces_the_file_whole_and_leaves_nothing_half_written(
    rich: tuple[Path, str, Path], tmp_path: Path
) -> None:
    source, run_id, _ = rich
    target = tmp_path / "run.mdz"
    target.write_bytes(b"an older file")
    with Store(source, readonly=True) as store:
        export_run(store, run_id, target)
        assert read_run_file(target).run_id == run_id
        with pytest.raises(StoreError) as missing:
            export_run(store, run_id, tmp_path / "no" / "such" / "folder" / "run.mdz")
        assert "\n" not in str(missing.value) and "run.mdz" in str(missing.value)
        with pytest.raises(StoreError, match="the store itself"):
            export_run(store, run_id, source)
        with pytest.raises(StoreError, match="a folder"):
            export_run(store, run_id, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.mdz"]


def test_a_running_store_can_be_exported_while_read_only(rich: tuple[Path, str, Path], tmp_path: Path) -> None:
    source, run_id, _ = rich
    with Store(source) as writer, Store(source, readonly=True) as reader:
        writer.runs.create(make_suite(n_cases=1, variant_ids=("a",), repeats=1))
        info = export_run(reader, run_id, tmp_path / "r.mdz")
    assert info.samples == 24


# -- files that are not good run files ------------------------------------------------------------------------


def _refused(path: Path, store_path: Path) -> str:
    with Store(store_path) as store:
        with pytest.raises(StoreError) as caught:
            import_run(store, path)
        assert store.runs.count() == 0
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    return message


def test_random_bytes_an_empty_file_and_a_missing_file_are_refused(tmp_path: Path) -> None:
    noise = tmp_path / "noise.mdz"
    noise.write_bytes(bytes(range(256)) * 40)
    assert "not an SQLite database" in _refused(noise, tmp_path / "m.db")
    empty = tmp_path / "empty.mdz"
    empty.write_bytes(b"")
    assert "not an SQLite database" in _refused(empty, tmp_path / "m.db")
    assert "no such run file" in _refused(tmp_path / "missing.mdz", tmp_path / "m.db")
    assert "not a regular file" in _refused(tmp_path, tmp_path / "m.db")


@pytest.mark.parametrize("keep", [0.25, 0.5, 0.9, 0.999])
def test_a_truncated_run_file_is_refused(rich: tuple[Path, str, Path], tmp_path: Path, keep: float) -> None:
    _, _, run_file = rich
    data = run_file.read_bytes()
    cut = tmp_path / "cut.mdz"
    cut.write_bytes(data[: int(len(data) * keep)])
    assert "damaged run file" in _refused(cut, tmp_path / "m.db")


def test_a_truncated_file_cut_at_a_page_boundary_is_refused(rich: tuple[Path, str, Path], tmp_path: Path) -> None:
    _, _, run_file = rich
    data = run_file.read_bytes()
    for pages in (1, 2, len(data) // 4096 - 1):
        cut = tmp_path / f"cut{pages}.mdz"
        cut.write_bytes(data[: pages * 4096])
        assert "damaged run file" in _refused(cut, tmp_path / f"m{pages}.db")


def test_a_changed_value_inside_the_file_is_found_by_the_digest(
    rich: tuple[Path, str, Path], tmp_path: Path
) -> None:
    _, _, run_file = rich
    tampered = _copy_of(run_file, tmp_path)
    db = sqlite3.connect(tampered)
    try:
        db.execute("UPDATE grades SET passed = 1 - passed WHERE id = (SELECT MIN(id) FROM grades WHERE passed = 0)")
        db.commit()
    finally:
        db.close()
    assert "does not match the digest" in _refused(tampered, tmp_path / "m.db")
    # flipped bytes in the middle of the file: SQLite's check or the digest finds them
    flipped = _copy_of(run_file, tmp_path, "flipped.mdz")
    data = bytearray(flipped.read_bytes())
    for offset in range(len(data) // 2, len(data) // 2 + 64):
        data[offset] ^= 0x5A
    flipped.write_bytes(bytes(data))
    assert "damaged run file" in _refused(flipped, tmp_path / "m2.db")


def test_a_foreign_sqlite_file_and_a_mendoza_database_are_refused(rich: tuple[Path, str, Path], tmp_path: Path) -> None:
    source, _, _ = rich
    foreign = tmp_path / "foreign.mdz"
    db = sqlite3.connect(foreign)
    db.executescript("CREATE TABLE invoices (id INTEGER, total REAL); CREATE TABLE customers (name TEXT);")
    db.close()
    assert "not a mendoza run file (it holds other tables: customers, invoices)" in _refused(foreign, tmp_path / "m.db")
    blank = tmp_path / "blank.mdz"
    sqlite3.connect(blank).execute("CREATE TABLE t (x)").connection.execute("DROP TABLE t").connection.close()
    assert "not a mendoza run file" in _refused(blank, tmp_path / "m.db")
    store_copy = _copy_of(source, tmp_path, "store.mdz")
    assert "a mendoza database, not a run file" in _refused(store_copy, tmp_path / "m.db")
    other_meta = _copy_of(rich[2], tmp_path, "other.mdz")
    db = sqlite3.connect(other_meta)
    db.execute("UPDATE mdz_meta SET value = 'acme.archive/1' WHERE key = 'format'")
    db.commit()
    db.close()
    assert "not a mendoza run file (format 'acme.archive/1'" in _refused(other_meta, tmp_path / "m.db")


def test_a_newer_format_or_schema_is_refused_with_upgrade_advice(rich: tuple[Path, str, Path], tmp_path: Path) -> None:
    _, _, run_file = rich
    newer = _copy_of(run_file, tmp_path, "newer.mdz")
    db = sqlite3.connect(newer)
    db.execute("UPDATE mdz_meta SET value = 'mendoza.run-file/2' WHERE key = 'format'")
    db.commit()
    db.close()
    message = _refused(newer, tmp_path / "m.db")
    assert "written by a newer mendoza (format mendoza.run-file/2" in message and "upgrade mendoza" in message
    schema = _copy_of(run_file, tmp_path, "schema.mdz")
    db = sqlite3.connect(schema)
    db.execute("INSERT INTO _migrations (name, applied_at) VALUES ('m099_future', '2030-01-01')")
    db.commit()
    db.close()
    assert "written by a newer mendoza (its schema has m099_future" in _refused(schema, tmp_path / "m2.db")


def test_a_header_that_does_not_match_the_rows_is_refused(rich: tuple[Path, str, Path], tmp_path: Path) -> None:
    _, _, run_file = rich
    fewer = _copy_of(run_file, tmp_path, "fewer.mdz")
    db = sqlite3.connect(fewer)
    db.execute("DELETE FROM steps WHERE id = (SELECT MAX(id) FROM steps)")
    db.commit()
    db.close()
    assert "steps: " in _refused(fewer, tmp_path / "m.db")
    two = _copy_of(run_file, tmp_path, "two.mdz")
    db = sqlite3.connect(two)
    db.execute("INSERT INTO runs SELECT 'second', suite_name, suite_hash, suite_json, status, created_at, "
               "finished_at, repeats, variant_ids, n_cases, expected_samples, options_json, notes FROM runs")
    db.commit()
    db.close()
    assert "it holds 2 runs" in _refused(two, tmp_path / "m2.db")


def _copy_steps(tmp_path: Path, n_cases: int) -> int:
    """How many SQLite virtual-machine steps copying a run of ``n_cases`` x 2 variants x 4 repeats takes (a
    count the machine's load does not change)."""
    with Store(tmp_path / f"s{n_cases}.db") as store:
        run = store.runs.create(make_suite(n_cases=n_cases, variant_ids=("a", "b"), repeats=4))
        store.samples.write(run.id, [
            sample(f"c{c}", v, r, steps=(Step("lookup", "tool", span_id="1"),))
            for v in ("a", "b") for c in range(1, n_cases + 1) for r in range(4)
        ])
    db = sqlite3.connect(tmp_path / f"t{n_cases}.db", isolation_level=None)
    try:
        apply_migrations(db)
        db.execute("ATTACH DATABASE ? AS source", (str(tmp_path / f"s{n_cases}.db"),))
        counted = [0]

        def count() -> int:
            counted[0] += 1
            return 0

        db.set_progress_handler(count, 100)
        db.execute("BEGIN")
        _copy_run(db, "source", run.id, run.id)
        db.execute("COMMIT")
    finally:
        db.close()
    return counted[0]


def test_copying_takes_time_in_proportion_to_the_run(tmp_path: Path) -> None:
    """No statement of the copy looks rows up without an index (a run 4 times larger, 4 times the work; a
    quadratic statement would make it 16)."""
    small, large = _copy_steps(tmp_path, 100), _copy_steps(tmp_path, 400)
    assert large < 5 * small, (small, large)


def test_a_broken_schema_or_text_that_is_not_utf8_is_one_line(rich: tuple[Path, str, Path], tmp_path: Path) -> None:
    _, _, run_file = rich
    data = run_file.read_bytes()
    marker = b"duration_ms REAL NOT NULL"  # in the schema text of the steps table, which spans lines
    assert data.count(marker) == 1
    schema = tmp_path / "schema.mdz"
    schema.write_bytes(data.replace(marker, b"`" + marker[1:]))
    assert "damaged run file (malformed database schema" in _refused(schema, tmp_path / "m.db")
    name = b"tablegrader_sets"  # the type and name columns of the table's row in sqlite_master
    assert data.count(name) == 1
    not_utf8 = tmp_path / "not-utf8.mdz"
    not_utf8.write_bytes(data.replace(name, b"tablegrader_s\xf3ts"))
    assert "damaged run file ('utf-8' codec can't decode" in _refused(not_utf8, tmp_path / "m2.db")


def test_a_flipped_bit_anywhere_is_refused_in_one_line_or_changes_nothing(
    rich: tuple[Path, str, Path], tmp_path: Path
) -> None:
    """Most of a fresh file is free space inside its pages, where a flipped bit changes nothing; anywhere
    else, SQLite's check or the digest (before and after the copy) refuses the file."""
    source, run_id, run_file = rich
    data = run_file.read_bytes()
    with Store(source, readonly=True) as original:
        expected = repr(build_report(original, run_id))
    for index, position in enumerate(range(100, len(data), len(data) // 40)):
        flipped = bytearray(data)
        flipped[position] ^= 1 << (index % 8)
        path = tmp_path / f"flip{index}.mdz"
        path.write_bytes(bytes(flipped))
        with Store(tmp_path / f"flip{index}.db") as store:
            try:
                import_run(store, path)
            except StoreError as refused:
                assert "\n" not in str(refused) and str(path) in str(refused)
                assert store.runs.count() == 0
            else:
                assert repr(build_report(store, run_id)) == expected


def test_a_run_goes_from_postgresql_to_a_file_and_back_into_either_store_unchanged(
    rich: tuple[Path, str, Path], tmp_path: Path, postgres_cluster: PostgresCluster
) -> None:
    source, run_id, run_file = rich
    # A run file of an SQLite store, into PostgreSQL: the same run, every output the same.
    with Store(source, readonly=True) as original, Store(postgres_cluster.new_schema()) as server:
        imported = import_run(server, run_file)
        assert imported.run == original.runs.get(run_id) and not imported.already_there
        expected = _everything(original, run_id)
        assert _everything(server, run_id) == expected
        assert import_run(server, run_file).already_there  # again: nothing to do
        # Out of PostgreSQL into a file, and that file into a fresh SQLite store and a fresh server store.
        info = export_run(server, run_id, tmp_path / "from-server.mdz")
        assert read_run_file(tmp_path / "from-server.mdz").digest == info.digest == read_run_file(run_file).digest
    for target in (tmp_path / "fresh.db", postgres_cluster.new_schema()):
        with Store(target) as store:
            import_run(store, tmp_path / "from-server.mdz")
            assert _everything(store, run_id) == expected


def test_a_different_run_with_the_same_id_is_refused_by_a_server_store(
    rich: tuple[Path, str, Path], tmp_path: Path, postgres_cluster: PostgresCluster
) -> None:
    _, run_id, run_file = rich
    with Store(postgres_cluster.new_schema()) as server:
        server.runs.create(make_suite(), run_id)
        with pytest.raises(StoreError, match="already holds a different run"):
            import_run(server, run_file)
        assert server.runs.get(run_id).done_samples == 0  # nothing of the file went in
        assert import_run(server, run_file, run_id="another").run.done_samples > 0
