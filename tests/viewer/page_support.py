"""What several viewer page tests share: the cells of a page's table rows, and a browser tab's incidents (a
dialog, a page error, a console error or a Content-Security-Policy violation)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

__all__ = ["table_rows", "watch_incidents"]


class _Rows(HTMLParser):
    """The text of each cell of each ``tr`` of one class."""

    def __init__(self, row_class: str) -> None:
        super().__init__()
        self.row_class = row_class
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr" and self.row_class in (dict(attrs).get("class") or ""):
            self.rows.append([])
        elif tag == "td" and self.rows:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table_rows(html: str, row_class: str) -> list[list[str]]:
    """The text of each cell (whitespace folded) of each ``<tr class="... row_class ...">`` of a page."""
    parser = _Rows(row_class)
    parser.feed(html)
    return parser.rows


def watch_incidents(tab: Any) -> list[str]:
    """A list that fills with what goes wrong in a Playwright tab: dialogs (dismissed), page errors, console
    errors and CSP violations. A page test ends with ``assert incidents == []``."""
    incidents: list[str] = []
    tab.on("dialog", lambda dialog: (incidents.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    tab.on("pageerror", lambda error: incidents.append(f"error: {error}"))
    tab.on(
        "console",
        lambda message: (
            incidents.append(f"console: {message.text}")
            if "Content Security Policy" in message.text or message.type == "error"
            else None
        ),
    )
    return incidents
