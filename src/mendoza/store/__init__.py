"""The store: one SQLite file, the only code that speaks SQL."""

from mendoza.store.database import DEFAULT_DB_PATH, CaseCounts, Store, VariantCounts, new_run_id

__all__ = ["DEFAULT_DB_PATH", "CaseCounts", "Store", "VariantCounts", "new_run_id"]
