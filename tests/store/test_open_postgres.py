"""Opening a PostgreSQL store: a database of another program or of a newer mendoza is left as it was, a
read-only store reads and never writes, and a wrong address is one line that never shows a password."""

from __future__ import annotations

import psycopg
import pytest

from mendoza.errors import StoreError
from mendoza.store import Store, shown_database
from tests.store.factories import make_suite
from tests.support.postgres import PostgresCluster


def execute(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql)  # type: ignore[arg-type]


def test_a_schema_of_another_program_is_refused_and_left_alone(postgres_cluster: PostgresCluster) -> None:
    url = postgres_cluster.new_schema()
    execute(url, "CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(StoreError, match=r"not a mendoza database \(it holds other tables: invoices\)"):
        Store(url)
    with psycopg.connect(url) as connection:
        tables = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()
    assert tables == [("invoices",)]


def test_a_newer_mendozas_schema_is_refused(postgres_cluster: PostgresCluster) -> None:
    url = postgres_cluster.new_schema()
    Store(url).close()
    execute(url, "INSERT INTO _migrations (name, applied_at) VALUES ('m999_future', 'later')")
    with pytest.raises(StoreError, match="written by a newer mendoza"):
        Store(url)


def test_a_read_only_store_reads_and_refuses_writes(postgres_cluster: PostgresCluster) -> None:
    url = postgres_cluster.new_schema()
    with pytest.raises(StoreError, match="no _migrations table"):
        Store(url, readonly=True)
    with Store(url) as store:
        store.runs.create(make_suite(), "r")
    with Store(url, readonly=True) as reader:
        assert reader.runs.get("latest").id == "r"
        with pytest.raises(StoreError, match="read-only"):
            reader.runs.set_status("r", "complete")
        # Below the store's own check, the server refuses too.
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            reader._db.execute("UPDATE runs SET status = 'complete'")


def test_a_wrong_address_is_one_line_without_the_password(postgres_cluster: PostgresCluster) -> None:
    url = postgres_cluster.url("no_such_database").replace("mendoza@", "mendoza:hunter2secret@")
    with pytest.raises(StoreError) as info:
        Store(url)
    message = str(info.value)
    assert "\n" not in message and "hunter2secret" not in message and "mendoza:***@" in message
    assert "cannot connect to the database" in message and "no_such_database" in message
    assert shown_database(url) == url.replace("hunter2secret", "***")
