"""The teacher's view: a live table of the class (Textual), and the server's log under it.

The SSH server runs in the app's own event loop; the table is redrawn from the
:class:`~anet_tui.serve.reports.Board` once a second, so a flood of reports costs the teacher's
terminal nothing. Log lines (logins, refusals, dropped reports) are queued by a logging handler
and shown in the panel below the table (and written to a log file: see
:mod:`anet_tui.serve.command`). Enter on a row shows that student's screen, read-only
(:mod:`anet_tui.serve.mirror`).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, RichLog, Static

from anet_tui.serve.reports import COLUMNS, Board

MAX_LOG_LINES = 500
log = logging.getLogger("anet_tui.serve")


class QueueHandler(logging.Handler):
    """Log records, formatted, into a bounded queue the dashboard drains."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: deque[str] = deque(maxlen=MAX_LOG_LINES)
        self.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


class Dashboard(App):
    TITLE = "anet-tui serve"
    CSS = """
    #banner { height: auto; padding: 0 1; background: $boost; }
    #students { height: 2fr; }
    #log { height: 1fr; border-top: solid $primary; }
    """
    BINDINGS: ClassVar = [("ctrl+q", "quit", "stop the class")]
    # Enter on a row: that student's screen, read-only (anet_tui.serve.mirror)

    def __init__(
        self,
        board: Board,
        banner: str = "",
        start: Callable[[], Awaitable[None]] | None = None,
        stop: Callable[[], Awaitable[None]] | None = None,
        handler: QueueHandler | None = None,
        watchable: Callable[[int], Any | None] | None = None,
    ) -> None:
        """``watchable(row)``: the live session of that row of the board, or None."""
        super().__init__()
        self.board, self.banner = board, banner
        self._start, self._stop = start, stop
        self.handler = handler or QueueHandler()
        self.watchable = watchable

    def compose(self) -> ComposeResult:
        yield Static(self.banner, id="banner", markup=False)
        yield DataTable(id="students", cursor_type="row", zebra_stripes=True)
        yield RichLog(id="log", markup=False, wrap=True, max_lines=MAX_LOG_LINES)
        yield Footer()

    async def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        self.set_interval(1.0, self.refresh_rows)
        if self._start is not None:
            await self._start()
        self.refresh_rows()

    async def on_unmount(self) -> None:
        if self._stop is not None:
            await self._stop()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row: watch that student's screen, read-only."""
        key = int(event.row_key.value or 0)
        row = self.board.rows.get(key)
        session = self.watchable(key) if self.watchable is not None else None
        if session is None:
            who = row.name if row is not None else "that row"
            self.notify(f"{who}: no session open now, nothing to watch")
            return
        try:
            from anet_tui.serve.mirror import Mirror, WatchScreen

            mirror = Mirror(session)
        except ImportError:
            log.warning("watching from the table needs pyte: pip install pyte")
            self.notify("watching from the table needs pyte (pip install pyte)")
            return
        log.info("the teacher watches %s from the table (read-only)", session.name)
        self.push_screen(WatchScreen(mirror))
        mirror.start()

    def refresh_rows(self) -> None:
        table = self.query_one(DataTable)
        self.board.prune()
        for key in [key for key in table.rows if int(key.value or 0) not in self.board.rows]:
            table.remove_row(key)
        for key, row in list(self.board.rows.items()):
            cells = row.cells()
            if str(key) in table.rows:
                for column, value in zip(COLUMNS, cells):
                    table.update_cell(str(key), column, value, update_width=True)
            else:
                table.add_row(*cells, key=str(key))
        log = self.query_one(RichLog)
        while self.handler.lines:
            log.write(self.handler.lines.popleft())
