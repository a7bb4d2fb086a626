"""Text that SQLite can store, and the errors SQLite raises told apart: the machine's (a full disk) from the
data's (one value that cannot be written).

SQLite stores text as UTF-8, and a Python string may hold what UTF-8 cannot encode: a lone UTF-16 surrogate
(``"\\ud800"``), which a model's or an app's output, or a JSON file's ``\\ud800`` escape, can carry. Such a
character is stored as U+FFFD (the replacement character) and the sample (or run) gets a note saying so; a
surrogate pair that encodes one real character is joined into it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from mendoza.errors import DiskError, StoreError

__all__ = ["DATA_ERRORS", "Replacements", "safe_json", "safe_text", "store_error"]

#: What one value (not the database) can raise when it is bound or written: a string UTF-8 cannot encode, an
#: integer too large for SQLite, a type SQLite does not take, a constraint it breaks, a value too big.
DATA_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    TypeError,
    OverflowError,
    RecursionError,
    sqlite3.IntegrityError,
    sqlite3.InterfaceError,
    sqlite3.ProgrammingError,
    sqlite3.DataError,
)

# Primary result codes (``sqlite_errorcode & 0xFF``) that mean the machine failed the write, not the data.
_SQLITE_IOERR = 10
_SQLITE_FULL = 13


def store_error(path: object, action: str, exc: Exception) -> StoreError:
    """The project's error for a failed SQLite call: a ``DiskError`` when the disk is full or failing."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code == _SQLITE_FULL:
        return DiskError(f"{path}: the disk is full ({exc}); free some space")
    if code == _SQLITE_IOERR:
        return DiskError(f"{path}: the disk failed a write ({exc}); check the disk and free some space")
    return StoreError(f"{path}: cannot {action} the database: {exc}")


def safe_text(text: str, *, nul: bool = False) -> tuple[str, int]:
    """``text`` as UTF-8 can store it, and how many characters were replaced (each lone surrogate becomes
    U+FFFD; the usual case, nothing to replace, costs one encode). ``nul``: NUL characters too (PostgreSQL's
    text cannot hold them; SQLite's can)."""
    replaced = 0
    if nul and "\x00" in text:
        replaced = text.count("\x00")
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        fixed = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        return fixed, replaced + fixed.count("\ufffd") - text.count("\ufffd")
    return text, replaced


def safe_json(value: Any) -> tuple[str, int]:
    """``value`` as JSON text UTF-8 can store (see ``safe_text``), and how many characters were replaced."""
    return safe_text(json.dumps(value, ensure_ascii=False, default=str))


@dataclass
class Replacements:
    """Counts the characters replaced in the fields of one record, to note them beside it."""

    fields: dict[str, int] = field(default_factory=dict)
    #: Whether NUL characters are replaced too (the database cannot hold them: PostgreSQL).
    nul: bool = False

    def text(self, value: Any, where: str) -> Any:
        """``value`` made storable when it is a string (other values pass through)."""
        if not isinstance(value, str):
            return value
        fixed, count = safe_text(value, nul=self.nul)
        if count:
            self.fields[where] = self.fields.get(where, 0) + count
        return fixed

    def json(self, value: Any, where: str) -> str | None:
        """``value`` as storable JSON (None stays None)."""
        if value is None:
            return None
        fixed, count = safe_json(value)
        if count:
            self.fields[where] = self.fields.get(where, 0) + count
        return fixed

    def note(self) -> str | None:
        """One line saying what was replaced, or None when nothing was."""
        if not self.fields:
            return None
        total = sum(self.fields.values())
        places = ", ".join(self.fields)
        plural = "s" if total > 1 else ""
        what = f"lone UTF-16 surrogate{plural}, NUL" if self.nul else f"lone UTF-16 surrogate{plural}"
        return f"{total} character{plural} UTF-8 cannot store ({what}) replaced by U+FFFD in: {places}"
